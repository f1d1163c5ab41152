"""Dashboard test fixtures: logs built by the engine, caches cleared, an AppTest per page."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from engine.analysis import EventStore
from engine.settings import REPO_ROOT
from tests.dashboard.fixture_log import write_fixture_log

APP = str(REPO_ROOT / "dashboard" / "app.py")
GARBAGE = [b"this is not json\n", b"[1, 2, 3]\n", b'{"event_type": "response", "quality": \n']
TRUNCATED_TAIL = b'{"event_type": "response", "question": "cut off mid-wri'


@pytest.fixture(autouse=True)
def clear_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        from engine.api import clear_engines
    except ImportError:
        return
    clear_engines()


@pytest.fixture
def log_path(data_dir: Path) -> Path:
    return data_dir / "analytics" / "hypotheses.ndjson"


@pytest.fixture
def fixture_log(log_path: Path) -> Path:
    return write_fixture_log(log_path)


@pytest.fixture
def corrupt_log(log_path: Path) -> Path:
    """A fixture log with garbage lines in the middle and a torn last line."""
    write_fixture_log(log_path, n=60)
    with open(log_path, "ab") as handle:
        handle.writelines(GARBAGE)
    write_fixture_log(log_path, n=30, first=60)
    with open(log_path, "ab") as handle:
        handle.write(TRUNCATED_TAIL)
    return log_path


@pytest.fixture(params=["missing", "empty", "corrupt_only"])
def no_data_log(request, log_path: Path) -> str:
    """A log with no readable answer: absent, zero bytes, or only unreadable lines."""
    if request.param != "missing":
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_bytes(b"" if request.param == "empty" else b"".join(GARBAGE))
    return request.param


def engine_store(path: Path) -> EventStore:
    """The engine's own view of a log, to compare pages against."""
    store = EventStore(path)
    store.refresh()
    return store


def open_page(page: str | None = None) -> AppTest:
    """Run the app, then switch to `app_pages/<page>.py` when given; asserts no exception."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    if page is not None:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest) -> str:
    """Everything a user can read on the page (markdown, captions, alerts, json), as one string."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "json", "title", "subheader"):
        parts.extend(str(getattr(el, "value", "")) for el in at.get(kind))
    return "\n".join(parts)


def tables(at: AppTest) -> list[pd.DataFrame]:
    """The page's tables (st.dataframe), in page order."""
    return [element.value for element in at.dataframe]


def assert_same_frame(shown: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected.reset_index(drop=True),
                                  check_dtype=False)


def charts(at: AppTest) -> list[go.Figure]:
    """The page's Plotly figures, decoded (typed arrays included)."""
    return [pio.from_json(chart.proto.spec) for chart in at.get("plotly_chart")]


def chart(at: AppTest, title: str) -> go.Figure:
    """The page's Plotly figure with this title."""
    for figure in charts(at):
        if figure.layout.title.text == title:
            return figure
    raise AssertionError(f"no chart titled {title!r}")


def trace(figure: go.Figure, name: str):
    """The trace of a figure with this legend name."""
    return next(t for t in figure.data if t.name == name)


def values(array) -> np.ndarray:
    """A trace's x or y as numbers; Plotly's JSON may hold them as base64 typed arrays."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).astype(float)
    return np.asarray(array, dtype=float)
