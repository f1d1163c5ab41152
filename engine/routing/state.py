"""The adaptive state file `<data dir>/analytics/adaptive_routing_state.json`: load, save, update.

Saves are atomic (temporary file in the same folder, fsync, os.replace), so a reader never sees
half a file. Read-modify-write runs under an exclusive flock on the sibling `.lock` file, so
several processes lose no update. A corrupt file is moved aside to `.corrupt-<UTC time>` with a
warning and re-initialised; deleting the file resets the experiment (runbook 004).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from engine.atomic import write_bytes_atomic
from engine.errors import StateError
from engine.provenance.events import utc_now_iso
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
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return fresh_state(experiment_seed, config)
    except OSError as exc:
        raise StateError(f"{path}: cannot read the adaptive state ({exc.strerror})") from None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        state = AdaptiveState.from_dict(data, config)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        quarantine(path, f"{type(exc).__name__}: {exc}")
        return fresh_state(experiment_seed, config)
    return state


def save_state(path: Path, state: AdaptiveState) -> None:
    """Write the state atomically: temp file beside it, fsync, os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Indented, because the runbook has people `cat` this file; it costs ~0.3 ms more than
    # compact JSON, small beside the fsync.
    data = (json.dumps(state.to_dict(), indent=2) + "\n").encode("utf-8")
    write_bytes_atomic(path, data)


@contextmanager
def state_lock(path: Path) -> Iterator[None]:
    """Exclusive cross-process (flock) and cross-thread lock for a read-modify-write of the state."""
    lock_file = lock_path_for(path)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with _THREAD_LOCK:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
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
