"""The hypothesis registry: built-in checks, config entries, broken hypotheses reported and skipped."""

from __future__ import annotations

import json
import logging

import pytest

from engine.loop import hypotheses as hyp
from engine.provenance import EventSink, ResponseEvent, read_events
from engine.settings import get_settings


def response(**overrides) -> ResponseEvent:
    data = dict(question="q", bucket="control", complexity=0.55, boundary=0.5, route="main",
                source="main-model", provider="sim", simulated=True, latency_ms=1200.0,
                quality=0.8, message_id="m1", session_id="s1")
    data.update(overrides)
    return ResponseEvent(**data)


# One registry per data directory, as one engine holds one; "restart" forgets it.
_REGISTRIES: dict[str, hyp.HypothesisRegistry] = {}


def restart():
    _REGISTRIES.clear()


def evaluate(event, settings):
    key = str(settings.aios_data_dir)
    if key not in _REGISTRIES:
        _REGISTRIES[key] = hyp.build_hypothesis_registry(settings)
    return _REGISTRIES[key].evaluate(event)


@pytest.fixture(autouse=True)
def fresh_registry():
    before = dict(hyp.HYPOTHESES)
    restart()
    yield
    hyp.HYPOTHESES.clear()
    hyp.HYPOTHESES.update(before)
    restart()


def by_id(events):
    return {e.hypothesis_id: e for e in events}


def test_builtin_hypotheses_pass_and_fail_on_what_the_answer_shows():
    good = by_id(evaluate(response(), get_settings()))
    assert good["answered_by_model"].passed is True
    assert good["latency_within_budget"].passed is True
    assert good["latency_within_budget"].value == 1200.0
    assert good["latency_within_budget"].threshold == 20_000.0
    assert good["quality_above_floor"].passed is True
    assert "embedder_quality_parity" not in good  # a main answer is not compared with itself
    assert all(e.message_id == "m1" and e.bucket == "control" and e.route == "main" for e in good.values())

    bad = by_id(evaluate(
        response(source="unknown", latency_ms=25_000.0, quality=0.0, error_code="PROVIDER_TIMEOUT",
                 message_id="m2"), get_settings()))
    assert bad["answered_by_model"].passed is False
    assert bad["latency_within_budget"].passed is False
    assert bad["quality_above_floor"].passed is False


def test_embedder_parity_compares_with_main_answers_of_similar_complexity():
    registry = hyp.HypothesisRegistry([hyp.EmbedderParity()])
    embedder = response(route="embedder", complexity=0.45, quality=0.7, message_id="e")
    assert registry.evaluate(embedder) == []  # no main answers in the band yet: not applicable
    for i in range(hyp.MIN_BAND_SAMPLES):
        registry.evaluate(response(complexity=0.55, quality=0.8, message_id=f"m{i}"))
    registry.evaluate(response(complexity=0.95, quality=0.1, message_id="far"))  # other band
    registry.evaluate(response(complexity=0.5, quality=0.0, source="unknown", message_id="err"))
    (result,) = registry.evaluate(embedder)
    assert result.value == pytest.approx(0.7 / 0.8)
    assert result.threshold == 0.95
    assert result.passed is False
    (close,) = registry.evaluate(response(route="embedder", complexity=0.45, quality=0.77))
    assert close.passed is True


def test_running_context_is_seeded_from_the_log_on_restart(data_dir):
    settings = get_settings()
    with EventSink(settings.paths.log) as sink:
        sink.append([response(complexity=0.5, quality=0.6, message_id=f"m{i}") for i in range(6)])
    result = by_id(evaluate(response(route="embedder", complexity=0.41, quality=0.6),
                                           settings))
    assert result["embedder_quality_parity"].value == pytest.approx(1.0)


def test_a_config_entry_adds_a_threshold_check_on_restart(data_dir):
    settings = get_settings()
    assert "short_answers" not in by_id(evaluate(response(), settings))
    settings.paths.config_dir.mkdir(parents=True, exist_ok=True)
    hyp.config_path(settings).write_text(json.dumps([
        {"id": "short_answers", "description": "few tokens", "field": "tokens.total", "op": "<=",
         "threshold": 100},
        {"id": "embedder_fast", "field": "latency_ms", "op": "<", "threshold": 1000,
         "when": {"route": "embedder"}},
    ]))
    # Still the old registry until restart.
    assert "short_answers" not in by_id(evaluate(response(), settings))
    restart()
    results = by_id(evaluate(response(tokens={"prompt": 10, "completion": 200, "total": 210}),
                                            settings))
    assert results["short_answers"].passed is False
    assert results["short_answers"].value == 210.0
    assert "embedder_fast" not in results  # `when` does not match a main answer
    results = by_id(evaluate(response(route="embedder", latency_ms=400.0), settings))
    assert results["embedder_fast"].passed is True


