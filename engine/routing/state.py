"""The adaptive state file `<data dir>/analytics/adaptive_routing_state.json`: its writer and its one
typed reader.

Writer: saves are atomic (temporary file in the same folder, fsync, os.replace), so a reader never
sees half a file. Read-modify-write (`state_lock`, `StateCache.load`, `step`, `StateCache.save`) runs
under an exclusive flock on the sibling `.lock` file, so several processes lose no update. A corrupt
file is moved aside to `.corrupt-<UTC time>` with a warning and re-initialised; deleting the file
resets the experiment (runbook 004). StateCache skips re-parsing a file whose bytes are the ones this
process last read or wrote.

The loop's update puts the log first: under the lock it loads (`load_for_update`), stages the new
state beside the file (`stage`: written and fsynced, not in place), appends the answer's events and
only then renames the staged file over the state (`commit`). A failed append (disk full) discards
the staged state, so the state never counts an event the log lacks. A writer killed by SIGKILL leaves
its staged file, named with its pid, the events it counts and the state it was made from: the next
`load_for_update` puts it in place when those events are in the log and that state is still the
file's (the kill fell between append and rename), and deletes it otherwise.

Reader: `read_state` / `read_state_file` give everyone else (figures, A/B report, SLO check, status,
metrics) the typed AdaptiveState, validated by the same `parse_state` as the writer; they never raise
and never move a file: a corrupt file reads as no state, with a warning that says why.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine.atomic import StagedWrite, dead_writer_temps, stage_bytes_atomic, write_bytes_atomic
from engine.errors import StateError
from engine.ids import utc_now_iso
from engine.locking import lock_exclusive, unlock
from engine.routing.adaptive import AdaptiveConfig, AdaptiveState
from engine.runbook import BUCKETS, CONTROL, MAX_BOUNDARY_DRIFT

log = logging.getLogger(__name__)

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


class StateFormatError(ValueError):
    """A decoded document is not an adaptive state; the message names the first bad field."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_state(data: Any, experiment_seed: str, config: AdaptiveConfig | None = None) -> AdaptiveState:
    """Validate a decoded state document and build the typed state (writer and reader alike).

    Every bucket needs a finite numeric boundary; recorded config values must be numbers.
    What has a safe default may be missing (a hand-written or older file): the experiment seed
    (`experiment_seed`), the config (runbook defaults), the control bucket (control never moves: a
    fresh one at the control boundary) and the counters. `config`, when given (the engine's own),
    takes precedence over the file's and bounds every boundary to control +/- its max drift
    (`check_state`). Raises StateFormatError naming the field.
    """
    if not isinstance(data, dict):
        raise StateFormatError("not a JSON object with a 'buckets' field")
    buckets = data.get("buckets")
    if not isinstance(buckets, dict):
        raise StateFormatError("field buckets is missing or not an object")
    recorded = data.get("config")
    if recorded is None:
        recorded = {}
    if not isinstance(recorded, dict):
        raise StateFormatError("field config is not an object")
    for spec in fields(AdaptiveConfig):
        if spec.name in recorded and not _is_number(recorded[spec.name]):
            raise StateFormatError(f"field config.{spec.name} is not a number")
    _check_config(AdaptiveConfig.from_dict(recorded), "config.")
    engine_config = config is not None
    config = config or AdaptiveConfig.from_dict(recorded)
    bad = _non_finite_at(buckets, "buckets")
    if bad is not None:
        raise StateFormatError(f"field {bad} is not a finite number")
    for name in BUCKETS:
        if name == CONTROL and name not in buckets:
            continue
        bucket = buckets.get(name)
        if not isinstance(bucket, dict) or not _is_number(bucket.get("boundary")):
            raise StateFormatError(f"field buckets.{name}.boundary is missing or not a number")
    document = {"experiment_seed": experiment_seed, **data,
                "buckets": {CONTROL: {"boundary": config.control_boundary}, **buckets}}
    try:
        state = AdaptiveState.from_dict(document, config)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise StateFormatError(f"not an adaptive state ({type(exc).__name__}: {exc})") from None
    check_state(state, drift_bound=engine_config)
    return state


# Slack for float rounding when the controller clamps a boundary to control +/- max drift.
_BOUND_SLACK = 1e-9


