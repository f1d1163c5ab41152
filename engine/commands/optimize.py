"""`python -m engine optimize [--target-main-share S | --max-quality-loss D] [--router ...] [--json]`: the
boundary that meets a goal on the logged traffic, with its estimate and interval.
"""

from __future__ import annotations

import argparse
import json

from engine.analysis.replay import OptimizeResult, compute_optimize, load_log_events
from engine.commands.replay import add_log_arguments, render_replay
from engine.settings import get_settings

NAME = "optimize"
HELP = "find the boundary that meets a main-share or quality-loss goal on the logged traffic"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_log_arguments(parser)
    goal = parser.add_mutually_exclusive_group(required=True)
    goal.add_argument("--target-main-share", type=float, default=None, help="share of answers to send to main")
    goal.add_argument("--max-quality-loss", type=float, default=None,
                      help="largest drop in mean quality from sending everything to main")


def render_optimize(result: OptimizeResult) -> str:
    reference = ("" if result.reference_quality is None
                 else f" (all to main: quality {result.reference_quality:.3f})")
    head = f"goal {result.goal}{reference}: boundary {result.boundary:.4f} for router {result.router}"
    hint = ("" if result.router != "learned" else
            "\nthe learned router routes at 0.5: retrain with --target-main-share to move its boundary there")
    return head + "\n" + render_replay(result.replay) + hint


def run(args: argparse.Namespace) -> int:
    events = load_log_events(args.log or get_settings().paths.log, include_archives=args.all)
    result = compute_optimize(events, target_main_share=args.target_main_share,
                              max_quality_loss=args.max_quality_loss, router=args.router, model=args.model)
    print(json.dumps(result.to_dict()) if args.json else render_optimize(result))
    return 0