class Raises(hyp.Hypothesis):
    id = "test_raises"
    description = "always raises"

    def check(self, event, context):
        raise ZeroDivisionError("boom")


class Garbage(hyp.Hypothesis):
    id = "test_garbage"
    description = "returns garbage"

    def check(self, event, context):
        return "yes"


class NaNValue(hyp.Hypothesis):
    id = "test_nan"
    description = "returns a NaN value"

    def check(self, event, context):
        return hyp.Outcome(True, float("nan"), 1.0)


def test_broken_hypotheses_are_reported_and_the_others_still_run(data_dir, caplog):
    for cls in (Raises, Garbage, NaNValue):
        hyp.register_hypothesis(cls)
    settings = get_settings()
    settings.paths.config_dir.mkdir(parents=True, exist_ok=True)
    hyp.config_path(settings).write_text(json.dumps([
        {"id": "missing_field", "field": "no_such_field", "op": ">", "threshold": 1},
        {"id": "bad_op", "field": "quality", "op": "~", "threshold": 1},
    ]))
    with caplog.at_level(logging.WARNING, logger="engine.loop.hypotheses"):
        events = evaluate(response(), settings)
        evaluate(response(message_id="m2"), settings)
    results = by_id(events)
    assert results["test_raises"].passed is None and "ZeroDivisionError: boom" in results["test_raises"].error
    assert results["test_garbage"].passed is None and "returned str" in results["test_garbage"].error
    assert results["test_nan"].passed is None and "nan" in results["test_nan"].error
    assert results["missing_field"].passed is None and "no_such_field" in results["missing_field"].error
    assert results["bad_op"].passed is None and "'op'" in results["bad_op"].error
    for ok in ("answered_by_model", "latency_within_budget", "quality_above_floor"):
        assert results[ok].passed is True
    warned = [r.getMessage() for r in caplog.records if "broken" in r.getMessage()]
    assert len(warned) == 5  # once per broken hypothesis, not once per answer
    # The events go to the log like any other and read back with their error.
    with EventSink(settings.paths.log) as sink:
        sink.append(events)
    logged = {e["hypothesis_id"]: e for e in read_events(settings.paths.log).events}
    assert logged["test_raises"]["passed"] is None and logged["test_raises"]["error"]


def test_an_unreadable_config_file_is_reported_not_raised(data_dir):
    settings = get_settings()
    settings.paths.config_dir.mkdir(parents=True, exist_ok=True)
    hyp.config_path(settings).write_text("[{\"id\": \"x\",\n oops]")
    results = by_id(evaluate(response(), settings))
    broken = results["config:hypotheses.json"]
    assert broken.passed is None and "line 2" in broken.error and "hypotheses.json" in broken.error
    assert results["answered_by_model"].passed is True


def test_secrets_never_reach_a_hypothesis_error(data_dir, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_supersecretvalue")
    from engine.settings import reset_settings
    reset_settings()

    class Leaky(hyp.Hypothesis):
        id = "test_leaky"

        def check(self, event, context):
            raise RuntimeError("token hf_supersecretvalue rejected")

    hyp.register_hypothesis(Leaky)
    (leaky,) = [e for e in evaluate(response(), get_settings()) if e.hypothesis_id == "test_leaky"]
    assert "hf_supersecretvalue" not in leaky.error and "**********" in leaky.error


def test_register_rejects_a_duplicate_id():
    class Other(hyp.Hypothesis):
        id = "answered_by_model"

    with pytest.raises(ValueError):
        hyp.register_hypothesis(Other)


def test_numpy_results_are_accepted_as_numbers_and_booleans():
    import numpy as np

    class NumpyCheck(hyp.Hypothesis):
        id = "test_numpy"

        def check(self, event, context):
            value = np.float64(event.latency_ms)
            return hyp.Outcome(value <= np.float64(2000.0), value, np.float64(2000.0))

    (result,) = hyp.HypothesisRegistry([NumpyCheck()]).evaluate(response())
    assert result.passed is True and result.error is None and result.value == 1200.0
    assert json.loads(result.to_json_line())["passed"] is True
