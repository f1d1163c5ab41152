"""`python -m engine stress-test [--n N] [--concurrency C] [--router NAME] [--model PATH] [--url URL] [--json]`:
(a) routing stability: how often a change that should not alter the need for the big model (case,
whitespace, punctuation, a typo, "please"/"thanks") flips the route, per router; (b) a bounded load
through the loop, in-process or against a gateway on loopback: throughput, p50/p99 and error codes.

Bounded in count (--n) and time (--max-seconds): it stops by itself. In-process answers are not
recorded (the log and the adaptive state stay as they were); a gateway records what it serves. The run
is engine/loop/stress.py's, the same that POST /stress-test answers with.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from engine.loop.stress import run_stress_test
from engine.routing.routers import ROUTERS
from engine.settings import get_settings

NAME = "stress-test"
HELP = "route-flip rate under harmless perturbations per router, and a bounded load through the loop"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=200, help="questions to perturb and to send (default 200)")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel requests of the load (default 4)")
    parser.add_argument("--router", choices=sorted(ROUTERS), default=None,
                        help="router to test beside complexity and length (default: AIOS_ROUTER)")
    parser.add_argument("--model", type=Path, default=None, help="the learned router's model")
    parser.add_argument("--url", default=None, help="a gateway on loopback to load instead of the in-process loop")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop the load after this long (default 60)")
    parser.add_argument("--no-load", action="store_true", help="routing stability only")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def render(result: dict[str, Any]) -> str:
    names = result["perturbations"] + ["any"]
    lines = [f"route flips at boundary {result['boundary']} over {result['n']} questions (share that changed route)",
             f"{'router':<36} " + " ".join(f"{n:>11}" for n in names)]
    for router, rates in result["stability"].items():
        lines.append(f"{router:<36} " + " ".join(f"{100 * rates[n]:>10.1f}%" for n in names))
    load = result["load"]
    if load:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(load["errors"].items())) or "none"
        p50 = "-" if load["p50_ms"] is None else f"{load['p50_ms']:.1f}"
        p99 = "-" if load["p99_ms"] is None else f"{load['p99_ms']:.1f}"
        lines.append(f"load ({load['target']}): {load['completed']}/{load['requests']} requests at concurrency "
                     f"{load['concurrency']} in {load['elapsed_s']:.1f} s, {load['throughput_rps']:.1f} req/s, "
                     f"p50 {p50} ms, p99 {p99} ms; errors: {errors}"
                     + ("; stopped at the time limit" if load["stopped_early"] else ""))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    result = run_stress_test(get_settings(), n=args.n, concurrency=args.concurrency, router=args.router,
                             model=args.model, url=args.url, max_seconds=args.max_seconds, load=not args.no_load)
    print(json.dumps(result) if args.json else render(result))
    return 0
