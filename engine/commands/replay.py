"""`python -m engine replay [--log PATH] [--router NAME] [--model PATH] [--boundary B | --target-main-share S]
[--json]`: what a routing policy would have done on the logged traffic (off-policy, from the recorded
route probabilities and shadow comparisons).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.analysis.replay import ReplayResult, compute_replay, load_log_events
from engine.routing.routers import ROUTERS
from engine.settings import get_settings

NAME = "replay"
HELP = "estimate what a router and boundary would have done on the logged traffic"


def add_log_arguments(parser: argparse.ArgumentParser) -> None:
    """--log/--all/--router/--model/--json: shared with `optimize`."""
    parser.add_argument("--log", type=Path, help="provenance log to replay (default: the data dir's log)")
    parser.add_argument("--all", action="store_true", help="include the log's rotated archives")
    parser.add_argument("--router", choices=sorted(ROUTERS), default=None,
                        help="router to replay (default: the one the log used)")
    parser.add_argument("--model", type=Path, default=None, help="the learned router's model (train-router --out)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_log_arguments(parser)
    goal = parser.add_mutually_exclusive_group()
    goal.add_argument("--boundary", type=float, default=None,
                      help="boundary to replay (default: each answer's own logged boundary)")
    goal.add_argument("--target-main-share", type=float, default=None,
                      help="replay the boundary that sends this share to main")


def format_estimate(name: str, estimate: dict) -> str:
    if estimate["value"] is None:
        return f"{name}: no estimate (no answers carry weight under this policy)"
    interval = f"95 % {estimate['low']:.3f}-{estimate['high']:.3f}"
    return f"{name} {estimate['value']:.3f} ({interval}, {estimate['n']} answers)"


def render_replay(result: ReplayResult) -> str:
    data = result.to_dict()
    version = f" {result.router_version}" if result.router_version else ""
    where = "each answer's logged boundary" if result.boundary is None else f"boundary {result.boundary:.4f}"
    share = "-" if result.main_share is None else f"{result.main_share:.1%}"
    lines = [f"replayed {result.events} answers ({result.comparisons} with both outcomes from shadow comparisons), "
             f"router {result.router}{version} at {where}, exploration {result.explore_rate:.1%}",
             f"main share {share}; " + format_estimate("quality", data["quality"]) + "; "
             + format_estimate("accuracy", data["accuracy"]),
             f"effective sample size {result.effective_sample_size:.0f}; the log itself: main share "
             f"{result.logged_main_share:.1%}, quality {result.logged_quality:.3f}"]
    for name, curve in result.curves.items():
        points = " ".join(f"{p['main_share']:.2f}:{p['quality']:.3f}" for p in curve[::4]
                          if p["main_share"] is not None and p["quality"] is not None)
        lines.append(f"curve {name:<10} (main share:quality) {points}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    events = load_log_events(args.log or get_settings().paths.log, include_archives=args.all)
    result = compute_replay(events, router=args.router, model=args.model, boundary=args.boundary,
                            target_main_share=args.target_main_share)
    print(json.dumps(result.to_dict()) if args.json else render_replay(result))
    return 0
