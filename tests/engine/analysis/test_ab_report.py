"""ab-report on simulator traffic: intervals contain the directly measured differences, SRM fires on
a thinned log, small logs say "not enough data"; hypothesis pass-rate trends and summaries."""

from __future__ import annotations

import json
import math
import random

import pytest

from engine import analysis
from engine.analysis import ab_report
from engine.api import clear_engines, simulate
from engine.cli import main
from engine.provenance import HypothesisEvent, ResponseEvent, read_events
from engine.settings import get_settings


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory) -> list[dict]:
    """One simulated run shared by the module's tests (the events, as written)."""
    from engine.settings import reset_settings

    folder = tmp_path_factory.mktemp("simlog")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIOS_DATA_DIR", str(folder))
        patch.setenv("AIOS_PROVIDER", "sim")
        patch.setenv("AIOS_SIM_LATENCY_SCALE", "0")
        reset_settings()
        simulate(400, seed=3, settings=get_settings())
        clear_engines()
    reset_settings()
    lines = (folder / "analytics" / "hypotheses.ndjson").read_text().splitlines()
    return [json.loads(line) for line in lines]


def write_log(path, events: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def run_json(capsys, *argv) -> dict:
    assert main(["ab-report", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def by_bucket(events: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"control": [], "treatment": []}
    for e in events:
        if e["event_type"] == "response":
            out[e["bucket"]].append(e)
    return out


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


DIRECT = {
    "quality": lambda e: e["quality"],
    "pass_rate": lambda e: 1.0 if e["source"] != "unknown" and e["error_code"] is None and e["quality"] >= 0.5 else 0.0,
    "latency_ms": lambda e: e["latency_ms"],
    "main_share": lambda e: 1.0 if e["route"] == "main" else 0.0,
}


def constant(arms: dict[str, list[dict]], value) -> bool:
    """The metric has one value across both arms (no variance to test)."""
    return len({value(e) for events in arms.values() for e in events}) == 1


def session_sums(events: list[dict], value) -> tuple[list[int], list[float]]:
    """Answers and metric sums per session, measured directly from the events."""
    counts: dict[str, int] = {}
    sums: dict[str, float] = {}
    for e in events:
        counts[e["session_id"]] = counts.get(e["session_id"], 0) + 1
        sums[e["session_id"]] = sums.get(e["session_id"], 0.0) + value(e)
    return [counts[k] for k in counts], [sums[k] for k in counts]


def test_report_on_simulator_traffic_contains_the_directly_measured_differences(sim_log, capsys, data_dir):
    write_log(get_settings().paths.log, sim_log)
    report = run_json(capsys)
    arms = by_bucket(sim_log)
    assert report["analysis_unit"] == "session" and "session" in report["analysis_unit_note"]
    assert report["answers"] == {"control": len(arms["control"]), "treatment": len(arms["treatment"])}
    assert report["units"] == {b: len({e["session_id"] for e in arms[b]}) for b in arms}
    metrics = {m["metric"]: m["result"] for m in report["metrics"]}

    for name, value in DIRECT.items():
        control = mean(value(e) for e in arms["control"])
        treatment = mean(value(e) for e in arms["treatment"])
        result = metrics[name]
        if constant(arms, value):  # e.g. every simulated answer passes: nothing to compare
            assert result["enough"] is False and "zero variance" in result["reason"]
            continue
        assert result["enough"] is True
        diff, lift = treatment - control, treatment / control - 1
        assert result["diff"] == pytest.approx(diff, rel=1e-9, abs=1e-12)
        assert result["diff_ci"][0] <= diff <= result["diff_ci"][1]
        assert result["lift"] == pytest.approx(lift, rel=1e-9, abs=1e-12)
        assert result["lift_ci"][0] <= lift <= result["lift_ci"][1]
        assert 0 <= result["p_value"] <= 1 and result["mde"] > 0

    share_c = mean(DIRECT["main_share"](e) for e in arms["control"])
    share_t = mean(DIRECT["main_share"](e) for e in arms["treatment"])
    verdict = report["verdict"]
    assert verdict["kind"] == "result"
    assert verdict["main_call_saving"] == pytest.approx(1 - share_t / share_c)
    low, high = verdict["main_call_saving_ci"]
    assert low <= 1 - share_t / share_c <= high
    assert f"{abs(1 - share_t / share_c) * 100:.1f} %" in verdict["text"]
    assert "quality difference of" in verdict["text"]
    assert report["srm"]["checked"] is True and report["srm"]["alert"] is False


def test_the_duckdb_pass_gives_the_per_session_and_per_answer_sums_of_the_events(sim_log, data_dir):
    from engine.analysis.stats import ArmStats, RatioSums

    log = data_dir / "sim.ndjson"
    write_log(log, sim_log)
    aggregates = ab_report.load_bucket_aggregates(log)
    arms = by_bucket(sim_log)
    assert max(session_sums(arms["control"], DIRECT["quality"])[0]) > 1  # the simulator's sessions have several answers
    for bucket, events in arms.items():
        for name, value in DIRECT.items():
            expected = RatioSums.of(*session_sums(events, value))
            got = aggregates.sessions[bucket][name]
            assert (got.n, got.count, got.count_sq) == (expected.n, expected.count, expected.count_sq)
            for field in ("total", "total_sq", "cross"):
                assert getattr(got, field) == pytest.approx(getattr(expected, field), rel=1e-12), (bucket, name, field)
            per_answer = ArmStats.of([value(e) for e in events])
            assert aggregates.arms[bucket][name].n == per_answer.n
            assert aggregates.arms[bucket][name].total_sq == pytest.approx(per_answer.total_sq, rel=1e-12)


def test_unit_flag_switches_between_session_and_answer_figures(sim_log, capsys, data_dir):
    from engine.analysis.stats import ArmStats, RatioSums, compute_ratio_comparison, compute_welch

    write_log(get_settings().paths.log, sim_log)
    arms = by_bucket(sim_log)
    by_session = {m["metric"]: m for m in run_json(capsys)["metrics"]}
    answer_report = run_json(capsys, "--unit", "answer")
    assert answer_report["analysis_unit"] == "answer"
    by_answer = {m["metric"]: m for m in answer_report["metrics"]}
    pair = ("control", "treatment")
    for name, value in DIRECT.items():
        session, answer = by_session[name], by_answer[name]
        if constant(arms, value):
            assert session["result"]["enough"] is answer["result"]["enough"] is False
            continue
        welch = compute_welch(*(ArmStats.of([value(e) for e in arms[b]]) for b in pair))
        ratio = compute_ratio_comparison(*(RatioSums.of(*session_sums(arms[b], value)) for b in pair))
        assert session["analysis_unit"] == session["result"]["analysis_unit"] == "session"
        assert answer["result"]["analysis_unit"] == "answer"
        assert session["result"]["n_control"] == ratio.n_control == len({e["session_id"] for e in arms["control"]})
        assert answer["result"]["n_control"] == len(arms["control"])
        assert session["result"]["diff"] == pytest.approx(answer["result"]["diff"], rel=1e-9, abs=1e-12)
        for key in ("se", "df", "p_value"):
            assert session["result"][key] == pytest.approx(getattr(ratio, key), rel=1e-9), (name, key)
            assert answer["result"][key] == pytest.approx(getattr(welch, key), rel=1e-9), (name, key)
        assert session["design_effect"] == pytest.approx((ratio.se / welch.se) ** 2, rel=1e-9)
    assert main(["ab-report"]) == 0
    assert "unit of analysis: session" in capsys.readouterr().out
    assert main(["ab-report", "--unit", "answer"]) == 0
    assert "unit of analysis: answer" in capsys.readouterr().out


def test_srm_alerts_on_a_log_where_one_buckets_sessions_were_thinned(sim_log, capsys, data_dir):
    rng = random.Random(7)
    treatment_sessions = sorted({e["session_id"] for e in sim_log if e.get("bucket") == "treatment"})
    dropped = set(rng.sample(treatment_sessions, int(len(treatment_sessions) * 0.85)))
    thinned = [e for e in sim_log if e.get("session_id") not in dropped]
    log = data_dir / "thinned.ndjson"
    write_log(log, thinned)
    report = run_json(capsys, "--log", str(log))
    srm = report["srm"]
    assert srm["checked"] and srm["alert"] and srm["p_value"] < 0.001
    assert srm["observed"]["treatment"] == len(treatment_sessions) - len(dropped)
    assert report["verdict"]["kind"] == "srm"
    assert "SAMPLE RATIO MISMATCH" in report["verdict"]["text"]


def response(i: int, bucket: str, quality: float, route: str = "main", **extra) -> dict:
    return ResponseEvent(question=f"q{i}", bucket=bucket, complexity=0.5, boundary=0.5, route=route,
                         source="m", provider="sim", simulated=True,
                         latency_ms=1000.0 + i, quality=quality, message_id=f"m{i}",
                         session_id=f"s{i}", **extra).model_dump()


def test_a_small_log_says_not_enough_data_with_how_many_more(capsys, data_dir):
    events = [response(i, "control" if i % 2 else "treatment", 0.5 + 0.01 * i) for i in range(6)]
    write_log(get_settings().paths.log, events)
    report = run_json(capsys)
    assert report["verdict"]["kind"] == "not_enough_data"
    assert report["verdict"]["need_more"] == 2 * ab_report.MIN_ANSWERS_PER_ARM - 6
    assert "need about 54 more answers" in report["verdict"]["text"]
    assert report["srm"]["checked"] is False  # fewer than 8 sessions per arm


def test_empty_missing_and_constant_logs_never_crash_or_show_nan(capsys, data_dir):
    report = run_json(capsys)  # no log at all
    assert report["answers"] == {"control": 0, "treatment": 0}
    assert all(m["result"]["enough"] is False for m in report["metrics"])
    events = [response(i, "control" if i % 2 else "treatment", 0.8) for i in range(80)]
    write_log(get_settings().paths.log, events)
    report = run_json(capsys)  # every quality identical: zero variance in both arms
    quality = next(m for m in report["metrics"] if m["metric"] == "quality")
    assert quality["result"]["enough"] is False and "zero variance" in quality["result"]["reason"]
    assert report["verdict"]["kind"] == "not_enough_data"
    assert main(["ab-report"]) == 0
    text = capsys.readouterr().out
    assert "nan" not in text.lower() and "not enough data" in text


def test_unreadable_lines_and_golden_answers_are_left_out(data_dir):
    rng = random.Random(1)
    events = [response(i, "control" if i % 2 else "treatment", rng.random()) for i in range(100)]
    golden = [response(1000 + i, "control", 0.1, origin="golden") for i in range(20)]
    log = get_settings().paths.log
    log.parent.mkdir(parents=True)
    with open(log, "w") as handle:
        for e in events[:50]:
            handle.write(json.dumps(e) + "\n")
        handle.write("{not json\n")
        for e in events[50:] + golden:
            handle.write(json.dumps(e) + "\n")
        handle.write('{"event_type": "respo')  # a write in progress
    aggregates = ab_report.load_bucket_aggregates(log)
    assert aggregates.unreadable_lines == 2
    assert aggregates.answers == {"control": 50, "treatment": 50}
    control = [e["quality"] for e in events if e["bucket"] == "control"]
    arm = aggregates.arms["control"]["quality"]
    assert arm.n == 50 and arm.total == pytest.approx(sum(control))
    assert arm.total_sq == pytest.approx(sum(q * q for q in control))
    with_golden = ab_report.load_bucket_aggregates(log, include_golden=True)
    assert with_golden.answers["control"] == 70


def test_expected_split_follows_the_adaptive_state(data_dir, caplog):
    from engine.routing.adaptive import AdaptiveConfig, AdaptiveState
    from engine.routing.state import save_state

    settings = get_settings()
    assert ab_report.load_expected_split(settings) == {"control": 0.5, "treatment": 0.5}
    save_state(settings.paths.adaptive_state, AdaptiveState.fresh("seed", AdaptiveConfig(control_bucket_pct=0.3)))
    split = ab_report.load_expected_split(settings)
    assert split["control"] == 0.3 and split["treatment"] == pytest.approx(0.7)
    # A state without buckets is no state: the runbook's default split, with a warning saying why.
    settings.paths.adaptive_state.write_text(json.dumps({"config": {"control_bucket_pct": 0.3}, "buckets": {}}))
    assert ab_report.load_expected_split(settings) == {"control": 0.5, "treatment": 0.5}
    assert "buckets.treatment.boundary" in caplog.text


def hypothesis_events() -> list[dict]:
    out = []
    for minute in range(3):
        for i in range(10):
            ts = f"2026-01-01T10:{minute:02d}:{i * 5:02d}.000Z"
            out.append(HypothesisEvent(ts=ts, hypothesis_id="fast", passed=i < 8 - minute * 2,
                                       message_id=f"m{minute}{i}").model_dump())
            out.append(HypothesisEvent(ts=ts, hypothesis_id="broken", passed=None,
                                       error=f"raised ZeroDivisionError: boom {minute}",
                                       message_id=f"m{minute}{i}").model_dump())
    return out


def test_hypothesis_trends_per_time_bin_and_hypothesis(data_dir):
    log = data_dir / "h.ndjson"
    write_log(log, hypothesis_events())
    trends = ab_report.load_hypothesis_trends(log, bin_seconds=60)
    fast = trends[trends["hypothesis_id"] == "fast"]
    assert list(fast["checks"]) == [10, 10, 10]
    assert [float(r) for r in fast["pass_rate"]] == [0.8, 0.6, 0.4]
    broken = trends[trends["hypothesis_id"] == "broken"]
    assert list(broken["errors"]) == [10, 10, 10] and all(r is None for r in broken["pass_rate"])
    auto = ab_report.load_hypothesis_trends(log)  # a 3-minute span: 5-second bins or wider
    assert auto["checks"].sum() == 60 and len(auto) <= 2 * analysis.MAX_BINS


def test_hypothesis_summary_reports_broken_hypotheses_with_their_last_error(data_dir):
    log = data_dir / "h.ndjson"
    write_log(log, hypothesis_events())
    summary = ab_report.load_hypothesis_summary(log).set_index("hypothesis_id")
    assert summary.loc["fast", "checks"] == 30 and summary.loc["fast", "passed"] == 18
    assert summary.loc["fast", "pass_rate"] == pytest.approx(0.6)
    assert summary.loc["fast", "ci_low"] < 0.6 < summary.loc["fast", "ci_high"]
    assert summary.loc["fast", "last_error"] is None
    assert summary.loc["broken", "errors"] == 30 and summary.loc["broken", "pass_rate"] is None
    assert summary.loc["broken", "last_error"] == "raised ZeroDivisionError: boom 2"


def test_broken_hypothesis_in_the_loop_is_logged_and_the_others_still_run(data_dir):
    from engine.loop import hypotheses as hyp

    class Explodes(hyp.Hypothesis):
        id = "test_explodes"
        description = "raises on every answer"

        def check(self, event, context):
            raise RuntimeError("kaput")

    before = dict(hyp.HYPOTHESES)
    hyp.register_hypothesis(Explodes)
    clear_engines()  # engines own their hypotheses: a new one sees the registered class
    try:
        simulate(12, seed=1, settings=get_settings())
    finally:
        hyp.HYPOTHESES.clear()
        hyp.HYPOTHESES.update(before)
        clear_engines()
    summary = ab_report.load_hypothesis_summary(get_settings().paths.log).set_index("hypothesis_id")
    assert summary.loc["test_explodes", "errors"] == 12
    assert "RuntimeError: kaput" in summary.loc["test_explodes", "last_error"]
    assert summary.loc["answered_by_model", "checks"] == 12
    assert summary.loc["answered_by_model", "passed"] == 12
    responses = read_events(get_settings().paths.log, event_types={"response"}).events
    assert len(responses) == 12


def test_no_value_in_the_json_is_nan_or_infinite(sim_log, capsys, data_dir):
    write_log(get_settings().paths.log, sim_log[:40])
    report = run_json(capsys)

    def walk(value):
        if isinstance(value, float):
            assert math.isfinite(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(report)


@pytest.mark.parametrize("unit", ["session", "answer"])
def test_verdict_states_more_main_calls_with_an_interval_in_the_same_direction(unit):
    import numpy as np

    from engine.analysis.stats import ArmStats, RatioSums

    def arm(main_share: float, sessions: int = 100, per_session: int = 4) -> tuple[dict, dict]:
        """Per-answer values of one arm, in sessions of `per_session` answers, and their sums."""
        n = sessions * per_session
        rng = np.random.default_rng(round(main_share * 100))
        values = {"quality": rng.normal(0.8, 0.1, n), "pass_rate": (np.arange(n) % 20 != 0).astype(float),
                  "latency_ms": rng.normal(5000.0, 400.0, n),
                  "main_share": (np.arange(n) < round(main_share * n)).astype(float)}
        counts = np.full(sessions, per_session)
        return ({k: ArmStats.of(v) for k, v in values.items()},
                {k: RatioSums.of(counts, v.reshape(sessions, per_session).sum(1)) for k, v in values.items()})

    (control, control_s), (treatment, treatment_s) = arm(0.5), arm(0.6)
    aggregates = ab_report.BucketAggregates({"control": control, "treatment": treatment},
                                            {"control": 100, "treatment": 100}, {"control": 400, "treatment": 400},
                                            sessions={"control": control_s, "treatment": treatment_s})
    report = ab_report.compute_ab_report(aggregates, {"control": 0.5, "treatment": 0.5}, unit=unit)
    verdict = report.verdict
    assert report.analysis_unit == unit and report.metric("main_share").result.analysis_unit == unit
    assert verdict.kind == "result" and verdict.main_call_saving == pytest.approx(-0.2)
    lift_low, lift_high = report.metric("main_share").result.lift_ci
    assert f"uses 20.0 % more main-model calls [95 % CI {lift_low * 100:+.1f} %, {lift_high * 100:+.1f} %]" \
        in verdict.text
    assert lift_low < 0.2 < lift_high


def test_a_rotated_gzip_archive_reads_like_the_live_log(sim_log, capsys, data_dir):
    import gzip

    live = get_settings().paths.log
    write_log(live, sim_log)
    archive = data_dir / "hypotheses_20260101T000000Z.ndjson.gz"
    archive.write_bytes(gzip.compress(live.read_bytes()))
    from_live = run_json(capsys)
    from_archive = run_json(capsys, "--log", str(archive))
    assert from_archive["answers"] == from_live["answers"]
    assert from_archive["metrics"] == from_live["metrics"]
    assert main(["ab-report", "--log", str(data_dir / "missing.ndjson")]) == 2
