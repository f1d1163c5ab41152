"""engine.analysis.figures: the figures under filters agree with a direct computation; hypothesis pass
rates and trends are one figure each; the adaptive state's boundaries come from the typed state."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
import pytest

from engine import analysis
from engine.analysis import EventStore, Filters
from engine.errors import InputError
from engine.provenance import HypothesisEvent, read_events
from engine.routing.adaptive import AdaptiveConfig, AdaptiveState
from engine.routing.state import save_state
from engine.runbook import PASS_QUALITY


def test_figures_match_a_direct_computation(log):
    store = EventStore(log)
    store.refresh()
    events = [e for e in read_events(log).events if e["event_type"] == "response" and e.get("question")]
    head = analysis.compute_headline(store, Filters())
    assert head.events == len(events) + 1  # plus the odd line, which has no question
    frame = pd.DataFrame(events)
    answered = frame["error_code"].isna() & (frame["source"] != "unknown")
    odd_quality = 0  # "very good" is no number: NULL, so it does not pass
    assert head.pass_rate == pytest.approx(((answered & (frame["quality"] >= PASS_QUALITY)).sum()
                                            + odd_quality) / (len(frame) + 1))
    assert head.mean_quality == pytest.approx(frame["quality"].mean())
    treatment = analysis.compute_bucket_split(store, Filters(bucket="treatment"))
    assert list(treatment["events"]) == [(frame["bucket"] == "treatment").sum()]


def test_time_window_filters(log):
    store = EventStore(log)
    store.refresh()
    # Fixture responses are 30 s apart from 12:00 to 12:49:30; 15 minutes before 12:50 hold 30.
    now = datetime(2026, 11, 25, 12, 50, tzinfo=timezone.utc)
    window = analysis.compute_filters("Last 15 minutes", now=now)
    assert analysis.compute_headline(store, window).events == 30
    with pytest.raises(InputError, match="time window"):
        analysis.compute_filters("Last century")


def test_scatter_sample_is_bounded_and_reproducible(log):
    store = EventStore(log)
    store.refresh()
    everything = analysis.compute_complexity_quality(store, Filters())
    assert len(everything) == 100  # the odd line has no complexity
    sample = analysis.compute_complexity_quality(store, Filters(), limit=10)
    assert len(sample) == 10
    pd.testing.assert_frame_equal(sample, analysis.compute_complexity_quality(store, Filters(), limit=10))


def write_checks(path) -> None:
    """Two hypotheses over three minutes: `fast` passes 8, 6, 4 of 10 per minute (treatment from
    the second minute on); `broken` raises every time."""
    lines = []
    for minute in range(3):
        for i in range(10):
            ts = f"2026-01-01T10:{minute:02d}:{i * 5:02d}.000Z"
            bucket = "control" if minute == 0 else "treatment"
            lines.append(HypothesisEvent(ts=ts, hypothesis_id="fast", passed=i < 8 - minute * 2, bucket=bucket,
                                         message_id=f"m{minute}{i}").to_json_line())
            lines.append(HypothesisEvent(ts=ts, hypothesis_id="broken", passed=None, bucket=bucket,
                                         error=f"raised ZeroDivisionError: boom {minute}",
                                         message_id=f"m{minute}{i}").to_json_line())
    path.write_text("".join(lines))


def test_hypothesis_pass_rates_with_intervals_and_last_errors_follow_the_filters(tmp_path):
    path = tmp_path / "h.ndjson"
    write_checks(path)
    with EventStore(path) as store:
        store.refresh()
        rates = analysis.compute_hypothesis_pass_rates(store, Filters()).set_index("hypothesis_id")
        assert (rates.loc["fast", "checks"], rates.loc["fast", "passed"], rates.loc["fast", "failed"]) == (30, 18, 12)
        assert rates.loc["fast", "pass_rate"] == pytest.approx(0.6)
        interval = analysis.compute_pass_rate(18, 30).ci
        assert (rates.loc["fast", "ci_low"], rates.loc["fast", "ci_high"]) == pytest.approx(interval)
        assert rates.loc["broken", "errors"] == 30 and rates.loc["broken", "pass_rate"] is None
        assert rates.loc["broken", "last_error"] == "raised ZeroDivisionError: boom 2"
        control = analysis.compute_hypothesis_pass_rates(store, Filters(bucket="control")).set_index("hypothesis_id")
        assert control.loc["fast", "passed"] == 8 and control.loc["broken", "last_error"].endswith("boom 0")
        trends = analysis.compute_hypothesis_trends(store, Filters(), bin_seconds=60)
        fast = trends[trends["hypothesis_id"] == "fast"]
        assert [float(r) for r in fast["pass_rate"]] == [0.8, 0.6, 0.4]
        assert list(fast["bin_start"].dt.minute) == [0, 1, 2]
        # The trend and the summary count the same checks.
        assert trends.groupby("hypothesis_id")["checks"].sum().to_dict() == rates["checks"].to_dict()
        with pytest.raises(InputError, match="bin_seconds"):
            analysis.compute_hypothesis_trends(store, Filters(), bin_seconds=0)


@pytest.mark.parametrize("span, width", [(0, 1), (59, 1), (61, 5), (3600, 60), (3601, 300),
                                         (400 * 86400, 7 * 86400)])
def test_bin_width_gives_at_most_max_bins(span, width):
    assert analysis.compute_bin_width(span) == width
    assert span / width <= analysis.MAX_BINS or width == analysis.BIN_CHOICES[-1]


def test_state_boundaries_and_drift_band_come_from_the_typed_state(data_dir):
    path = data_dir / "analytics" / "adaptive_routing_state.json"
    assert analysis.read_state(path) is None and analysis.load_adaptive_state(path) is None
    assert analysis.compute_state_boundaries(None) == {}
    state = AdaptiveState.fresh("seed", AdaptiveConfig(), now="2026-01-01T00:00:00Z")
    state.buckets["treatment"].boundary = 0.46
    save_state(path, state)
    typed = analysis.read_state(path)
    assert analysis.compute_state_boundaries(typed) == {"control": 0.5, "treatment": 0.46}
    # The document as stored, for the Settings page's raw view; its boundaries parse the same way.
    document = analysis.load_adaptive_state(path)
    assert document == json.loads(path.read_text())
    assert analysis.compute_state_boundaries(document) == {"control": 0.5, "treatment": 0.46}
    assert analysis.compute_drift_band(analysis.compute_state_boundaries(typed)).center == 0.5
    assert analysis.compute_state_boundaries({"buckets": {"treatment": {"boundary": "high"}}}) == {}
    path.write_text("{not json")
    with pytest.raises(InputError, match="adaptive_routing_state.json: not valid JSON"):
        analysis.load_adaptive_state(path)
