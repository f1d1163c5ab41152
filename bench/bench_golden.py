"""Golden compare wall time against a loopback OpenAI-compatible server that answers every call
after a fixed delay: with -j N, ten cases should take about ceil(10 / N) x delay.

    .venv/bin/python bench/bench_golden.py [--delay 0.2] [--rounds 5] [--jobs 1 5 10]

Prints a table of medians and exits 0; target: -j 5 takes at most twice the ideal 0.4 s.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.golden.cases import load_baseline, load_golden_set  # noqa: E402
from engine.golden.runner import compare_to_baseline, record_baseline  # noqa: E402
from engine.golden.similarity import LexicalSimilarity  # noqa: E402
from engine.settings import REPO_ROOT, get_settings, reset_settings  # noqa: E402
from tests.support.fake_openai import FakeOpenAIServer  # noqa: E402

TARGET_JOBS, TARGET_FACTOR = 5, 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=0.2, help="server delay per call in seconds")
    parser.add_argument("--rounds", type=int, default=5, help="timed compares per -j value")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 5, 10])
    args = parser.parse_args()

    golden_set = load_golden_set(REPO_ROOT / "data_core" / "goldens" / "sample_set.json")
    n = len(golden_set.cases)
    reply = lambda body: f"A considered answer to: {body['messages'][-1]['content']}"  # noqa: E731
    with tempfile.TemporaryDirectory() as folder, \
            FakeOpenAIServer(models=["main-7b", "small-1b"], reply=reply, delay_s=args.delay) as server:
        os.environ.update(AIOS_DATA_DIR=folder, AIOS_PROVIDER="openai", AIOS_MAIN_MODEL="main-7b",
                          AIOS_EMBEDDER_MODEL="small-1b", AIOS_MAIN_ENDPOINT=server.chat_url,
                          AIOS_EMBEDDER_ENDPOINT=server.chat_url, AIOS_MAX_RETRIES="0")
        reset_settings()
        settings = get_settings()
        baseline_path = Path(folder) / "baseline.json"
        record_baseline(golden_set, baseline_path, settings=settings, jobs=max(args.jobs))
        baseline = load_baseline(baseline_path, golden_set)
        rows = []
        for jobs in args.jobs:
            times, status = [], ""
            for _ in range(args.rounds):
                started = time.perf_counter()
                result = compare_to_baseline(golden_set, baseline, Path(folder) / "last_report.json",
                                             settings=settings, similarity=LexicalSimilarity(), jobs=jobs)
                times.append(time.perf_counter() - started)
                status = result.report["status"]
            ideal = math.ceil(n / jobs) * args.delay
            rows.append((jobs, ideal, statistics.median(times), min(times), max(times), status))

    print(f"golden compare, {n} cases, server delay {args.delay * 1000:.0f} ms per call, "
          f"{args.rounds} rounds each (median)")
    print(f"{'-j':>3}  {'ideal s':>8}  {'median s':>9}  {'min s':>6}  {'max s':>6}  {'x ideal':>7}  status")
    ok = True
    for jobs, ideal, median, low, high, status in rows:
        print(f"{jobs:>3}  {ideal:>8.2f}  {median:>9.3f}  {low:>6.3f}  {high:>6.3f}  {median / ideal:>7.2f}  {status}")
        if jobs == TARGET_JOBS:
            ok = median <= TARGET_FACTOR * ideal
    if TARGET_JOBS in args.jobs:
        print(f"target: -j {TARGET_JOBS} within {TARGET_FACTOR:g}x ideal -> {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
