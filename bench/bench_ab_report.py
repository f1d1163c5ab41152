"""Bench of the A/B report and hypothesis figures over a generated log: medians per step.

    .venv/bin/python bench/bench_ab_report.py                 # 100,000 answers (+4 hypothesis events each)
    .venv/bin/python bench/bench_ab_report.py --answers 1000000 --repeat 1

Target: reading the log into the EventStore plus the per-arm aggregation stays under about 1 s per
500,000 events, with no per-event Python. Measured here (100,000 answers + 400,000 hypothesis events,
126 MB, three alternating runs of each version on 2 loaded cores, medians of 3): when the report and
the hypothesis figures scanned the file themselves, aggregates 0.36-1.08 s + trends 0.39-0.83 s +
summary 0.42-0.63 s on every refresh; from the store, one read of the log 0.61-1.62 s, then aggregates
0.04-0.05 s + trends 0.03-0.16 s + summary 0.02-0.09 s per refresh. A one-shot `ab-report` (read plus
aggregate, 0.68-1.78 s) costs a little more than the old single pass; a dashboard that shares its store
pays only the queries.
Works in a temporary folder and removes it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.analysis import (  # noqa: E402
    Filters,
    compute_ab_report,
    compute_bucket_aggregates,
    compute_hypothesis_pass_rates,
    compute_hypothesis_trends,
    load_bucket_aggregates,
    load_event_store,
)

HYPOTHESES = ("answered_by_model", "latency_within_budget", "quality_above_floor", "embedder_quality_parity")


def write_log(path: Path, answers: int, seed: int = 0) -> int:
    """Response-shaped events and their hypothesis events, written in chunks; returns bytes."""
    rng = np.random.default_rng(seed)
    chunk = 50_000
    with open(path, "w", encoding="utf-8") as handle:
        for start in range(0, answers, chunk):
            n = min(chunk, answers - start)
            sessions = (start + np.arange(n)) // 4
            bucket = np.where(sessions % 2 == 0, "control", "treatment")
            main = rng.random(n) < np.where(bucket == "control", 0.6, 0.5)
            quality = np.clip(rng.normal(np.where(main, 0.82, 0.76), 0.1), 0, 1)
            latency = np.where(main, rng.lognormal(9.3, 0.3, n), rng.lognormal(8.0, 0.4, n))
            seconds = (start + np.arange(n)) // 10
            lines = []
            for i in range(n):
                ts = f"2026-11-25T{seconds[i] // 3600 % 24:02d}:{seconds[i] // 60 % 60:02d}:{seconds[i] % 60:02d}.000Z"
                common = {"schema_version": 1, "ts": ts, "message_id": f"m{start + i}",
                          "session_id": f"s{sessions[i]}", "bucket": str(bucket[i]),
                          "route": "main" if main[i] else "embedder"}
                lines.append(json.dumps({**common, "event_type": "response", "question": "q",
                                         "source": "model", "provider": "sim", "complexity": 0.5,
                                         "boundary": 0.5, "latency_ms": float(latency[i]),
                                         "quality": float(quality[i]), "error_code": None}))
                for h in HYPOTHESES:
                    lines.append(json.dumps({**common, "event_type": "hypothesis", "hypothesis_id": h,
                                             "passed": bool(quality[i] > 0.5)}))
            handle.write("\n".join(lines) + "\n")
    return path.stat().st_size


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "hypotheses.ndjson"
        size = write_log(log, args.answers)
        split = {"control": 0.5, "treatment": 0.5}

        def ingest() -> None:
            load_event_store(log).close()

        store = load_event_store(log)
        aggregates = compute_bucket_aggregates(store)
        rows = [
            ("load_event_store (DuckDB read of the log)", median_time(ingest, args.repeat)),
            ("compute_bucket_aggregates (store query)", median_time(lambda: compute_bucket_aggregates(store),
                                                                    args.repeat)),
            ("load_bucket_aggregates (both)", median_time(lambda: load_bucket_aggregates(log), args.repeat)),
            ("compute_ab_report, unit session", median_time(lambda: compute_ab_report(aggregates, split), args.repeat)),
            ("compute_ab_report, unit answer",
             median_time(lambda: compute_ab_report(aggregates, split, unit="answer"), args.repeat)),
            ("compute_hypothesis_trends (store query)",
             median_time(lambda: compute_hypothesis_trends(store, Filters()), args.repeat)),
            ("compute_hypothesis_pass_rates (store query)",
             median_time(lambda: compute_hypothesis_pass_rates(store, Filters()), args.repeat)),
        ]
        store.close()
        print(f"log: {args.answers:,} answers, {args.answers * (1 + len(HYPOTHESES)):,} events, "
              f"{size / 1e6:.0f} MB; median of {args.repeat}")
        print(f"{'step':<45} {'median s':>9}")
        for name, seconds in rows:
            print(f"{name:<45} {seconds:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
