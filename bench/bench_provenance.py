"""Benchmark of the provenance log: EventSink append throughput (one and two writer processes)
and reading a generated log (full read, read from an offset, tail), with peak memory.

    .venv/bin/python bench/bench_provenance.py                 # 100,000 appends and events, 3 runs
    .venv/bin/python bench/bench_provenance.py --events 1000000 --only read --repeat 3

Every measurement runs in a fresh child process inside a temporary folder (removed at the end),
so peak memory (ru_maxrss) belongs to that measurement alone. Times are medians over --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Peak resident memory of this process alone: VmHWM from /proc (ru_maxrss would include the
# parent's peak, which Linux carries across fork and exec).
PEAK = r"""
def peak_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

# Child: append `count` events through one EventSink after the go file appears; prints its own
# start and end (CLOCK_MONOTONIC is shared by processes on Linux) and its peak RSS.
APPEND_CHILD = PEAK + r"""
import json, os, sys, time
from engine.provenance import EventSink, ResponseEvent
path, writer, count, batch, kind, ready, go = sys.argv[1:8]
count, batch = int(count), int(batch)
def make(n):
    if kind == "model":
        return ResponseEvent(question=f"question {n} from {writer}: what is the capital of France?",
                             bucket="treatment", complexity=0.42, boundary=0.5, route="embedder",
                             source="llama-3.2-1b-instruct-abliterated", provider="sim", simulated=True,
                             latency_ms=1834.5, quality=0.81, message_id=f"{writer}-{n}",
                             session_id="s-1", quality_components={"relevance": 0.8, "length": 0.9})
    return {"event_type": "response", "message_id": f"{writer}-{n}", "session_id": "s-1",
            "question": f"question {n} from {writer}: what is the capital of France?",
            "bucket": "treatment", "complexity": 0.42, "boundary": 0.5, "route": "embedder",
            "source": "llama-3.2-1b-instruct-abliterated", "provider": "sim", "latency_ms": 1834.5,
            "quality": 0.81, "quality_components": {"relevance": 0.8, "length": 0.9}}
# Events are built before the clock starts: the rate is the sink's (encode, lock, write) alone.
if batch == 1:
    work = [make(n) for n in range(count)]
else:
    work = [[make(n) for n in range(first, min(first + batch, count))] for first in range(0, count, batch)]
sink = EventSink(path)
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.0005)
start, cpu = time.monotonic(), time.process_time()
for item in work:
    sink.append(item)
end, cpu = time.monotonic(), time.process_time() - cpu
sink.close()
print(json.dumps({"start": start, "end": end, "cpu": cpu, "peak_mb": peak_mb()}))
"""

# Child: one read of the log; prints seconds, events, skipped lines and peak RSS.
READ_CHILD = PEAK + r"""
import json, sys, time
from engine.provenance import read_events, tail_events
path, mode, arg = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = peak_mb()
start = time.perf_counter()
if mode == "tail":
    result = tail_events(path, arg)
else:
    result = read_events(path, arg)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "events": len(result.events), "skipped": result.skipped,
                  "peak_mb": peak_mb(), "base_mb": base}))
"""


def child_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO_ROOT))