def check_state(state: AdaptiveState, *, drift_bound: bool = True) -> None:
    """Values no controller can produce: raise StateFormatError naming the field.

    Always: a sane config (control boundary in [0, 1], max drift within the runbook's drift SLO),
    boundaries in [0, 1] (a complexity score's range), every number finite, every count >= 0.
    With `drift_bound` (the writer, which routes with the state): every boundary within control
    +/- max drift, what its controller clamps to (the README's 0.5 +/- 0.075). The reader leaves
    a boundary in [0, 1] beyond that to the drift SLO, which reports it instead of hiding it.
    """
    config = state.config
    _check_config(config, "config.")
    if drift_bound:
        low = config.control_boundary - config.max_boundary_drift - _BOUND_SLACK
        high = config.control_boundary + config.max_boundary_drift + _BOUND_SLACK
        allowed = f"control {config.control_boundary} +/- {config.max_boundary_drift}"
    else:
        low, high, allowed = 0.0, 1.0, "[0, 1]"
    for name, bucket in state.buckets.items():
        where = f"buckets.{name}"
        if not (math.isfinite(bucket.boundary) and low <= bucket.boundary <= high):
            raise StateFormatError(f"field {where}.boundary is {bucket.boundary}, outside {allowed}")
        for field_name in ("sample_count", "errors", "adaptations"):
            _non_negative(getattr(bucket, field_name), f"{where}.{field_name}")
        for route, stats in bucket.routes.items():
            _non_negative(stats.count, f"{where}.routes.{route}.count")
            for field_name in ("quality_sum", "quality_sq_sum", "latency_sum_ms"):
                _finite(getattr(stats, field_name), f"{where}.routes.{route}.{field_name}")
        _non_negative(bucket.step, f"{where}.controller.step")
        for field_name in ("since_decision", "last_evidence"):
            _non_negative(getattr(bucket, field_name), f"{where}.controller.{field_name}")
        for route, cells in bucket.bins.items():
            for i, cell in enumerate(cells):
                _non_negative(cell[0], f"{where}.controller.bins.{route}[{i}] count")
                _finite(cell[1], f"{where}.controller.bins.{route}[{i}]")
                _finite(cell[2], f"{where}.controller.bins.{route}[{i}]")
        for i, cell in enumerate(bucket.labels):
            _non_negative(cell[0], f"{where}.controller.labels[{i}] count")
            _finite(cell[1], f"{where}.controller.labels[{i}]")
            _finite(cell[2], f"{where}.controller.labels[{i}]")


def _check_config(config: AdaptiveConfig, prefix: str) -> None:
    if not 0.0 <= config.control_boundary <= 1.0:
        raise StateFormatError(f"field {prefix}control_boundary is {config.control_boundary}, not in [0, 1]")
    if not 0.0 <= config.max_boundary_drift <= MAX_BOUNDARY_DRIFT:
        raise StateFormatError(f"field {prefix}max_boundary_drift is {config.max_boundary_drift}, "
                               f"not in [0, {MAX_BOUNDARY_DRIFT}] (the drift SLO)")


