"""The services' one cache helper: a result is reused for the same arguments and key, recomputed
when they change, and never reused while "Disable cache" is on."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard import cache_probe


def probe_app():
    import streamlit as st

    from dashboard import services
    from tests.dashboard.cache_probe import probe

    st.toggle("Disable cache", key="disable_cache")
    arg, key = st.session_state.get("arg", "a"), st.session_state.get("key", 0)
    st.session_state["results"] = [services.cached(probe, arg, ttl=60, max_entries=4, key=key) for _ in range(2)]


@pytest.fixture
def calls():
    cache_probe.CALLS.clear()
    yield cache_probe.CALLS
    cache_probe.CALLS.clear()


def test_cached_reuses_a_result_until_its_arguments_or_key_change(calls):
    at = AppTest.from_function(probe_app).run()
    assert not at.exception
    assert calls == [("a",)] and at.session_state["results"] == [1, 1]
    at.run()
    assert len(calls) == 1
    at.session_state["key"] = 1  # e.g. the file it reads grew
    at.run()
    assert len(calls) == 2 and at.session_state["results"] == [2, 2]
    at.session_state["arg"] = "b"
    at.run()
    assert calls[-1] == ("b",) and len(calls) == 3


def test_disable_cache_runs_the_function_every_time(calls):
    at = AppTest.from_function(probe_app).run()
    assert len(calls) == 1
    at.toggle(key="disable_cache").set_value(True).run()
    assert not at.exception
    assert len(calls) == 3 and at.session_state["results"] == [2, 3]
    at.run()
    assert len(calls) == 5
    at.toggle(key="disable_cache").set_value(False).run()
    assert len(calls) == 5 and at.session_state["results"] == [1, 1]  # the cached result is still there
