"""Overview's figures over a large generated log: the engine's DuckDB store against the naive
json-per-line-into-pandas load, each side in its own subprocess (time and peak RSS).

    .venv/bin/python bench/bench_dashboard.py                 # 1,000,000 events (about 780 MB)
    .venv/bin/python bench/bench_dashboard.py --events 100000 --repeat 3

The generated log is kept in bench/out/ and reused while its size matches. Aim: the engine at
least 10x faster than the naive load, at most 600 MB peak.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ("routing boundary latency quality adaptive bucket treatment control model answer question "
         "python list sort merge river kettle volcano theorem proof network cache index query").split()


def generate_log(path: Path, events: int, seed: int = 11) -> None:
    """Responses (~85 %), hypothesis checks and a few adaptations, about 780 bytes per line."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = 1_764_000_000.0
    answer_words = [" ".join(rng.choice(WORDS) for _ in range(50)) for _ in range(64)]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        batch = []
        for i in range(events):
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + i * 0.5)) + ".000Z"
            bucket = "control" if (i // 3) % 2 == 0 else "treatment"
            kind = i % 20
            if kind == 19:
                event = {"schema_version": 1, "ts": ts, "event_type": "adaptation", "message_id": None,
                         "bucket": "treatment", "old_boundary": 0.5, "new_boundary": 0.49,
                         "quality_delta": 0.06, "samples": {"main": 10, "embedder": 10},
                         "reason": "quality delta above 5 %"}
            elif kind >= 17:
                event = {"schema_version": 1, "ts": ts, "event_type": "hypothesis", "message_id": f"m{i - 1:09d}",
                         "hypothesis_id": "answered", "passed": rng.random() > 0.05, "value": rng.random(),
                         "threshold": 0.5, "bucket": bucket, "route": "main"}
            else:
                complexity = rng.random()
                boundary = 0.5 if bucket == "control" else 0.47
                route = "main" if complexity >= boundary else "embedder"
                failed = rng.random() < 0.02
                event = {
                    "schema_version": 1, "ts": ts, "event_type": "response", "message_id": f"m{i:09d}",
                    "session_id": f"s{i // 3:08d}", "run_id": None,
                    "question": f"How does {rng.choice(WORDS)} relate to {rng.choice(WORDS)} in case {i}?",
                    "trait": rng.choice(("general", "technical", "analytical")),
                    "answer": answer_words[i % 64], "bucket": bucket, "bucket_value": rng.random(),
                    "hash_version": 1, "complexity": round(complexity, 4), "boundary": boundary,
                    "route": route, "router": "complexity",
                    "source": "unknown" if failed else ("openhermes-2.5-mistral-7b" if route == "main"
                                                        else "llama-3.2-1b-instruct-abliterated"),
                    "provider": "sim", "simulated": True,
                    "latency_ms": round(rng.uniform(9000, 16000) if route == "main" else rng.uniform(1500, 4000), 1),
                    "tokens": {"prompt": 40, "completion": 120, "total": 160},
                    "quality": 0.0 if failed else round(rng.uniform(0.55, 0.95), 4),
                    "quality_components": {"coverage": 0.8, "length": 0.9},
                    "quality_method": "heuristic", "error_code": "PROVIDER_TIMEOUT" if failed else None,
                    "recipe_id": None, "adaptive_enabled": True, "origin": "simulate"}
            batch.append(json.dumps(event, separators=(",", ":")))
            if len(batch) >= 10000:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
    tmp.replace(path)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_naive(path: Path) -> dict:
    """What a first dashboard would do: every line json-loaded, one DataFrame, pandas figures."""
    import pandas as pd

    t0 = time.perf_counter()
    with open(path, encoding="utf-8") as handle:
        rows = []
        for line in handle:
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    frame = pd.DataFrame(rows)
    del rows
    responses = frame[frame["event_type"] == "response"]
    split = responses.groupby("bucket").size()
    kind = responses["route"].where(responses["source"] != "unknown", "unknown")
    sources = responses.assign(kind=kind).groupby(["bucket", "kind"]).size()
    passed = (kind != "unknown") & (responses["quality"] >= 0.5)
    figures = {"events": int(len(responses)), "pass_rate": float(passed.mean()),
               "mean_quality": float(responses["quality"].mean()),
               "p50": float(responses["latency_ms"].quantile(0.5)),
               "p95": float(responses["latency_ms"].quantile(0.95)),
               "buckets": int(len(split)), "sources": int(len(sources))}
    return {"seconds": time.perf_counter() - t0, "peak_mb": peak_mb(), "figures": figures}


def child_engine(path: Path) -> dict:
    """The dashboard's path: EventStore refresh, then Overview's compute_* functions."""
    from engine.analysis import (
        EventStore,
        Filters,
        compute_bucket_split,
        compute_headline,
        compute_routing_sources,
    )
    from engine.provenance import EventSink

    t0 = time.perf_counter()
    store = EventStore(path)
    method = store.refresh().method
    head = compute_headline(store, Filters())
    split = compute_bucket_split(store, Filters())
    sources = compute_routing_sources(store, Filters())
    seconds = time.perf_counter() - t0
    figures = {"events": head.events, "pass_rate": head.pass_rate, "mean_quality": head.mean_quality,
               "p50": head.p50_latency_ms, "p95": head.p95_latency_ms, "buckets": len(split),
               "sources": int((sources["bucket"] != "all").sum())}
    # A live refresh after 100 more answers: only the appended bytes are read.
    with open(path, encoding="utf-8") as handle:
        line = json.loads(handle.readline())
    line["ts"] = "2030-01-01T00:00:00.000Z"
    size = path.stat().st_size
    with EventSink(path) as sink:
        sink.append([line] * 100)
    t1 = time.perf_counter()
    stats = store.refresh()
    compute_headline(store, Filters())
    refresh_s = time.perf_counter() - t1
    with open(path, "r+b") as handle:  # leave the generated log as it was for the next run
        handle.truncate(size)
    return {"seconds": seconds, "peak_mb": peak_mb(), "figures": figures,
            "refresh_seconds": refresh_s, "refresh_bytes": stats.bytes_read, "method": method}


def run_child(mode: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; medians are printed")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, path = args.child
        result = (child_naive if mode == "naive" else child_engine)(Path(path))
        print(json.dumps(result))
        return 0

    path = args.out / f"dashboard_{args.events}.ndjson"
    if not path.exists():
        t0 = time.perf_counter()
        generate_log(path, args.events)
        print(f"generated {args.events:,} events ({path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.1f} s: {path}")
    size_mb = path.stat().st_size / 1e6
    runs = {mode: [run_child(mode, path) for _ in range(args.repeat)] for mode in ("engine", "naive")}
    med = {mode: {key: statistics.median(r[key] for r in rs) for key in ("seconds", "peak_mb")}
           for mode, rs in runs.items()}
    engine, naive = runs["engine"][0], runs["naive"][0]
    same = all(abs((engine["figures"][k] or 0) - (naive["figures"][k] or 0)) < 1e-6
               for k in ("events", "pass_rate", "mean_quality", "p50", "p95", "buckets", "sources"))
    print(f"\nOverview figures over {args.events:,} events ({size_mb:.0f} MB), median of {args.repeat} run(s)\n")
    print("| approach | time (s) | peak RSS (MB) |")
    print("|---|---|---|")
    print(f"| naive: json.loads per line + pandas | {med['naive']['seconds']:.2f} | {med['naive']['peak_mb']:.0f} |")
    print(f"| engine: EventStore ({engine['method']}) + compute_* | {med['engine']['seconds']:.2f} | "
          f"{med['engine']['peak_mb']:.0f} |")
    refresh = statistics.median(r["refresh_seconds"] for r in runs["engine"])
    print(f"| engine: live refresh after 100 appended events ({engine['refresh_bytes']:,} bytes read) | "
          f"{refresh:.3f} | - |")
    speedup = med["naive"]["seconds"] / med["engine"]["seconds"]
    print(f"\nspeed-up {speedup:.1f}x (aim >= 10x); engine peak {med['engine']['peak_mb']:.0f} MB "
          f"(aim <= 600 MB); same figures on both sides: {same}")
    print(f"engine figures: {json.dumps(engine['figures'])}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
