"""`python -m engine train-router (--pairs FILE | --log PATH [--all]) --out PATH [--target-main-share S]`:
learn a router from labelled questions and write a versioned model for `AIOS_ROUTER=learned`. The
training is engine/routing/training.py's; from the log it is the same call as the dashboard's Train button.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from engine.analysis.replay import train_router_from_log
from engine.routing.training import train_router_from_pairs
from engine.settings import get_settings

NAME = "train-router"
HELP = "learn a router from your own labels (a pairs file or the log) and write a versioned model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--pairs", type=Path, help='JSONL: {"question", "trait"?, "main_correct"?, '
                                                   '"embedder_correct"?} a line, at least one outcome')
    source.add_argument("--log", type=Path, help="provenance log to learn from (default: the data dir's log)")
    parser.add_argument("--all", action="store_true", help="with the log: include its rotated archives")
    parser.add_argument("--out", type=Path, required=True, help="where to write the model (JSON)")
    parser.add_argument("--target-main-share", type=float, default=None,
                        help="share the boundary 0.5 sends to main (default: the traffic's own main share)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def render_summary(summary: dict[str, Any], origin: str, out: Path) -> str:
    labels = summary["labels"]
    held = summary.get("held_out") or {}
    sources = ", ".join(f"{k} {v}" for k, v in summary["label_sources"].items())
    lines = [f"learned from {origin}: {summary['size']} questions, {labels['main']} labelled for main, "
             f"{labels['embedder']} for embedder, {summary['both_outcomes']} with both ({sources})",
             f"calibrated: the boundary 0.5 sends {summary['target_main_share']:.1%} of these questions to main"]
    if held:
        apgr = "-" if held.get("apgr") is None else f"{held['apgr']:.3f}"
        share = "-" if held.get("main_share") is None else f"{held['main_share']:.1%}"
        heads = "; ".join(f"{route} head right {h['accuracy']:.1%} of {h['labels']}"
                          for route, h in held.get("heads", {}).items())
        lines.append(f"held out ({held['questions']} questions never trained on, {held['both_outcomes']} with both "
                     f"outcomes): APGR {apgr}, main share at 0.5 {share}; {heads}")
    lines.append(f"model {summary['version']} written to {out} ({summary['seconds']:.1f} s); use it with "
                 f"AIOS_ROUTER=learned AIOS_ROUTER_MODEL={out}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.pairs is not None:
        summary = train_router_from_pairs(args.pairs, args.out, target_main_share=args.target_main_share)
        origin = f"pairs file {args.pairs}"
    else:
        path = args.log or get_settings().paths.log
        summary = train_router_from_log(path, args.out, include_archives=args.all,
                                        target_main_share=args.target_main_share)
        origin = f"log {path}{' and its archives' if args.all else ''}"
    print(json.dumps(summary) if args.json else render_summary(summary, origin, args.out))
    return 0
