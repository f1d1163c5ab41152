"""Goldens that know the model's own noise: `--samples K` records each case's run-to-run spread, an
unchanged noisy model passes, truncated answers fail naming the cases, seed and temperature are sent
and recorded, and recording over a baseline keeps the old one as a dated copy."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import datetime, timezone

import pytest

from engine.cli import main
from engine.golden.cases import load_baseline, load_golden_set
from engine.golden.report import CaseRun, compute_run_check, render_report_text
from engine.golden.runner import GOLDEN_SEED, GOLDEN_TEMPERATURE, compare_to_baseline, record_baseline
from engine.golden.similarity import LexicalSimilarity
from engine.golden.spread import Spread, compute_closeness, compute_spread, recorded_answers
from engine.runbook import GOLDEN_THRESHOLD
from engine.settings import get_settings
from tests.engine.golden.fakes import FakeResult
from tests.support.fake_openai import FakeOpenAIServer

# Each case has a few wordings a sampling model moves between; every one is a right answer.
WORDINGS = {
    "dns": ["DNS turns a domain name into an IP address by asking resolvers, root and TLD servers in turn.",
            "A resolver asks the root server, then the TLD server, then the authoritative server for the IP.",
            "The domain name is resolved step by step: root, TLD and authoritative servers give the address."],
    "tuple": ["A tuple is immutable so it can be hashed; a list can change, so it cannot be a dict key.",
              "Lists are mutable and unhashable; tuples are immutable, hashable and fit as dictionary keys.",
              "Use a tuple for fixed records and dict keys (it is hashable), a list for items that change."],
}
CASES = [{"id": "dns", "question": "How does DNS resolve a domain name?", "trait": "technical"},
         {"id": "tuple", "question": "Why is a tuple hashable and a list not?", "trait": "technical"}]


class NoisyModel:
    """Answers each case with its next wording (a model that samples); `cut` keeps only that many words."""

    def __init__(self, cut: int | None = None, start: int = 0) -> None:
        self.cut = cut
        self.counters = {case_id: itertools.count(start) for case_id in WORDINGS}
        self.lock = threading.Lock()

    def __call__(self, case, run_id, session_id):
        with self.lock:
            n = next(self.counters[case.id])
        text = WORDINGS[case.id][n % len(WORDINGS[case.id])]
        if self.cut is not None:
            text = " ".join(text.split()[: self.cut])
        return FakeResult(text, quality=0.8)


@pytest.fixture
def golden_set(tmp_path):
    path = tmp_path / "set.json"
    path.write_text(json.dumps(CASES))
    return load_golden_set(path)


def compare(golden_set, baseline, tmp_path, answers, **kw):
    return compare_to_baseline(golden_set, baseline, tmp_path / "report.json", settings=get_settings(),
                               similarity=LexicalSimilarity(), answer_fn=answers, **kw)


def test_record_keeps_k_samples_and_their_spread(golden_set, tmp_path):
    out = tmp_path / "baseline.json"
    result = record_baseline(golden_set, out, settings=get_settings(), answer_fn=NoisyModel(), samples=3)
    assert result.written and result.samples == 3
    data = json.loads(out.read_text())
    assert data["version"] == 2 and data["samples"] == 3
    entry = data["cases"]["dns"]
    assert [s["answer"] for s in entry["samples"]] == WORDINGS["dns"]
    assert entry["answer"] == WORDINGS["dns"][0]
    spread = entry["spread"]
    assert spread["samples"] == 3 and spread["measure"] == "lexical-cosine"
    assert 0.0 < spread["similarity_floor"] <= spread["similarity_high"] < 1.0
    assert spread["words_min"] <= spread["words_max"]


def test_an_unchanged_noisy_model_passes_against_its_spread_and_fails_against_one_answer(golden_set, tmp_path):
    three = tmp_path / "three.json"
    record_baseline(golden_set, three, settings=get_settings(), answer_fn=NoisyModel(), samples=3)
    one = tmp_path / "one.json"
    record_baseline(golden_set, one, settings=get_settings(), answer_fn=NoisyModel(), samples=1)
    # Nine compares of the same model, each seeing a different wording first.
    for start in range(9):
        report = compare(golden_set, load_baseline(three, golden_set), tmp_path, NoisyModel(start=start)).report
        assert report["status"] == "PASS", report["cases"]
    flagged = 0
    for start in range(9):
        report = compare(golden_set, load_baseline(one, golden_set), tmp_path, NoisyModel(start=start)).report
        flagged += report["summary"]["failed"]
    assert flagged >= 6  # one recorded answer cannot tell noise from change


def test_truncated_answers_fail_naming_the_cases_and_the_spread(golden_set, tmp_path):
    out = tmp_path / "baseline.json"
    record_baseline(golden_set, out, settings=get_settings(), answer_fn=NoisyModel(), samples=3)
    result = compare(golden_set, load_baseline(out, golden_set), tmp_path, NoisyModel(cut=4))
    report = result.report
    assert result.regressed and report["summary"]["regressed"] == ["dns", "tuple"]
    row = report["cases"][0]
    assert any(r.startswith("answer length 4 words, below the shortest recorded") for r in row["reasons"])
    # Four words still share most of their words with a recorded answer: the length gives them away.
    assert row["similarity"] > row["spread"]["similarity_floor"] - GOLDEN_THRESHOLD
    assert row["spread"]["samples"] == 3
    text = render_report_text(report)
    assert "FAIL dns: " in text and "FAIL tuple: " in text


def test_every_case_says_why_it_passed_in_terms_of_the_spread(golden_set, tmp_path):
    out = tmp_path / "baseline.json"
    record_baseline(golden_set, out, settings=get_settings(), answer_fn=NoisyModel(), samples=3)
    report = compare(golden_set, load_baseline(out, golden_set), tmp_path, NoisyModel(start=1)).report
    row = report["cases"][0]
    assert row["why"].startswith("similarity ")
    assert "to the closest of 3 recorded answers (recorded spread " in row["why"]
    assert "fails below" in row["why"] and "words (recorded" in row["why"]
    assert f"  pass dns: {row['why']}" in render_report_text(report)


def test_the_threshold_is_measured_from_the_floor():
    spread = Spread(samples=3, similarity_floor=0.6, similarity_high=0.8, words_min=20, words_max=30,
                    quality_min=0.8, quality_max=0.9)
    run = CaseRun("c", 1, "q?", "general", " ".join(["word"] * 20), "main", "m", "p", False, 1.0, 0.8)
    entry = {"answer": "x", "quality": 0.8}
    just_inside = compute_run_check(run, entry, GOLDEN_THRESHOLD, 0.6 - GOLDEN_THRESHOLD + 0.01, spread=spread)
    just_outside = compute_run_check(run, entry, GOLDEN_THRESHOLD, 0.6 - GOLDEN_THRESHOLD - 0.01, spread=spread)
    assert just_inside.passed and not just_outside.passed
    assert "fell 0.26 below the recorded spread's floor 0.60, more than the threshold 0.25" in just_outside.reasons[0]


def test_one_recorded_answer_keeps_the_old_rule():
    run = CaseRun("c", 1, "q?", "general", "same words here", "main", "m", "p", False, 1.0, 0.8)
    entry = {"answer": "same words here", "quality": 0.8}
    assert compute_run_check(run, entry, GOLDEN_THRESHOLD, 0.76).passed
    failed = compute_run_check(run, entry, GOLDEN_THRESHOLD, 0.74)
    assert not failed.passed and "(the recorded answer) fell 0.26 below the recorded spread's floor 1.00" \
        in failed.reasons[0]


def test_spread_and_closeness_helpers():
    sim = LexicalSimilarity()
    spread = compute_spread(["a b c d", "a b c e", "x y z w"], [0.9, 0.8, 0.7], sim)
    # "x y z w" shares nothing with the others: the floor is its closest sibling's similarity, 0.
    assert spread.similarity_floor == 0.0 and spread.similarity_high == 0.75
    assert (spread.quality_min, spread.quality_max, spread.words_min) == (0.7, 0.9, 4)
    assert compute_closeness("a b c d", ["x y", "a b c d"], sim) == 1.0
    single = compute_spread(["only one"], [0.5], sim)
    assert single.samples == 1 and single.similarity_floor == 1.0


def test_a_hand_edited_baseline_answer_stands_alone():
    entry = {"answer": "edited", "quality": 1.0,
             "samples": [{"answer": "recorded", "quality": 0.8}, {"answer": "other", "quality": 0.8}]}
    assert recorded_answers(entry) == (["edited"], [1.0])
    entry.update(answer="recorded", quality=0.8)
    assert recorded_answers(entry) == (["recorded", "other"], [0.8, 0.8])


def test_record_twice_keeps_the_first_baseline_as_a_dated_file(golden_set, tmp_path):
    out = tmp_path / "goldens" / "baseline_new.json"
    first = record_baseline(golden_set, out, settings=get_settings(), answer_fn=NoisyModel(), samples=1)
    assert first.previous is None
    first_text = out.read_text()
    day = datetime(2026, 3, 1, tzinfo=timezone.utc)
    second = record_baseline(golden_set, out, settings=get_settings(), answer_fn=NoisyModel(start=1), samples=1,
                             now=day)
    assert second.previous == out.with_name("baseline_20260301.json")
    assert second.previous.read_text() == first_text and out.read_text() != first_text
    third = record_baseline(golden_set, out, settings=get_settings(), answer_fn=NoisyModel(), samples=1, now=day)
    assert third.previous == out.with_name("baseline_20260301_2.json")


def test_record_cli_says_it_kept_the_previous_baseline(data_dir, capsys):
    assert main(["golden", "record", "--no-progress", "--samples", "1"]) == 0
    assert "Kept the previous" not in capsys.readouterr().out
    assert main(["golden", "record", "--no-progress", "--samples", "1"]) == 0
    out = capsys.readouterr().out
    kept = list((data_dir / "goldens").glob("baseline_2*.json"))
    assert len(kept) == 1 and f"Kept the previous baseline as {kept[0]} (not overwritten)" in out
    assert "1 sample(s) per case, sent seed 1234, temperature 0.0" in out


def test_seed_and_temperature_are_sent_recorded_and_replayed(golden_set, tmp_path, monkeypatch):
    with FakeOpenAIServer(models=["main-7b", "small-1b"], reply="A steady answer about names and keys.") as server:
        for name, value in dict(AIOS_PROVIDER="openai", AIOS_MAIN_MODEL="main-7b", AIOS_EMBEDDER_MODEL="small-1b",
                                AIOS_MAIN_ENDPOINT=server.chat_url, AIOS_EMBEDDER_ENDPOINT=server.chat_url).items():
            monkeypatch.setenv(name, value)
        from engine.api import clear_engines
        from engine.settings import reset_settings

        reset_settings()
        clear_engines()
        out = tmp_path / "baseline.json"
        record_baseline(golden_set, out, settings=get_settings(), samples=2)
        recorded = server.chat_requests
        assert len(recorded) == 4
        assert all(r.json["seed"] == GOLDEN_SEED and r.json["temperature"] == GOLDEN_TEMPERATURE for r in recorded)
        baseline = load_baseline(out, golden_set)
        assert baseline.sampling == {"seed": GOLDEN_SEED, "temperature": GOLDEN_TEMPERATURE}
        report = compare_to_baseline(golden_set, baseline, tmp_path / "r.json", settings=get_settings(),
                                     similarity=LexicalSimilarity()).report
        assert report["status"] == "PASS" and report["sampling"] == baseline.sampling
        replayed = server.chat_requests[4:]
        assert len(replayed) == 2 and all(r.json["seed"] == GOLDEN_SEED for r in replayed)
        compare_to_baseline(golden_set, baseline, tmp_path / "r.json", settings=get_settings(),
                            similarity=LexicalSimilarity(), sampling={"temperature": 0.7})
        assert all("seed" not in r.json and r.json["temperature"] == 0.7 for r in server.chat_requests[6:])
        clear_engines()
