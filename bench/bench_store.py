"""The shared PostgreSQL store against the files: chats per second through `python -m engine serve` with
1 replica on files, 1 replica on PostgreSQL and 3 replicas on PostgreSQL (each replica its own data
folder, as on separate hosts), and the events table's batched insert throughput. With --kill, one of
the replicas is killed with SIGKILL mid-run; the check then holds for what was committed.

    .venv/bin/python bench/bench_store.py [--chats 600] [--clients 20] [--kill] [--insert 20000]
                                          [--configs files_1,postgres_1,postgres_3]

Starts its own PostgreSQL (Debian's binaries, initdb in a temporary folder; as the postgres user when
run as root). Each run checks: response events == answers acknowledged (no kill) or between the
acknowledged and the attempted ones (kill), the state's per-bucket sample counts == response events
per bucket, bandit pulls == selections == bandit_selection events, and one treatment boundary.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.postgres import postgres_bin, start_postgres  # noqa: E402
from tests.support.serve import start_gateway  # noqa: E402
from tests.support.serve import stop as stop_gateway  # noqa: E402

QUESTIONS = ["What is {i} plus {j}?", "Prove that the sum of the first {i} odd numbers is a square, step by step.",
             "Write a python function that returns the {i}th Fibonacci number modulo {j}.",
             "Explain why {i} divided by {j} leaves the remainder it does."]


def start_store_server(folder: Path) -> tuple[str, Callable[[], None]]:
    bindir = postgres_bin()
    if bindir is None:
        sys.exit("PostgreSQL is not installed (apt-get install postgresql)")
    return start_postgres(bindir, folder / "pg")


def fresh_database(server: str, name: str) -> str:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + "/" + name


def start_replica(folder: Path, store_url: str | None) -> tuple[subprocess.Popen[bytes], str]:
    folder.mkdir(parents=True, exist_ok=True)
    base, proc = start_gateway({"AIOS_DATA_DIR": str(folder), "AIOS_PROVIDER": "sim", "AIOS_SIM_LATENCY_SCALE": "0",
                                "BANDIT_ENABLED": "1", "AIOS_SHADOW_RATE": "0", "AIOS_STORE_URL": store_url})
    return proc, base


def drive(bases: list[str], chats: int, clients: int, kill: subprocess.Popen[bytes] | None) -> dict[str, int | float]:
    """`chats` chats from `clients` threads, client k on replica k % len(bases); returns counts and time."""
    lock = threading.Lock()
    counts = {"attempted": 0, "ok": 0, "failed": 0}
    next_index = iter(range(chats))

    def client(k: int) -> None:
        # Like a load balancer: a client whose replica stops answering moves to the next one (the chat
        # in flight counts as failed, never retried: it may have been committed).
        turn = k
        base = bases[turn % len(bases)]
        with httpx.Client(timeout=30) as http:
            while True:
                with lock:
                    i = next(next_index, None)
                    if i is None:
                        return
                    counts["attempted"] += 1
                question = QUESTIONS[i % len(QUESTIONS)].format(i=i % 97 + 2, j=i % 13 + 2)
                try:
                    r = http.post(base + "/v1/chat/completions", headers={"X-Session-Id": f"u{i % 400}"}, json={
                        "model": "router", "metadata": {"category": "coding", "trait": "technical"},
                        "messages": [{"role": "user", "content": question}]})
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                    turn += 1
                    base = bases[turn % len(bases)]
                with lock:
                    counts["ok" if ok else "failed"] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    if kill is not None:
        while counts["attempted"] < chats // 2:
            time.sleep(0.01)
        kill.send_signal(signal.SIGKILL)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {**counts, "seconds": round(elapsed, 2), "chats_per_s": round(counts["ok"] / elapsed, 1)}


def check_store(url: str, counts: dict[str, int | float], killed: bool) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        responses = dict(conn.execute("SELECT bucket, count(*) FROM aios_events WHERE event_type = 'response' "
                                      "GROUP BY bucket").fetchall())
        selections_logged = conn.execute("SELECT count(*) FROM aios_events "
                                         "WHERE event_type = 'bandit_selection'").fetchone()[0]
        [document] = conn.execute("SELECT document FROM aios_adaptive_state").fetchone()
        pulls = conn.execute("SELECT coalesce(sum(pulls), 0) FROM aios_bandit.arms").fetchone()[0]
        selections = conn.execute("SELECT coalesce(sum(count), 0) FROM aios_bandit.selections").fetchone()[0]
        duplicates = conn.execute("SELECT count(*) - count(DISTINCT message_id) FROM aios_events "
                                  "WHERE event_type = 'response'").fetchone()[0]
    state = json.loads(document)
    samples = {name: b["sample_count"] for name, b in state["buckets"].items() if b["sample_count"]}
    total = sum(responses.values())
    low, high = int(counts["ok"]), int(counts["attempted"])
    return {
        "response_events": total,
        "events_match_answers": (low <= total <= high) if killed else total == low,
        "state_samples_match_events": samples == responses,
        "bandit_pulls": int(pulls), "bandit_selections": int(selections), "bandit_selection_events": selections_logged,
        "bandit_consistent": int(pulls) == int(selections),
        "treatment_boundary": state["buckets"]["treatment"]["boundary"],
        "duplicate_responses": duplicates,
    }


def bench_insert(url: str, events: int) -> dict[str, float]:
    from engine.provenance.events import ResponseEvent, Tokens
    from engine.store.postgres import close_pools, insert_events
    from engine.store.select import StoreTarget

    target = StoreTarget(url, 2, "bench")
    out: dict[str, float] = {}
    for batch in (1, 100, 1000):
        total = events if batch > 1 else min(events, 2000)
        made = [ResponseEvent(message_id=f"b{batch}-{i}", session_id="s", question="q", answer="a", bucket="control",
                              bucket_value=0.1, complexity=0.3, boundary=0.5, route="main", router="complexity",
                              source="sim-main", provider="sim", simulated=True, latency_ms=1.0,
                              tokens=Tokens(prompt=3, completion=4, total=7), quality=0.8)
                for i in range(total)]
        started = time.perf_counter()
        for i in range(0, total, batch):
            insert_events(target, made[i:i + batch])
        out[f"events_per_s_batch_{batch}"] = round(total / (time.perf_counter() - started))
    close_pools()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=600)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--kill", action="store_true", help="SIGKILL one of the 3 replicas half-way")
    parser.add_argument("--insert", type=int, default=20000, help="events for the insert throughput (0: skip)")
    parser.add_argument("--configs", default="files_1,postgres_1,postgres_3",
                        help="which of files_1, postgres_1, postgres_3 to run (comma-separated)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="aios-bench-store-"))
    server, stop = start_store_server(folder)
    results: dict[str, object] = {}
    try:
        if args.insert:
            results["insert"] = bench_insert(fresh_database(server, "insert_bench"), args.insert)
        wanted = set(args.configs.split(","))
        for name, replicas, on_pg in (("files_1", 1, False), ("postgres_1", 1, True), ("postgres_3", 3, True)):
            if name not in wanted:
                continue
            url = fresh_database(server, name) if on_pg else None
            procs = [start_replica(folder / name / f"r{k}", url) for k in range(replicas)]
            victim = procs[-1][0] if args.kill and replicas == 3 else None
            try:
                counts = drive([base for _, base in procs], args.chats, args.clients, victim)
            finally:
                for proc, _ in procs:
                    stop_gateway(proc)
            entry: dict[str, object] = dict(counts)
            if url:
                entry.update(check_store(url, counts, victim is not None))
            results[name] = entry
            print(name, json.dumps(entry), flush=True)
        if "files_1" in results:
            files = float(results["files_1"]["chats_per_s"])  # type: ignore[index]
            results["ratios_vs_files_1"] = {name: round(float(results[name]["chats_per_s"]) / files, 2)  # type: ignore[index]
                                            for name in ("postgres_1", "postgres_3") if name in results}
        print(json.dumps({k: results[k] for k in ("insert", "ratios_vs_files_1") if k in results}))
    finally:
        stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
