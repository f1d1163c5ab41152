"""The log's other readers on a real PostgreSQL: with AIOS_STORE_URL set the log file stays empty, so
the drill-down's pages and whole messages, replay/optimize/train-router's events and labels, the
bandit backfill, the hypotheses' seeding and `event_logged` must read the store, and give for the same
simulated traffic exactly what they give from the file."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from engine import runbook
from engine.analysis.drilldown import load_event_page, load_message_events
from engine.analysis.replay import compute_labels, compute_optimize, compute_replay, load_log_events
from engine.analysis.store import Filters
from engine.api import clear_engines, simulate
from engine.loop.hypotheses import HypothesisRegistry
from engine.prompts.bandit import ArmStats, Bandit, BanditStore
from engine.prompts.store import RecipeStore
from engine.provenance.reader import event_logged, log_scan_file, read_events, read_log, tail_log
from engine.settings import REPO_ROOT, build_settings, reset_settings
from engine.store.postgres import close_pools, import_lines
from engine.store.select import store_target


def use_store(monkeypatch: pytest.MonkeyPatch, url: str | None) -> None:
    if url is None:
        monkeypatch.delenv("AIOS_STORE_URL", raising=False)
    else:
        monkeypatch.setenv("AIOS_STORE_URL", url)
    clear_engines()
    reset_settings()


@pytest.fixture
def traffic(store_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """200 simulated answers with exploration and shadow comparisons written to the file, the same
    lines imported into the store, and the file moved away (so a reader that still reads the file
    finds nothing). Returns the moved file; the store is in use on return."""
    monkeypatch.setenv("AIOS_EXPLORE_RATE", "0.15")
    monkeypatch.setenv("AIOS_SHADOW_RATE", "0.2")
    use_store(monkeypatch, None)
    settings = build_settings()
    simulate(200, seed=5, settings=settings)
    clear_engines()
    log = settings.paths.log
    use_store(monkeypatch, store_url)
    target = store_target()
    assert target is not None
    with log.open("rb") as handle:
        read, inserted, skipped = import_lines(target, handle)
    assert read == inserted > 200 and skipped == 0
    moved = log.with_name("file-copy.ndjson")
    log.rename(moved)
    return moved


def assert_same_page(left, right, name: str) -> None:
    assert (left.total, left.page, left.pages) == (right.total, right.page, right.pages), name
    pd.testing.assert_frame_equal(left.rows.reset_index(drop=True), right.rows.reset_index(drop=True), obj=name)


def test_drilldown_pages_and_messages_are_the_files_ones(traffic: Path):
    log = build_settings().paths.log
    assert not log.exists()
    events = [json.loads(line) for line in traffic.read_bytes().split(b"\n") if line]
    times = sorted(pd.Timestamp(e["ts"]).tz_convert(None) for e in events if e["event_type"] == "response")
    middle = times[len(times) // 2].to_pydatetime()
    searched = next(e for e in events if e["event_type"] == "response")["question"].split()[-1].strip("?.")
    cases = [
        (Filters(), {}),
        (Filters(), {"sort_by": "quality", "descending": False, "page": 3, "page_size": 20}),
        (Filters(bucket=runbook.TREATMENT), {"page_size": 1000}),
        (Filters(route=runbook.MAIN, trait="general"), {"sort_by": "latency_ms"}),
        (Filters(since=middle), {"sort_by": "complexity", "page_size": 7, "page": 4}),
        (Filters(until=middle, bucket=runbook.CONTROL), {}),
        (Filters(since=middle - timedelta(seconds=1), until=middle + timedelta(seconds=1)), {}),
        (Filters(), {"search": searched.upper()}),
        (Filters(), {"page": 99, "page_size": 30}),
    ]
    for filters, options in cases:
        from_store = load_event_page(log, filters, **options)
        from_file = load_event_page(traffic, filters, **options)
        assert_same_page(from_file, from_store, f"{filters} {options}")
    assert load_event_page(log, Filters()).total == 200
    assert load_event_page(log, Filters(), search=searched).total > 0
    # Whole messages: the response, its hypotheses and its comparison, as the file has them.
    compared = [e["message_id"] for e in events if e["event_type"] == "comparison"][:3]
    assert compared
    for message_id in [*compared, events[0]["message_id"]]:
        whole = load_message_events(log, message_id)
        assert whole == load_message_events(traffic, message_id)
        assert {"response", "comparison"} <= {e["event_type"] for e in whole} or message_id not in compared
    assert load_message_events(log, "no-such-message") == []


def test_the_scan_file_of_the_store_is_narrowed_and_removed(traffic: Path):
    log = build_settings().paths.log
    with log_scan_file(log, event_types={"response"}, equal={"bucket": runbook.CONTROL}) as source:
        assert source != log
        lines = [json.loads(line) for line in source.read_bytes().split(b"\n") if line]
    assert not source.exists()
    expected = [e for e in read_events(traffic).events
                if e["event_type"] == "response" and e["bucket"] == runbook.CONTROL]
    assert lines == expected and lines
    with pytest.raises(KeyError):
        with log_scan_file(log, equal={"question": "x"}):
            pass
    # Any other path is the file itself, untouched.
    with log_scan_file(traffic) as source:
        assert source == traffic


def test_replay_optimize_and_labels_read_the_store(traffic: Path):
    log = build_settings().paths.log
    from_store = load_log_events(log)
    from_file = load_log_events(traffic)
    assert from_store == from_file
    assert sum(e["event_type"] == "comparison" for e in from_store) > 10
    assert compute_replay(from_store, boundary=0.4) == compute_replay(from_file, boundary=0.4)
    assert compute_optimize(from_store, target_main_share=0.3) == compute_optimize(from_file, target_main_share=0.3)
    assert compute_labels(from_store) == compute_labels(from_file) and compute_labels(from_store)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


def test_the_replay_and_train_router_commands_read_the_store(traffic: Path, tmp_path: Path):
    from_store = cli("replay", "--boundary", "0.45", "--json")
    from_file = cli("replay", "--boundary", "0.45", "--json", "--log", str(traffic))
    assert from_store.returncode == 0 and from_file.returncode == 0, from_store.stderr + from_file.stderr
    assert json.loads(from_store.stdout) == json.loads(from_file.stdout)
    assert json.loads(from_store.stdout)["events"] == 200
    trained = [cli("train-router", "--out", str(tmp_path / f"{name}.json"), "--json", *extra)
               for name, extra in (("store", ()), ("file", ("--log", str(traffic))))]
    assert all(t.returncode == 0 for t in trained), [t.stderr for t in trained]
    store_model, file_model = (json.loads(t.stdout) for t in trained)
    assert store_model["size"] == file_model["size"] > 0
    assert store_model["version"] == file_model["version"]


def test_archives_beside_the_log_are_read_once_with_the_store(traffic: Path):
    log = build_settings().paths.log
    before = read_log(log).events
    # An archive the store already holds (imported) adds nothing; one it does not hold adds its events.
    imported = log.parent / f"{log.stem}_20260101T000000Z.ndjson.gz"
    with gzip.open(imported, "wb") as handle:
        handle.write(traffic.read_bytes()[: traffic.read_bytes().find(b"\n", 5000) + 1])
    extra = {"event_type": "response", "message_id": "archived-only", "question": "q", "route": runbook.MAIN,
             "quality": 0.9, "bucket": runbook.CONTROL}
    with gzip.open(log.parent / f"{log.stem}_20260102T000000Z.ndjson.gz", "wb") as handle:
        handle.write(json.dumps(extra).encode() + b"\n")
    assert read_log(log).events == before
    every = read_log(log, include_archives=True).events
    assert every == [extra, *before]
    assert len(load_log_events(log, include_archives=True)) == len(load_log_events(log)) + 1


def test_bandit_backfill_rebuilds_from_the_store(store_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    pair = ("chatgpt", "coding")
    monkeypatch.setenv("BANDIT_ENABLED", "1")
    reports = {}
    for url in (None, store_url):
        use_store(monkeypatch, url)
        settings = build_settings()
        store = BanditStore(settings.paths.bandit_db, ttl_s=0.0)
        bandit = Bandit(settings, RecipeStore(settings), store=store, rng=random.Random(11))
        rewards = random.Random(2)
        for _ in range(30):
            pick = bandit.choose(*pair)
            bandit.feedback(*pair, pick.recipe_id, rewards.choice([0.0, 0.5, 1.0]))
        before = bandit.stats(*pair)["arms"]
        # Lose the statistics, keep the events: the backfill rebuilds them from the log in use.
        store.replace_arms(*pair, {rid: ArmStats(rid) for rid in bandit.arm_ids(*pair)})
        assert all(a["pulls"] == 0 for a in bandit.stats(*pair)["arms"])
        report = bandit.backfill(*pair)
        assert report["events_used"] == 60 and report["events_scanned"] == 60
        assert bandit.stats(*pair)["arms"] == before
        reports[url] = report
        store.close()
        if url is None:  # the file's events out of the way: the store's backfill can only read the store
            settings.paths.log.rename(settings.paths.log.with_name("file-copy.ndjson"))
    assert not build_settings().paths.log.exists()
    assert reports[store_url]["arms"] == reports[None]["arms"]
    close_pools()


def test_hypotheses_seed_from_the_stores_latest_answers(traffic: Path):
    settings = build_settings()
    registry = HypothesisRegistry.from_settings(settings)
    from_file = HypothesisRegistry([])
    for n in (37, 5000):
        seeded_store, seeded_file = HypothesisRegistry([]), HypothesisRegistry([])
        assert seeded_store.seed_from_log(settings.paths.log, n) == seeded_file.seed_from_log(traffic, n) > 0
        assert seeded_store.context == seeded_file.context
    from_file.seed_from_log(traffic)
    assert registry.context == from_file.context
    assert tail_log(settings.paths.log, 10).events == tail_log(traffic, 10).events


def test_event_logged_asks_the_store(traffic: Path):
    log = build_settings().paths.log
    response = next(e for e in read_events(traffic).events if e["event_type"] == "response")
    assert event_logged(log, f"response_{response['message_id']}")
    assert not event_logged(log, f"adaptation_{response['message_id']}")
    assert not event_logged(log, "response_no-such-message")
    assert not event_logged(log, "nonsense")


def test_the_routing_pages_replay_reads_the_store(traffic: Path):
    from engine.analysis.replay import compute_replay_view_logged, load_logged

    boundaries = {runbook.CONTROL: runbook.CONTROL_BOUNDARY, runbook.TREATMENT: 0.4}
    from_store = compute_replay_view_logged(load_logged(build_settings().paths.log), boundaries)
    from_file = compute_replay_view_logged(load_logged(traffic), boundaries)
    assert from_store == from_file and from_store["curves"]