def run_appenders(folder: Path, writers: int, count: int, batch: int, kind: str) -> dict:
    """Start `writers` processes on one log, release them together; aggregate events/s."""
    log = folder / "append.ndjson"
    for leftover in (log, folder / "go"):
        leftover.unlink(missing_ok=True)
    go = folder / "go"
    procs, readies = [], []
    for w in range(writers):
        ready = folder / f"ready{w}"
        ready.unlink(missing_ok=True)
        readies.append(ready)
        procs.append(subprocess.Popen(
            [sys.executable, "-c", APPEND_CHILD, str(log), f"w{w}", str(count), str(batch), kind,
             str(ready), str(go)], env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    deadline = time.monotonic() + 600  # children build their events first (slow on a busy machine)
    while not all(r.exists() for r in readies):
        if time.monotonic() > deadline:
            raise RuntimeError("append children did not start")
        time.sleep(0.005)
    go.touch()
    reports = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(err)
        reports.append(json.loads(out))
    seconds = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    with open(log, "rb") as handle:  # streamed: the parent's memory stays small
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    if lines != writers * count:
        raise RuntimeError(f"expected {writers * count} lines, found {lines}")
    return {"seconds": seconds, "rate": writers * count / seconds,
            "cpu_rate": writers * count / sum(r["cpu"] for r in reports),
            "peak_mb": max(r["peak_mb"] for r in reports)}


def generate_log(path: Path, events: int) -> int:
    """Write `events` response-shaped lines quickly (plain json, 50k per write); returns bytes."""
    template = {"schema_version": 1, "ts": "2026-01-01T00:00:00.000Z", "event_type": "response",
                "message_id": "", "session_id": "", "run_id": None,
                "question": "Explain the trade-offs between consistency and availability.",
                "trait": "general", "answer": "In short, consistency and availability trade off " * 3,
                "bucket": "control", "bucket_value": 0.25, "hash_version": 1, "complexity": 0.6,
                "boundary": 0.5, "route": "main", "router": "complexity",
                "source": "openhermes-2.5-mistral-7b", "provider": "sim", "simulated": True,
                "latency_ms": 11234.5, "tokens": {"prompt": 14, "completion": 120, "total": 134},
                "quality": 0.83, "quality_components": {"relevance": 0.9, "completeness": 0.8},
                "quality_method": "heuristic", "error_code": None, "recipe_id": None,
                "adaptive_enabled": True, "origin": "simulate"}
    with open(path, "wb") as handle:
        chunk: list[str] = []
        for n in range(events):
            template["message_id"] = f"m{n:08d}"
            template["session_id"] = f"s{n % 997}"
            template["bucket"] = "control" if n % 2 else "treatment"
            template["route"] = "main" if n % 3 else "embedder"
            chunk.append(json.dumps(template, separators=(",", ":")))
            if len(chunk) == 50_000:
                handle.write(("\n".join(chunk) + "\n").encode())
                chunk = []
        if chunk:
            handle.write(("\n".join(chunk) + "\n").encode())
    return path.stat().st_size


def offset_of_last(path: Path, last: int) -> int:
    """Byte offset where the last `last` lines start."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        start = max(0, size - (last + 1) * 2048)
        handle.seek(start)
        data = handle.read()
    newlines = [i for i, b in enumerate(data) if b == 0x0A]
    return start + newlines[-last - 1] + 1 if len(newlines) > last else 0


def run_reader(path: Path, mode: str, arg: int) -> dict:
    done = subprocess.run([sys.executable, "-c", READ_CHILD, str(path), mode, str(arg)],
                          env=child_env(), capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout)


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000,
                        help="events in the generated log for the read rows (default 100,000)")
    parser.add_argument("--appends", type=int, default=100_000,
                        help="events each append writer appends (default 100,000)")
    parser.add_argument("--only", choices=("append", "read"), help="run only the append or the read rows")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is shown")
    parser.add_argument("--tail", type=int, default=10_000, help="events for the tail / offset reads")
    args = parser.parse_args(argv)
    n, appends, repeat = args.events, args.appends, max(1, args.repeat)

    print(f"provenance bench: median of {repeat} run(s), python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpu(s), load average {os.getloadavg()[0]:.1f}\n")
    with tempfile.TemporaryDirectory(prefix="aios-bench-") as tmp:
        folder = Path(tmp)
        if args.only != "read":
            bench_appends(folder, appends, repeat)
        if args.only != "append":
            bench_reads(folder, n, min(args.tail, n), repeat)
    return 0


def bench_appends(folder: Path, n: int, repeat: int) -> None:
    rows = []
    for label, writers, batch, kind in [
        ("1 writer, dict per append()", 1, 1, "dict"),
        ("2 writer processes, dict per append()", 2, 1, "dict"),
        ("1 writer, ResponseEvent per append()", 1, 1, "model"),
        ("2 writer processes, ResponseEvent per append()", 2, 1, "model"),
        ("1 writer, batches of 100 dicts", 1, 100, "dict"),
    ]:
        runs = [run_appenders(folder, writers, n, batch, kind) for _ in range(repeat)]
        rows.append((label, f"{writers * n:,}", f"{median([r['rate'] for r in runs]):,.0f}",
                     f"{median([r['cpu_rate'] for r in runs]):,.0f}",
                     f"{median([r['seconds'] for r in runs]):.2f}",
                     f"{max(r['peak_mb'] for r in runs):.0f}"))
    (folder / "append.ndjson").unlink(missing_ok=True)
    print("append through EventSink (flock per append(), one write() per call; events prebuilt)")
    print_table(("case", "events", "events/s", "events/CPU-s", "seconds", "peak MB/proc"), rows)
    print("events/CPU-s: events over the writers' own CPU time (user+sys), which other load on the\n"
          "machine does not inflate; events/s is wall-clock throughput.")
    print()


def bench_reads(folder: Path, n: int, tail: int, repeat: int) -> None:
    log = folder / "read.ndjson"
    started = time.perf_counter()
    size = generate_log(log, n)
    print(f"generated {n:,}-event log: {size / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s")
    offset = offset_of_last(log, tail)
    rows = []
    for label, mode, arg in [("full read (read_events from 0)", "read", 0),
                             (f"read from offset (last {tail:,} events)", "read", offset),
                             (f"tail_events(n={tail:,})", "tail", tail)]:
        runs = [run_reader(log, mode, arg) for _ in range(repeat)]
        if any(r["skipped"] for r in runs):
            raise RuntimeError("the reader skipped lines of a clean log")
        rows.append((label, f"{runs[0]['events']:,}", f"{median([r['seconds'] for r in runs]):.3f}",
                     f"{max(r['peak_mb'] for r in runs):,.0f}",
                     f"{max(r['peak_mb'] - r['base_mb'] for r in runs):,.0f}"))
    print("read (fresh process per run)")
    print_table(("case", "events", "seconds", "peak MB", "added MB"), rows)


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


if __name__ == "__main__":
    sys.exit(main())
