"""`python -m engine simulate --n N [--seed S] [--json]`: demo traffic through the loop on the simulator."""

from __future__ import annotations

import argparse
import json
import sys

from tqdm import tqdm

from engine.api import simulate
from engine.loop.simulate import SimulateSummary
from engine.settings import get_settings

NAME = "simulate"
HELP = "send N generated questions of mixed difficulty through the loop on the simulator"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=200, help="number of questions (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the question and session mix")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def render_summary(summary: SimulateSummary) -> str:
    lines = [f"simulated {summary.n} questions in {summary.sessions} sessions ({summary.elapsed_s:.1f} s), "
             f"run {summary.run_id}",
             f"adaptive {'enabled' if summary.adaptive_enabled else 'DISABLED (AIOS_ADAPTIVE_ENABLED=0)'}; "
             f"{summary.adaptations} adaptations; drift at end {summary.final_drift:.3f} "
             f"(max {summary.max_drift:.3f}, SLO 0.08)",
             f"{'bucket':<10} {'sessions':>8} {'questions':>9} {'main %':>7} {'quality':>8} "
             f"{'p50 ms':>8} {'p95 ms':>8} {'boundary':>8} {'accuracy':>9} {'compared':>8}"]
    for name, b in summary.buckets.items():
        accuracy = "-" if b.accuracy is None else f"{100 * b.accuracy:.1f}%"
        lines.append(f"{name:<10} {b.sessions:>8} {b.questions:>9} {100 * b.main_share:>6.1f}% "
                     f"{b.mean_quality:>8.3f} {b.p50_latency_ms:>8.0f} {b.p95_latency_ms:>8.0f} "
                     f"{b.boundary_end:>8.3f} {accuracy:>9} {b.comparisons:>8}")
    lines.append("accuracy: the simulator's own ground truth (right final answer), never used to learn; "
                 "compared: answers also asked of the other model (AIOS_SHADOW_RATE)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    show = not args.no_progress and args.n > 0
    with tqdm(total=args.n, file=sys.stderr, disable=not show, unit="q", desc="simulate") as bar:
        summary = simulate(args.n, seed=args.seed, progress=lambda _result: bar.update(1),
                           settings=get_settings())
    print(json.dumps(summary.to_dict()) if args.json else render_summary(summary))
    return 0