def _non_finite_at(value: Any, where: str) -> str | None:
    """The path of the first NaN or infinity in a decoded document (json reads NaN, Infinity, 1e400)."""
    if isinstance(value, float):
        return None if math.isfinite(value) else where
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = ((f"[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for key, item in items:
        found = _non_finite_at(item, f"{where}{key}" if str(key).startswith("[") else f"{where}.{key}")
        if found is not None:
            return found
    return None


def _finite(value: float, where: str) -> None:
    if not math.isfinite(value):
        raise StateFormatError(f"field {where} is {value}, not a finite number")


def _non_negative(value: float, where: str) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise StateFormatError(f"field {where} is {value}, not a count >= 0")


@dataclass(frozen=True)
class StateRead:
    """What the reader found at a state path: the typed state and the document as stored, or why not."""

    path: Path
    state: AdaptiveState | None = None
    document: dict[str, Any] | None = None  # the decoded JSON object, as the file holds it
    problem: str | None = None  # "<path>: ..." when a file exists but holds no usable state

    @property
    def missing(self) -> bool:
        return self.state is None and self.problem is None


def read_state_file(path: Path | str) -> StateRead:
    """Read and validate the state at `path` without ever raising, moving or creating a file.

    A missing file gives an empty StateRead; an unreadable, non-JSON or invalid one gives its
    `problem` (naming the file and the field) and logs it as a warning.
    """
    path = Path(path)
    from engine.store.select import state_target

    if (target := state_target(path)) is not None:  # the shared store (AIOS_STORE_URL)
        from engine.store.postgres import read_state_target

        return read_state_target(target, path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return StateRead(path)
    except OSError as exc:
        return _problem(path, f"cannot read the adaptive state ({exc.strerror})")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _problem(path, f"not valid JSON (line {exc.lineno}: {exc.msg})")
    except ValueError as exc:  # not UTF-8
        return _problem(path, f"not valid JSON ({exc})")
    try:
        state = parse_state(data, experiment_seed="")
    except StateFormatError as exc:
        return _problem(path, str(exc))
    return StateRead(path, state, data)


def _problem(path: Path, problem: str) -> StateRead:
    message = f"{path}: {problem}"
    log.warning("adaptive state unusable, read as none: %s", message)
    return StateRead(path, problem=message)


def read_state(path: Path | str) -> AdaptiveState | None:
    """The typed state at `path`, or None when it is missing or unusable (logged as a warning)."""
    return read_state_file(path).state


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
        return parse_state(json.loads(raw), experiment_seed, config), True
    except ValueError as exc:  # StateFormatError, bad JSON, not UTF-8
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

    def __new__(cls, path: Path, experiment_seed: str, config: AdaptiveConfig) -> StateCache:
        # Pluggable backend: the settings' own state lives in PostgreSQL when AIOS_STORE_URL is set.
        if cls is StateCache:
            from engine.store.select import state_target

            if state_target(path) is not None:
                from engine.store.postgres import PostgresStateCache

                return super().__new__(PostgresStateCache)
        return super().__new__(cls)

    def __init__(self, path: Path, experiment_seed: str, config: AdaptiveConfig) -> None:
        self.path = path
        self.experiment_seed = experiment_seed
        self.config = config
        self._last: tuple[bytes, AdaptiveState] | None = None  # replaced whole: safe across threads
        self._next_tag: str | None = None  # what the next `stage` is for (set by load_for_update)

    def load_for_update(self, tag: str | None = None, logged: Callable[[str], bool] | None = None) -> AdaptiveState:
        """`load` for a read-modify-write: call it under `state_lock`, then `stage` the new state.

        First settles what writers killed mid-update left: a staged state whose events reached the
        log (`logged(tag)` says so) and that was staged from the state now in place is put in place
        (the kill fell between the append and the rename); any other is deleted. `tag` names this
        update's events for the same check should this writer be killed in turn.
        """
        self._settle_dead_writers(logged)
        self._next_tag = tag if tag is None or _TAG_TEXT.fullmatch(tag) else None
        return self.load()

    def _settle_dead_writers(self, logged: Callable[[str], bool] | None) -> None:
        stale = dead_writer_temps(self.path)
        if not stale:
            return
        base = _fingerprint(_read(self.path))
        for tmp, tag in stale:
            events, _, staged_from = (tag or "").rpartition("-")
            if events and staged_from == base and logged is not None and logged(events):
                try:
                    parse_state(json.loads(tmp.read_bytes()), self.experiment_seed, self.config)
                    os.replace(tmp, self.path)
                except (OSError, ValueError) as exc:
                    log.warning("adaptive state %s: a killed writer's update %s is unusable (%s); dropped",
                                self.path, tmp.name, type(exc).__name__)
                else:
                    log.warning("adaptive state %s: put in place the update of a writer killed after logging "
                                "its events (%s)", self.path, events)
                    base = _fingerprint(_read(self.path))
                    continue
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass

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

    def stage(self, state: AdaptiveState) -> StagedCacheWrite:
        """Write `state` beside the file, to be put in place by `commit()` once the events it counts
        are in the log (a kill in between leaves the old state and its temp file, which the next
        load removes); leaving the `with` block without a commit discards it."""
        data = encode_state(state)
        tag, self._next_tag = self._next_tag, None
        if tag is not None:  # the update's events and the state it was made from, for `_settle_dead_writers`
            tag = f"{tag}-{_fingerprint(_read(self.path))}"
        return StagedCacheWrite(self, stage_bytes_atomic(self.path, data, tag), data, state)


# A tag names the events of one update: letters, digits, '_' (it goes into a file name).
_TAG_TEXT = re.compile(r"[A-Za-z0-9_]{1,100}")


def _fingerprint(raw: bytes | None) -> str:
    """Which state file a staged update was made from (crc32 of its bytes; a missing file is b"")."""
    return f"{zlib.crc32(raw or b''):08x}"


class StagedCacheWrite:
    """A state staged by `StateCache.stage`: `commit()` puts it in place and remembers its bytes."""

    def __init__(self, cache: StateCache, staged: StagedWrite, data: bytes, state: AdaptiveState) -> None:
        self._cache, self._staged, self._data, self._state = cache, staged, data, state

    def commit(self) -> None:
        self._staged.commit()
        self._cache._last = (self._data, self._state)

    def discard(self) -> None:
        self._staged.discard()

    def __enter__(self) -> StagedCacheWrite:
        return self

    def __exit__(self, *exc: object) -> None:
        self._staged.discard()


@contextmanager
def state_lock(path: Path) -> Iterator[None]:
    """Exclusive cross-process (flock) and cross-thread lock for a read-modify-write of the state;
    with AIOS_STORE_URL, a transaction holding the experiment's row (every replica, every host)."""
    from engine.store.select import state_target

    if (target := state_target(path)) is not None:
        from engine.store.postgres import state_transaction

        with state_transaction(target):
            yield
        return
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


def reset_state(path: Path) -> Path | None:
    """Delete the state file (runbook: "Clear Adaptive State"); returns the path if one existed."""
    from engine.store.select import state_target

    if (target := state_target(path)) is not None:  # the store's row is cleared instead
        from engine.store.postgres import write_document

        existed = write_document(target, None)
        log.info("adaptive state of experiment %s cleared in the store", target.experiment)
        return path if existed else None
    with state_lock(path):
        try:
            path.unlink()
        except FileNotFoundError:
            return None
    log.info("adaptive state %s deleted: the next question starts a fresh experiment", path)
    return path
