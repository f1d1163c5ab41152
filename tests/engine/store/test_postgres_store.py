"""PostgreSQL as the shared store, on a real server: the schema is created and versioned by the engine,
answers land in the events table (not the file) with the state in the experiment's row, retries and
re-imports add nothing, concurrent writers (threads and separate processes with separate data folders,
as replicas on other hosts) lose no update, the bandit counts every pull, and the analytics read the
same figures from PostgreSQL as from the file."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import psycopg

from engine.analysis import figures
from engine.analysis.ab_report import compute_bucket_aggregates
from engine.analysis.store import EventStore, Filters
from engine.api import ask, clear_engines
from engine.prompts.bandit.policy import Selection
from engine.prompts.bandit.store import BanditStore
from engine.provenance.sink import EventSink
from engine.routing.state import StateCache, read_state_file, reset_state
from engine.settings import REPO_ROOT, build_settings, reset_settings
from engine.store.migrations import LATEST
from engine.store.postgres import (
    PostgresBanditStore,
    PostgresEventSink,
    PostgresEventStore,
    PostgresStateCache,
    close_pools,
)
from tests.support.serve import start_gateway, stop


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_without_a_store_url_everything_stays_in_files(data_dir):
    settings = build_settings()
    assert type(EventSink(settings.paths.log)) is EventSink
    assert type(BanditStore(settings.paths.bandit_db)) is BanditStore
    assert type(EventStore(settings.paths.log)) is EventStore


def test_store_init_creates_the_versioned_schema_once(store_url):
    first = cli("store", "init", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["schema_version"] == LATEST
    again = cli("store", "status", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["events"] == 0
    assert rows(store_url, "SELECT version FROM aios_schema_version") == [(LATEST,)]
    assert "password" not in again.stdout


def test_answers_go_to_the_store_with_the_state_and_not_to_the_files(store_url, data_dir):
    settings = build_settings()
    assert isinstance(EventSink(settings.paths.log), PostgresEventSink)
    for i in range(12):
        assert ask(question=f"What is {i} plus {i}?", session_id=f"s{i}").event.error_code is None
    clear_engines()
    assert not settings.paths.log.exists() and not settings.paths.adaptive_state.exists()
    counts = dict(rows(store_url, "SELECT event_type, count(*) FROM aios_events GROUP BY event_type"))
    assert counts["response"] == 12
    found = read_state_file(settings.paths.adaptive_state)
    assert found.state is not None and found.problem is None
    per_bucket = dict(rows(store_url, "SELECT bucket, count(*) FROM aios_events WHERE event_type = 'response' "
                                      "GROUP BY bucket"))
    assert {name: b.sample_count for name, b in found.state.buckets.items() if b.sample_count} == per_bucket
    # export-state writes the runbook's file from the store's row.
    out = cli("export-state")
    assert out.returncode == 0, out.stderr
    exported = json.loads(settings.paths.adaptive_state.read_text())
    assert exported == found.document
    # Clearing the state (runbook 004) clears the row: the next answer starts a fresh experiment.
    assert reset_state(settings.paths.adaptive_state) == settings.paths.adaptive_state
    assert read_state_file(settings.paths.adaptive_state).missing
    assert reset_state(settings.paths.adaptive_state) is None


def test_a_retried_append_and_a_reimported_log_add_nothing(store_url, data_dir, tmp_path):
    settings = build_settings()
    reset_settings()
    # Write a log to a file first (a path that is not the settings' log stays a file).
    file_log = tmp_path / "old" / "provenance_log.ndjson"
    plain = EventSink(file_log)
    assert type(plain) is EventSink
    events = [{"event_type": "response", "message_id": f"m{i}", "session_id": "s", "bucket": "control",
               "route": "main", "quality": 0.5, "latency_ms": 10.0} for i in range(50)]
    plain.append(events)
    plain.close()
    first = cli("import-log", str(file_log), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"read": 50, "inserted": 50, "already_stored": 0, "skipped": 0}
    second = cli("import-log", str(file_log), "--json")
    assert json.loads(second.stdout) == {"read": 50, "inserted": 0, "already_stored": 50, "skipped": 0}
    # A sink retrying the very same lines (same encoded bytes) adds nothing either.
    with file_log.open("rb") as handle:
        lines = [json.loads(line) for line in handle]
    sink = EventSink(settings.paths.log)
    sink.append(lines[:10])
    assert rows(store_url, "SELECT count(*) FROM aios_events") == [(50,)]


def test_threads_of_one_process_lose_no_state_update(store_url, data_dir):
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(15):
                ask(question=f"Explain step {i} of proof {k} in detail.", session_id=f"t{k}-{i % 4}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    clear_engines()
    state = read_state_file(build_settings().paths.adaptive_state).state
    assert state is not None
    per_bucket = dict(rows(store_url, "SELECT bucket, count(*) FROM aios_events WHERE event_type = 'response' "
                                      "GROUP BY bucket"))
    assert sum(per_bucket.values()) == 60
    assert {n: b.sample_count for n, b in state.buckets.items() if b.sample_count} == per_bucket


def test_replicas_with_separate_data_folders_share_one_experiment(store_url, tmp_path):
    procs = []
    for replica in range(3):
        folder = tmp_path / f"replica{replica}"
        folder.mkdir()
        env = {**os.environ, "AIOS_DATA_DIR": str(folder), "AIOS_STORE_URL": store_url}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "engine", "simulate", "--n", "40", "--seed", str(replica), "--json",
             "--no-progress"], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    for replica in range(3):
        assert not (tmp_path / f"replica{replica}" / "analytics" / "provenance_log.ndjson").exists()
    per_bucket = dict(rows(store_url, "SELECT bucket, count(*) FROM aios_events WHERE event_type = 'response' "
                                      "GROUP BY bucket"))
    assert sum(per_bucket.values()) == 120
    [(document,)] = rows(store_url, "SELECT document FROM aios_adaptive_state")
    state = json.loads(document)
    assert {n: b["sample_count"] for n, b in state["buckets"].items() if b["sample_count"]} == per_bucket
    [(unique,)] = rows(store_url, "SELECT count(DISTINCT message_id) FROM aios_events WHERE event_type = 'response'")
    assert unique == 120


def test_the_bandit_counts_every_pull_from_concurrent_writers(store_url, data_dir):
    path = build_settings().paths.bandit_db
    store = BanditStore(path)
    assert isinstance(store, PostgresBanditStore)

    errors: list[BaseException] = []

    def pull(k: int) -> None:
        try:
            pull_all()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def pull_all() -> None:
        mine = BanditStore(path)
        for i in range(25):
            mine.record_selection("chatgpt", "coding", Selection(recipe_id=f"r{i % 3}", policy="epsilon_greedy",
                                                                 explored=i % 5 == 0, probability=0.5,
                                                                 epsilon=0.1),
                                  started=0.0, cache_hit=i % 2 == 0)

    threads = [threading.Thread(target=pull, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    snapshot = store.load_snapshot()
    assert sum(n for *_, n in snapshot.selections) == 100
    pulls = sum(a.pulls for _, _, a in store.load_all_arms())
    assert pulls == 100
    assert snapshot.counters == {"cache_hit": 52, "cache_miss": 48}
    assert snapshot.histograms["selection"][2] == 100
    store.record_feedback("chatgpt", "coding", "r0", 1.0, started=0.0)
    stats, _ = store.load_arms("chatgpt", "coding", ["r0"])
    assert stats[0].reward_count == 1 and stats[0].feedback_total == 1


def figure_set(store: EventStore) -> dict[str, object]:
    every = Filters()
    return {
        "count": figures.compute_response_count(store),
        "events": figures.compute_event_counts(store),
        "split": figures.compute_bucket_split(store, every),
        "sources": figures.compute_routing_sources(store, every),
        "headline": figures.compute_headline(store, every),
        "quality": figures.compute_quality_by_bucket_route(store, every),
        "boundary": figures.compute_boundary_over_time(store, every),
        "adaptations": figures.compute_adaptations(store, every),
        "hypotheses": figures.compute_hypothesis_pass_rates(store, every),
        "method": figures.compute_quality_by_method(store, every),
        "correctness": figures.compute_correctness(store, every),
        "ab_report": compute_bucket_aggregates(store),
    }


def assert_same(left: object, right: object, name: str) -> None:
    if isinstance(left, pd.DataFrame):
        assert isinstance(right, pd.DataFrame)
        sort = list(left.columns)
        pd.testing.assert_frame_equal(left.sort_values(sort).reset_index(drop=True),
                                      right.sort_values(sort).reset_index(drop=True), obj=name)
    elif dataclasses.is_dataclass(left) and not isinstance(left, type):
        for spec in dataclasses.fields(left):
            assert_same(getattr(left, spec.name), getattr(right, spec.name), f"{name}.{spec.name}")
    else:
        assert left == right, name


def test_figures_are_identical_from_the_file_and_from_the_store(store_url, data_dir, monkeypatch):
    # The same simulated traffic: first into files (no store), then imported into PostgreSQL.
    monkeypatch.delenv("AIOS_STORE_URL")
    reset_settings()
    simulated = cli("simulate", "--n", "150", "--seed", "3", "--json", "--no-progress",
                    env={"AIOS_STORE_URL": ""})
    assert simulated.returncode == 0, simulated.stderr
    log_path = build_settings().paths.log
    with EventStore(log_path) as from_file:
        from_file.refresh()
        expected = figure_set(from_file)
    imported = cli("import-log", str(log_path), "--json", env={"AIOS_STORE_URL": store_url})
    assert imported.returncode == 0, imported.stderr
    log_path.rename(log_path.with_name("moved-away.ndjson"))  # the store's figures cannot come from the file
    monkeypatch.setenv("AIOS_STORE_URL", store_url)
    reset_settings()
    with EventStore(log_path) as from_store:
        assert isinstance(from_store, PostgresEventStore)
        stats = from_store.refresh()
        assert stats.events_added == json.loads(imported.stdout)["inserted"]
        got = figure_set(from_store)
        assert from_store.refresh().events_added == 0  # incremental: nothing new, nothing read again
    assert expected["count"] == 150
    for name, value in expected.items():
        assert_same(value, got[name], name)


def test_the_state_cache_on_the_store_is_a_state_cache(store_url, data_dir):
    settings = build_settings()
    from engine.routing.adaptive import AdaptiveConfig

    cache = StateCache(settings.paths.adaptive_state, settings.aios_experiment_seed, AdaptiveConfig())
    assert isinstance(cache, PostgresStateCache)
    fresh = cache.load()
    assert all(b.sample_count == 0 for b in fresh.buckets.values())
    cache.save(fresh)
    assert read_state_file(settings.paths.adaptive_state).state is not None
    close_pools()


def test_an_unreachable_store_is_a_clear_error(data_dir, monkeypatch):
    monkeypatch.setenv("AIOS_STORE_URL", "postgresql://aios:secret-pw@127.0.0.1:1/none")
    reset_settings()
    result = cli("store", "status")
    assert result.returncode != 0
    assert "unavailable" in result.stderr and "secret-pw" not in result.stderr + result.stdout
    reset_settings()


def test_paths_other_than_the_settings_ones_stay_files(store_url, tmp_path: Path):
    other = tmp_path / "elsewhere.ndjson"
    sink = EventSink(other)
    assert type(sink) is EventSink
    sink.append({"event_type": "response", "message_id": "x"})
    sink.close()
    assert other.exists()


def test_metrics_on_any_replica_report_the_shared_totals(store_url, data_dir, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from engine.gateway.app import create_app
    from engine.provenance.events import ResponseEvent, Tokens
    from engine.store.postgres import insert_events
    from engine.store.select import store_target

    for i in range(5):
        ask(question=f"What is {i} times 7?", session_id=f"m{i}")
    # Three answers logged by another replica (another host: nothing in this data folder).
    other = [ResponseEvent(message_id=f"other-{i}", session_id="o", question="q", answer="a", bucket="treatment",
                           bucket_value=0.9, complexity=0.2, boundary=0.5, route="embedder", router="complexity",
                           source="sim-embedder", provider="sim", simulated=True, latency_ms=3.0,
                           tokens=Tokens(prompt=1, completion=1, total=2), quality=0.7) for i in range(3)]
    store = store_target()
    assert store is not None
    insert_events(store, other)
    with TestClient(create_app(build_settings())) as client:
        text = client.get("/metrics").text
    totals = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("aios_answers_total{")]
    assert sum(totals) == 8
    assert 'aios_answers_total{bucket="treatment",route="embedder"}' in text


def start_replica(folder: Path, store_url: str) -> tuple[subprocess.Popen[bytes], str]:
    folder.mkdir(parents=True)
    base, proc = start_gateway({"AIOS_DATA_DIR": str(folder), "AIOS_STORE_URL": store_url, "BANDIT_ENABLED": "1"},
                               log=folder.with_suffix(".log"))
    return proc, base


def test_a_replica_killed_mid_run_leaves_every_committed_answer_and_the_others_go_on(store_url, tmp_path):
    import signal

    import httpx

    replicas = [start_replica(tmp_path / f"r{k}", store_url) for k in range(2)]
    victim = replicas[1][0]
    counts = {"attempted": 0, "ok": 0, "after_kill_ok": 0}
    lock = threading.Lock()
    killed = threading.Event()
    work = iter(range(160))

    def client(k: int) -> None:
        base = replicas[k % 2][1]
        with httpx.Client(timeout=30) as http:
            for i in work:
                with lock:
                    counts["attempted"] += 1
                    if counts["attempted"] == 60:
                        victim.send_signal(signal.SIGKILL)
                        killed.set()
                try:
                    r = http.post(base + "/v1/chat/completions", headers={"X-Session-Id": f"u{i % 30}"}, json={
                        "model": "router", "metadata": {"category": "coding", "trait": "technical"},
                        "messages": [{"role": "user", "content": f"What is {i} plus {i + 2}?"}]})
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                    base = replicas[0][1]  # the load balancer sends this client to the survivor
                with lock:
                    counts["ok"] += ok
                    counts["after_kill_ok"] += ok and killed.is_set()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert victim.wait(10) == -signal.SIGKILL
        survivor = replicas[0][1]
        metrics = httpx.get(survivor + "/metrics", timeout=10).text
    finally:
        for proc, _ in replicas:
            stop(proc)
    per_bucket = dict(rows(store_url, "SELECT bucket, count(*) FROM aios_events WHERE event_type = 'response' "
                                      "GROUP BY bucket"))
    total = sum(per_bucket.values())
    assert counts["ok"] <= total <= counts["attempted"] == 160
    assert counts["after_kill_ok"] >= 80, counts  # the survivor went on answering
    [(duplicates,)] = rows(store_url, "SELECT count(*) - count(DISTINCT message_id) FROM aios_events "
                                      "WHERE event_type = 'response'")
    assert duplicates == 0
    [(document,)] = rows(store_url, "SELECT document FROM aios_adaptive_state")
    state = json.loads(document)
    assert {n: b["sample_count"] for n, b in state["buckets"].items() if b["sample_count"]} == per_bucket
    [(pulls,)] = rows(store_url, "SELECT sum(pulls) FROM aios_bandit.arms")
    [(selected,)] = rows(store_url, "SELECT sum(count) FROM aios_bandit.selections")
    assert pulls == selected >= total
    served = [float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("aios_answers_total{")]
    assert sum(served) == total  # the survivor's /metrics counts both replicas' answers


def test_status_counts_the_events_in_the_store(store_url, data_dir):
    for i in range(3):
        ask(question=f"What is {i} minus 1?")
    clear_engines()
    result = cli("status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    [(stored,)] = rows(store_url, "SELECT count(*) FROM aios_events")
    assert status["event_count"] == stored >= 3
    assert status["adaptive"]["treatment"]["sample_count"] + status["adaptive"]["control"]["sample_count"] == 3
