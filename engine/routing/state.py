"""The adaptive state file `<data dir>/analytics/adaptive_routing_state.json`: load, save, update.

Saves are atomic (temporary file in the same folder, fsync, os.replace), so a reader never sees
half a file. Read-modify-write runs under an exclusive flock on the sibling `.lock` file, so
several processes lose no update. A corrupt file is moved aside to `.corrupt-<UTC time>` with a
warning and re-initialised; deleting the file resets the experiment (runbook 004). StateCache
skips re-parsing a file whose bytes are the ones this process last read or wrote.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from engine.atomic import write_bytes_atomic
from engine.errors import StateError
from engine.ids import utc_now_iso
from engine.locking import lock_exclusive, unlock
from engine.routing.adaptive import AdaptiveConfig, AdaptiveState

log = logging.getLogger(__name__)
T = TypeVar("T")

# flock excludes other processes; threads of this process also serialise on this lock, which
# keeps one thread from re-entering a lock file its sibling holds on another descriptor.
_THREAD_LOCK = threading.RLock()


def lock_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def fresh_state(experiment_seed: str, config: AdaptiveConfig) -> AdaptiveState:
    return AdaptiveState.fresh(experiment_seed, config, now=utc_now_iso())


def quarantine(path: Path, problem: str) -> Path:
    """Move a corrupt state file aside and warn; returns where it went."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        os.replace(path, target)
    except FileNotFoundError:  # another process moved it aside first
        return target
    log.warning("adaptive state %s is corrupt (%s); moved it to %s and started a fresh experiment",
                path, problem, target.name)
    return target


def load_state(path: Path, experiment_seed: str, config: AdaptiveConfig | None = None) -> AdaptiveState:
    """The state at `path`; a fresh one when missing; a corrupt file is quarantined and replaced.

    `config` (the engine's AdaptiveConfig) takes precedence over the one recorded in the file.
    """
    config = config or AdaptiveConfig()
    raw = _read(path)
    if raw is None:
        return fresh_state(experiment_seed, config)
    return _parse(path, raw, experiment_seed, config)[0]


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"{path}: cannot read the adaptive state ({exc.strerror})") from None


def _parse(path: Path, raw: bytes, experiment_seed: str, config: AdaptiveConfig) -> tuple[AdaptiveState, bool]:
    """(state, True), or (a fresh state, False) after moving a corrupt file aside."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return AdaptiveState.from_dict(data, config), True
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        quarantine(path, f"{type(exc).__name__}: {exc}")
        return fresh_state(experiment_seed, config), False


# json.dumps with indent runs the pure-Python encoder over every number (~0.3 ms a save, most of
# the state's cost per answer), so the layout is done here and the values by C code: the C string
# encoder, float/int repr (what json itself uses) and one C-encoder call per table of numbers.
_LEAF = json.JSONEncoder(separators=(", ", ": "))
_KEY = json.encoder.encode_basestring_ascii
_NUMBERS = (int, float)


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    if kind is int:
        return int.__repr__(value)
    if kind is str:
        return _KEY(value)
    return _LEAF.encode(value)  # bools, None, NaN, anything else: as json.dumps writes them


def _pretty(value: Any, level: int = 0) -> str:
    """JSON indented by 2 for objects and lists of containers; a list of numbers stays on one line
    (a score bin's [count, quality_sum, quality_sq_sum] reads better that way when you `cat` it)."""
    kind = type(value)
    if kind is dict and value:
        inner = "  " * (level + 1)
        items = ",\n".join(f"{inner}{_KEY(str(k))}: {_pretty(v, level + 1)}" for k, v in value.items())
        return "{\n" + items + "\n" + "  " * level + "}"
    if kind is list and value and all(type(v) is list for v in value) and \
            all(type(x) in _NUMBERS for row in value for x in row):
        # A table of numbers (the score bins): one C-encoder call, then a row per line.
        inner = "  " * (level + 1)
        rows = _LEAF.encode(value)[1:-1].replace("], [", "],\n" + inner + "[")
        return "[\n" + inner + rows + "\n" + "  " * level + "]"
    if kind is list and value and any(isinstance(v, (dict, list)) for v in value):
        inner = "  " * (level + 1)
        items = ",\n".join(inner + _pretty(v, level + 1) for v in value)
        return "[\n" + items + "\n" + "  " * level + "]"
    if kind is dict or kind is list:
        return _LEAF.encode(value)  # empty, or a flat list
    return _scalar(value)


def encode_state(state: AdaptiveState) -> bytes:
    """The file's bytes: indented JSON (the runbook has people `cat` this file) plus a newline."""
    return (_pretty(state.to_dict()) + "\n").encode("utf-8")


def save_state(path: Path, state: AdaptiveState) -> None:
    """Write the state atomically: temp file beside it, fsync, os.replace."""
    write_bytes_atomic(path, encode_state(state))


class StateCache:
    """Loads and saves one state file for one engine, skipping the JSON parse when the file holds
    exactly the bytes this cache last read or wrote.

    The whole file is still read and compared on every load (a few KB), so a write by another
    process is always seen; no (inode, mtime, size) shortcut, whose timestamp granularity could
    hide a same-size write within one clock tick. Returned states are shared: treat them as
    read-only (`step` returns a new state; `Engine.load_state` hands out a copy).
    """

    def __init__(self, path: Path, experiment_seed: str, config: AdaptiveConfig) -> None:
        self.path = path
        self.experiment_seed = experiment_seed
        self.config = config
        self._last: tuple[bytes, AdaptiveState] | None = None  # replaced whole: safe across threads

    def load(self) -> AdaptiveState:
        raw = _read(self.path)
        if raw is None:
            return fresh_state(self.experiment_seed, self.config)
        last = self._last
        if last is not None and last[0] == raw:
            return last[1]
        state, ok = _parse(self.path, raw, self.experiment_seed, self.config)
        if ok:
            self._last = (raw, state)
        return state

    def save(self, state: AdaptiveState) -> None:
        data = encode_state(state)
        write_bytes_atomic(self.path, data)
        self._last = (data, state)


@contextmanager
def state_lock(path: Path) -> Iterator[None]:
    """Exclusive cross-process (flock) and cross-thread lock for a read-modify-write of the state."""
    lock_file = lock_path_for(path)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with _THREAD_LOCK:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            lock_exclusive(fd)
            yield
        finally:
            unlock(fd)
            os.close(fd)


def update_state(path: Path, experiment_seed: str, config: AdaptiveConfig,
                 change: Callable[[AdaptiveState], tuple[AdaptiveState, T]]) -> tuple[AdaptiveState, T]:
    """Load, apply `change` (returning the new state and a result), save; all under the lock."""
    with state_lock(path):
        state = load_state(path, experiment_seed, config)
        new_state, result = change(state)
        new_state.updated_at = utc_now_iso()
        save_state(path, new_state)
        return new_state, result


def reset_state(path: Path) -> Path | None:
    """Delete the state file (runbook: "Clear Adaptive State"); returns the path if one existed."""
    with state_lock(path):
        try:
            path.unlink()
        except FileNotFoundError:
            return None
    log.info("adaptive state %s deleted: the next question starts a fresh experiment", path)
    return path
