"""The one cache helper every loader goes through, the shared incremental event store, and the
session's toggles ("Disable cache", auto-refresh) that decide how fresh a figure must be.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from engine import analysis
from engine.settings import Settings, get_settings

T = TypeVar("T")

AUTO_REFRESH_SECONDS = 10


def settings() -> Settings:
    return get_settings()


def cache_enabled() -> bool:
    """False while the sidebar's "Disable cache" toggle (session key `disable_cache`) is on."""
    return not st.session_state.get("disable_cache", False)


def refresh_interval() -> int | None:
    """Seconds between live refreshes, or None when auto-refresh is off."""
    return AUTO_REFRESH_SECONDS if st.session_state.get("auto_refresh", False) else None


def settings_key(current: Settings) -> str:
    """What identifies a settings object in a cache key (secrets appear only as a marker)."""
    return json.dumps(current.redacted(), sort_keys=True, default=str)


def _store_key(current: analysis.EventStore) -> tuple:
    return current.version


# How arguments that st.cache_data cannot hash by value are keyed: a store by its version (it
# changes whenever new bytes are read or the file is replaced), settings by their values.
HASH_FUNCS: dict[Any, Callable[[Any], Any]] = {analysis.EventStore: _store_key, Settings: settings_key}


@functools.cache
def _cached_call(fn: Callable[..., Any], ttl: float, max_entries: int) -> Callable[..., Any]:
    def call(key: Hashable, *args: Any) -> Any:
        return fn(*args)

    # st.cache_data tells functions apart by module, qualified name and source: `call` is the same
    # source for every fn, so the name carries fn's identity (and the limits, which a cache fixes).
    call.__qualname__ = f"cached[{fn.__module__}.{fn.__qualname__}|ttl={ttl}|max={max_entries}]"
    return st.cache_data(call, ttl=ttl, max_entries=max_entries, show_spinner=False, hash_funcs=HASH_FUNCS)


def cached(fn: Callable[..., T], *args: Any, ttl: float, max_entries: int, key: Hashable = None) -> T:
    """`fn(*args)`, remembered for `ttl` seconds, at most `max_entries` results per function.

    The arguments are the cache key (an EventStore counts by its version, Settings by their
    values); `key` adds what they do not show, such as a file's size and mtime. With "Disable
    cache" on, `fn` runs every time. `fn` must be a module-level function (it names the cache).
    """
    if not cache_enabled():
        return fn(*args)
    return _cached_call(fn, ttl, max_entries)(key, *args)


def file_stamp(path: Path) -> tuple | None:
    """(device, inode, size, mtime) of a file, or None when missing: a grown, rewritten or
    replaced file gets a new stamp."""
    try:
        st_ = os.stat(path)
    except FileNotFoundError:
        return None
    return st_.st_dev, st_.st_ino, st_.st_size, st_.st_mtime_ns


# ---- the incremental store ------------------------------------------------------------------

@st.cache_resource(max_entries=8, show_spinner=False)
def shared_store(log_path: str) -> analysis.EventStore:
    """The store shared by every session for this log. A read-only handle: it never writes the
    log, and refresh() is thread-safe."""
    return analysis.EventStore(log_path)


def begin_run() -> None:
    """Called once at the top of every full run: with the cache disabled, the log is read afresh."""
    previous = st.session_state.pop("_uncached_store", None)
    if previous is not None:
        previous.close()


def store() -> analysis.EventStore:
    """The store for the configured log, brought up to date (reads only the new bytes).

    With "Disable cache" on, each full run builds its own store from the whole log instead of
    sharing the incremental one.
    """
    path = str(settings().paths.log)
    if cache_enabled():
        current = shared_store(path)
    else:
        current = st.session_state.get("_uncached_store")
        if current is None or str(current.path) != path:
            current = analysis.EventStore(path)
            st.session_state["_uncached_store"] = current
    current.refresh()
    return current
