"""Trends drawn honestly: a bin of one answer is not drawn as a 100 % -> 0 % cliff, a time without
data is not bridged by a straight line, and each point says how many answers it holds."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np

from engine.analysis import MIN_BIN_ANSWERS
from engine.provenance import EventSink
from tests.dashboard.conftest import chart, open_page, values
from tests.dashboard.fixture_log import START, iso, response

TITLE = f"Pass rate over time (bins of fewer than {MIN_BIN_ANSWERS} answers not drawn)"


def write_sparse_log(path) -> None:
    """Minute bins of the control bucket: 5 answers each for 3 minutes, a 10-minute gap, 5 each for
    3 more minutes; and one lone answer a minute in between (t = 3 min) and at the end."""
    rng = random.Random(1)
    moments = [m * 60 + s * 10 for m in (0, 1, 2, 13, 14, 15) for s in range(5)] + [3 * 60, 16 * 60]
    with EventSink(path) as sink:
        for i, second in enumerate(sorted(moments)):
            event = response(2 * i, rng)  # even: control
            event.ts = iso(START + timedelta(seconds=second))
            event.error_code, event.source = None, "model"
            event.quality = 0.9 if second != 3 * 60 else 0.1  # the lone answer fails: a cliff if drawn
            sink.append(event)


def test_one_answer_bins_and_a_gap_are_not_drawn_as_a_line(log_path):
    write_sparse_log(log_path)
    at = open_page("hypotheses")
    figure = chart(at, TITLE)
    line = next(t for t in figure.data if t.name == "control")
    assert line.connectgaps is False
    y = values_or_nan(line.y)
    n = values_or_nan(line.customdata).ravel()
    x = [str(v) for v in line.x]
    # No bin below the minimum count carries a value (the lone answers at 3 and 16 min).
    assert all(np.isnan(value) for value, count in zip(y, n) if count < MIN_BIN_ANSWERS)
    assert not any(np.isnan(value) for value, count in zip(y, n) if count >= MIN_BIN_ANSWERS)
    # Between the last full bin before the gap (12:02) and the first after it (12:13) lies a
    # blank point, so the line breaks instead of running across the 10 minutes without data.
    before = next(i for i, t in enumerate(x) if "12:02" in t)
    after = next(i for i, t in enumerate(x) if "12:13" in t)
    assert after > before + 1 and any(np.isnan(v) for v in y[before + 1:after])
    assert list(n[[before, after]]) == [5, 5]  # n is carried for hover and marker size


def values_or_nan(array) -> np.ndarray:
    """A trace array as floats, None (a blank point) as NaN, typed arrays decoded."""
    if isinstance(array, (list, tuple)):
        return np.asarray([np.nan if v is None else v for v in array], dtype=float)
    return values(array)


def write_one_per_bin_log(path) -> None:
    """One answer per minute in each bucket for 3 minutes, a 10-minute gap, then 3 more minutes; the
    treatment boundary moves once after the gap."""
    rng = random.Random(2)
    with EventSink(path) as sink:
        for i, minute in enumerate(m for m in (0, 1, 2, 13, 14, 15) for _ in (0, 1)):
            event = response(i, rng)  # even: control, odd: treatment
            event.ts = iso(START + timedelta(minutes=minute, seconds=10 + i % 2))
            event.boundary = 0.5 if event.bucket == "control" else (0.48 if minute < 13 else 0.46)
            sink.append(event)


def test_the_boundary_step_line_breaks_at_a_gap_and_draws_every_bin(log_path):
    write_one_per_bin_log(log_path)
    at = open_page("routing")
    assert not at.exception, at.exception
    figure = chart(at, "Routing boundary over time")
    for bucket, expected in (("control", [0.5] * 3), ("treatment", [0.48] * 3)):
        line = next(t for t in figure.data if t.name == bucket)
        assert line.line.shape == "hv" and line.connectgaps is False
        y = values_or_nan(line.y)
        x = [str(v) for v in line.x]
        n = values_or_nan(line.customdata).ravel()
        # Bins of a single answer are drawn: one answer tells the boundary it was routed with.
        drawn = [value for value in y if not np.isnan(value)]
        assert len(drawn) == 6 and drawn[:3] == expected and list(n[~np.isnan(y)]) == [1] * 6
        # A blank point between 12:02 and 12:13: the step does not hold across 10 minutes without answers.
        before = next(i for i, t in enumerate(x) if "12:02" in t)
        after = next(i for i, t in enumerate(x) if "12:13" in t)
        assert after > before + 1 and all(np.isnan(v) for v in y[before + 1:after])
        assert not any(np.isnan(v) for v in y[:before + 1]) and not any(np.isnan(v) for v in y[after:])
