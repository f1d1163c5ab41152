"""Issue 13 item 8: an adaptive state no controller could have written (a boundary outside control
+/- max drift, NaN or infinity, negative counts, an absurd config) is quarantined like a corrupt file by
the writer, read as no state by the reader, each with a warning naming the field; `simulate` runs on.
A boundary in [0, 1] but past control +/- max drift is refused by the writer and reported by the
reader (the drift SLO is what flags it)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.ids import utc_now_iso
from engine.routing.adaptive import AdaptiveConfig, AdaptiveState
from engine.routing.state import StateCache, encode_state, read_state_file
from engine.runbook import CONTROL_BOUNDARY
from engine.settings import REPO_ROOT

CONFIG = AdaptiveConfig()


def state_file(data_dir: Path) -> Path:
    return data_dir / "analytics" / "adaptive_routing_state.json"


def good_document() -> dict[str, Any]:
    return json.loads(encode_state(AdaptiveState.fresh("seed", CONFIG, now=utc_now_iso())))


def write(path: Path, document: dict[str, Any] | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")


def treatment(document: dict[str, Any]) -> dict[str, Any]:
    return document["buckets"]["treatment"]


BAD: dict[str, Any] = {
    "boundary 7 (0 % main)": lambda d: treatment(d).update(boundary=7),
    "negative boundary": lambda d: treatment(d).update(boundary=-0.2),
    "negative sample count": lambda d: treatment(d).update(sample_count=-3),
    "negative route count": lambda d: treatment(d)["routes"]["main"].update(count=-1),
    "negative errors": lambda d: treatment(d).update(errors=-1),
    "negative bin count": lambda d: treatment(d)["controller"]["bins"]["main"][3].__setitem__(0, -2),
    "negative step": lambda d: treatment(d)["controller"].update(step=-0.01),
    "max drift beyond the SLO": lambda d: d["config"].update(max_boundary_drift=7),
    "control boundary outside [0, 1]": lambda d: d["config"].update(control_boundary=3),
}
NON_FINITE = {
    "NaN quality sum": ('"quality_sum": 0.0', '"quality_sum": NaN'),
    "infinite latency": ('"latency_sum_ms": 0.0', '"latency_sum_ms": Infinity'),
    "overflowing count": ('"sample_count": 0', '"sample_count": 1e400'),
    "NaN in a bin": ("[0.0, 0.0, 0.0]", "[0.0, NaN, 0.0]"),
}


def bad_texts() -> list[tuple[str, str]]:
    cases = []
    for name, change in BAD.items():
        document = good_document()
        change(document)
        cases.append((name, json.dumps(document)))
    text = encode_state(AdaptiveState.fresh("seed", CONFIG, now=utc_now_iso())).decode()
    for name, (old, new) in NON_FINITE.items():
        assert old in text
        cases.append((name, text.replace(old, new, 1)))
    return cases


@pytest.mark.parametrize(("name", "text"), bad_texts(), ids=[name for name, _ in bad_texts()])
def test_8_absurd_state_is_quarantined_by_the_writer_and_unread_by_the_reader(data_dir: Path, caplog, name: str,
                                                                              text: str) -> None:
    path = state_file(data_dir)
    write(path, text)
    with caplog.at_level(logging.WARNING):
        read = read_state_file(path)
    assert read.state is None and read.problem and "field" in read.problem
    assert path.exists()  # the reader never moves a file
    with caplog.at_level(logging.WARNING):
        state = StateCache(path, "seed", CONFIG).load()
    assert state.buckets["treatment"].boundary == CONTROL_BOUNDARY and state.buckets["treatment"].sample_count == 0
    aside = list(path.parent.glob("adaptive_routing_state.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == text and not path.exists()
    assert "corrupt" in caplog.text


def test_8_past_max_drift_the_writer_quarantines_and_the_reader_leaves_it_to_the_drift_slo(data_dir: Path,
                                                                                          caplog) -> None:
    path = state_file(data_dir)
    document = good_document()
    treatment(document).update(boundary=CONTROL_BOUNDARY + CONFIG.max_boundary_drift + 0.001)
    write(path, document)
    read = read_state_file(path)  # figures and the SLO check must see the drift to report it
    assert read.state is not None and read.state.drift > CONFIG.max_boundary_drift
    with caplog.at_level(logging.WARNING):
        state = StateCache(path, "seed", CONFIG).load()  # routing with it would break the README's promise
    assert state.buckets["treatment"].boundary == CONTROL_BOUNDARY
    assert len(list(path.parent.glob("*.corrupt-*"))) == 1
    assert "buckets.treatment.boundary" in caplog.text and "+/- 0.075" in caplog.text


def test_8_the_edges_of_the_honest_range_are_kept(data_dir: Path) -> None:
    path = state_file(data_dir)
    for boundary in (CONTROL_BOUNDARY - CONFIG.max_boundary_drift, CONTROL_BOUNDARY + CONFIG.max_boundary_drift):
        document = good_document()
        treatment(document).update(boundary=boundary, sample_count=12)
        write(path, document)
        read = read_state_file(path)
        assert read.state is not None and read.state.buckets["treatment"].boundary == boundary
        assert StateCache(path, "seed", CONFIG).load().buckets["treatment"].sample_count == 12
        assert not list(path.parent.glob("*.corrupt-*"))


def test_8_simulate_runs_on_after_quarantining_nan(data_dir: Path) -> None:
    path = state_file(data_dir)
    document = encode_state(AdaptiveState.fresh("seed", CONFIG, now=utc_now_iso())).decode()
    write(path, document.replace('"quality_sum": 0.0', '"quality_sum": NaN', 1))
    done = subprocess.run([sys.executable, "-m", "engine", "simulate", "--n", "5", "--no-progress"],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert done.returncode == 0, done.stderr
    assert "corrupt" in done.stderr and "quality_sum" in done.stderr
    assert list(path.parent.glob("*.corrupt-*"))
    state = json.loads(path.read_text())
    assert sum(b["sample_count"] for b in state["buckets"].values()) == 5
