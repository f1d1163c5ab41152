"""Hypotheses checked on every answer: a registry of checks (classes by decorator, simple threshold
checks from `<data dir>/config/hypotheses.json`) that turns each outcome into a `hypothesis`
provenance event and never raises. Each Engine owns one registry (`build_hypothesis_registry`).
"""

from __future__ import annotations

import json
import logging
import math
import operator
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import InputError, StateError
from engine.provenance.events import HypothesisEvent, ResponseEvent
from engine.provenance.reader import tail_log
from engine.runbook import MAX_P95_LATENCY_MS, PASS_QUALITY
from engine.settings import Settings

log = logging.getLogger(__name__)

# Defaults that match runbook 004's figures: the SLO latency budget is P95 <= 20,000 ms, and the
# adaptive router only moves on quality deltas above 5 %, so "within 5 %" is the parity bar.
LATENCY_BUDGET_MS = MAX_P95_LATENCY_MS
QUALITY_FLOOR = PASS_QUALITY
EMBEDDER_PARITY_RATIO = 0.95
COMPLEXITY_BANDS = 5  # bands of width 0.2; [0.4, 0.6) straddles the default boundary of 0.5
MIN_BAND_SAMPLES = 5  # main answers a band needs before an embedder answer is compared with it
SEED_TAIL_EVENTS = 5_000  # log events read once, on first use, to seed the running means
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Outcome:
    """What a check returns: passed or not, the measured value and the threshold it was held to."""

    passed: bool
    value: float | None = None
    threshold: float | None = None


@dataclass
class BandStats:
    count: int = 0
    quality_sum: float = 0.0

    @property
    def mean(self) -> float | None:
        return self.quality_sum / self.count if self.count else None


@dataclass
class HypothesisContext:
    """Running context shared by the checks: main-model quality per complexity band.

    Kept as counts and sums so an update is O(1); the registry updates it after the checks of
    an event have run, so an answer is never compared with itself.
    """

    bands: list[BandStats] = field(default_factory=lambda: [BandStats() for _ in range(COMPLEXITY_BANDS)])

    @staticmethod
    def band_of(complexity: float) -> int:
        if not math.isfinite(complexity):
            return 0
        return min(COMPLEXITY_BANDS - 1, max(0, int(complexity * COMPLEXITY_BANDS)))

    def main_quality_mean(self, complexity: float, min_samples: int = MIN_BAND_SAMPLES) -> float | None:
        band = self.bands[self.band_of(complexity)]
        return band.mean if band.count >= min_samples else None

    def observe(self, event: ResponseEvent) -> None:
        """Count a main-model answer that a model actually gave (errors would drag the mean to 0)."""
        if event.route != "main" or event.source == "unknown" or event.error_code:
            return
        if not math.isfinite(event.quality):
            return
        band = self.bands[self.band_of(event.complexity)]
        band.count += 1
        band.quality_sum += event.quality


class Hypothesis(ABC):
    """One check over an answer event. Subclass it, set `id` and `description`, implement `check`.

    `check` returns an Outcome, or None when the hypothesis does not apply to this answer (no
    event is written then). Anything else, or an exception, is reported as a broken hypothesis.
    """

    id: str = ""
    description: str = ""

    @abstractmethod
    def check(self, event: ResponseEvent, context: HypothesisContext) -> Outcome | None:
        """The outcome for this answer, or None when the hypothesis does not apply."""


# The one registry of hypothesis classes, filled by @register_hypothesis at import time.
HYPOTHESES: dict[str, type[Hypothesis]] = {}


def register_hypothesis(cls: type[Hypothesis]) -> type[Hypothesis]:
    """Class decorator: make a Hypothesis subclass part of every registry built afterwards."""
    if not cls.id:
        raise ValueError(f"{cls.__name__} needs a non-empty `id`")
    if cls.id in HYPOTHESES and HYPOTHESES[cls.id] is not cls:
        raise ValueError(f"hypothesis id {cls.id!r} is already registered by {HYPOTHESES[cls.id].__name__}")
    HYPOTHESES[cls.id] = cls
    return cls


@register_hypothesis
class AnsweredByModel(Hypothesis):
    id = "answered_by_model"
    description = "The answer came from a model (source is not 'unknown')."

    def check(self, event: ResponseEvent, context: HypothesisContext) -> Outcome:
        answered = event.source != "unknown"
        return Outcome(answered, 1.0 if answered else 0.0, 1.0)


@register_hypothesis
class LatencyWithinBudget(Hypothesis):
    id = "latency_within_budget"
    description = f"Latency is within the SLO budget of {LATENCY_BUDGET_MS:,.0f} ms."

    def check(self, event: ResponseEvent, context: HypothesisContext) -> Outcome:
        return Outcome(event.latency_ms <= LATENCY_BUDGET_MS, float(event.latency_ms), LATENCY_BUDGET_MS)


@register_hypothesis
class QualityAboveFloor(Hypothesis):
    id = "quality_above_floor"
    description = f"The engine's quality score of the answer is at least {QUALITY_FLOOR}."

    def check(self, event: ResponseEvent, context: HypothesisContext) -> Outcome:
        return Outcome(event.quality >= QUALITY_FLOOR, float(event.quality), QUALITY_FLOOR)


@register_hypothesis
class EmbedderParity(Hypothesis):
    id = "embedder_quality_parity"
    description = ("An embedder answer reaches at least 95 % of the main model's mean quality "
                   "for questions of similar complexity (same 0.2-wide band).")

    def check(self, event: ResponseEvent, context: HypothesisContext) -> Outcome | None:
        if event.route != "embedder" or event.source == "unknown":
            return None
        main_mean = context.main_quality_mean(event.complexity)
        if main_mean is None or main_mean <= 0:
            return None
        ratio = event.quality / main_mean
        return Outcome(ratio >= EMBEDDER_PARITY_RATIO, ratio, EMBEDDER_PARITY_RATIO)


# ---------------------------------------------------------------------------------------------
# Config-file hypotheses: simple threshold checks on one event field.

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}


def event_field(event: ResponseEvent, path: str) -> Any:
    """The value at a dotted path of the event (`latency_ms`, `tokens.total`,
    `quality_components.relevance`); raises KeyError when it is absent."""
    value: Any = event.model_dump()
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"event has no field {path!r}")
        value = value[part]
    return value


class ThresholdHypothesis(Hypothesis):
    """A config entry: `{"id", "description", "field", "op", "threshold", "when": {field: value}}`."""

    def __init__(self, hypothesis_id: str, description: str, field_path: str, op: str,
                 threshold: float | str | bool, when: dict[str, Any] | None = None) -> None:
        self.id = hypothesis_id
        self.description = description
        self.field_path = field_path
        self.op = op
        self.threshold = threshold
        self.when = when or {}

    def check(self, event: ResponseEvent, context: HypothesisContext) -> Outcome | None:
        for key, expected in self.when.items():
            if event_field(event, key) != expected:
                return None
        value = event_field(event, self.field_path)
        passed = OPERATORS[self.op](value, self.threshold)
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        threshold = self.threshold if isinstance(self.threshold, (int, float)) else None
        return Outcome(bool(passed), float(value) if numeric else None,
                       float(threshold) if threshold is not None else None)


class BrokenHypothesis(Hypothesis):
    """Stands in for a config entry that could not be loaded, so the problem shows in the log."""

    def __init__(self, hypothesis_id: str, problem: str) -> None:
        self.id = hypothesis_id
        self.description = f"could not be loaded: {problem}"
        self.problem = problem

    def check(self, event: ResponseEvent, context: HypothesisContext) -> Outcome:
        raise InputError(self.problem)


def config_path(settings: Settings) -> Path:
    return settings.paths.config_dir / "hypotheses.json"


def parse_hypothesis_config(data: Any, source: str) -> list[Hypothesis]:
    """Build the hypotheses of a decoded hypotheses.json; a bad entry becomes a BrokenHypothesis.

    Raises InputError (naming `source`) only when the document as a whole is not a list.
    """
    entries = data.get("hypotheses") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise InputError(f"{source}: expected a JSON list of hypotheses (or {{\"hypotheses\": [...]}})")
    out: list[Hypothesis] = []
    for index, entry in enumerate(entries):
        where = f"{source}: entry {index}"
        if not isinstance(entry, dict):
            out.append(BrokenHypothesis(f"config_{index}", f"{where} is not an object"))
            continue
        hypothesis_id = entry.get("id")
        if not isinstance(hypothesis_id, str) or not hypothesis_id:
            out.append(BrokenHypothesis(f"config_{index}", f"{where}: field id must be a non-empty string"))
            continue
        problem = None
        if not isinstance(entry.get("field"), str) or not entry["field"]:
            problem = f"{where} ({hypothesis_id}): field 'field' must name an event field"
        elif entry.get("op") not in OPERATORS:
            problem = f"{where} ({hypothesis_id}): field 'op' must be one of {sorted(OPERATORS)}"
        elif not isinstance(entry.get("threshold"), (int, float, str, bool)):
            problem = f"{where} ({hypothesis_id}): field 'threshold' must be a number, string or boolean"
        elif "when" in entry and not isinstance(entry["when"], dict):
            problem = f"{where} ({hypothesis_id}): field 'when' must be an object of field: value"
        if problem:
            out.append(BrokenHypothesis(hypothesis_id, problem))
            continue
        out.append(ThresholdHypothesis(hypothesis_id, str(entry.get("description", "")), entry["field"],
                                       entry["op"], entry["threshold"], entry.get("when")))
    return out


def load_config_hypotheses(path: Path) -> list[Hypothesis]:
    """Read hypotheses.json (none when absent). Raises InputError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_hypothesis_config(data, str(path))


# ---------------------------------------------------------------------------------------------
# The registry and the evaluation the loop calls.

def _valid_outcome(result: Any) -> str | None:
    """Why a check's return value is garbage, or None when it is a usable Outcome."""
    if not isinstance(result, Outcome):
        return f"returned {type(result).__name__}, expected Outcome or None"
    # numpy scalars are accepted: a check written as `value <= threshold` on numpy data yields one.
    if not isinstance(result.passed, (bool, np.bool_)):
        return f"passed is {type(result.passed).__name__}, expected bool"
    for name in ("value", "threshold"):
        number = getattr(result, name)
        if number is None:
            continue
        if isinstance(number, (bool, np.bool_)) or not isinstance(number, (int, float, np.integer, np.floating)) \
                or not math.isfinite(number):
            return f"{name} is {number!r}, expected a finite number or None"
    return None


class HypothesisRegistry:
    """The hypotheses of one process and their running context; thread-safe."""

    def __init__(self, hypotheses: list[Hypothesis], *, secrets: list[str] | None = None,
                 context: HypothesisContext | None = None) -> None:
        self.hypotheses = hypotheses
        self.context = context or HypothesisContext()
        self._secrets = [s for s in (secrets or []) if s]
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> HypothesisRegistry:
        """Registered classes, then the config file's entries; the context is seeded from the log."""
        hypotheses: list[Hypothesis] = []
        for hypothesis_id, hypothesis_cls in HYPOTHESES.items():
            try:
                hypotheses.append(hypothesis_cls())
            except Exception as exc:  # a registered class that cannot even be built is reported
                hypotheses.append(BrokenHypothesis(hypothesis_id, f"cannot be created: {exc!r}"))
        path = config_path(settings)
        try:
            hypotheses.extend(load_config_hypotheses(path))
        except InputError as exc:
            log.warning("hypotheses config ignored: %s", exc.message)
            hypotheses.append(BrokenHypothesis("config:hypotheses.json", exc.message))
        seen: set[str] = set()
        unique: list[Hypothesis] = []
        for hypothesis in hypotheses:
            if hypothesis.id in seen:
                unique.append(BrokenHypothesis(f"{hypothesis.id}#dup",
                                               f"{path}: id {hypothesis.id!r} is used twice"))
                continue
            seen.add(hypothesis.id)
            unique.append(hypothesis)
        registry = cls(unique, secrets=settings.secret_values())
        registry.seed_from_log(settings.paths.log)
        return registry

    def seed_from_log(self, path: Path, n: int = SEED_TAIL_EVENTS) -> int:
        """Feed the last `n` events of the log in use (the file or the PostgreSQL store) into the running
        context; returns the responses used. A store that cannot be read seeds nothing (warned): the
        context is a warm start, and the answer's own write reports the store's problem."""
        used = 0
        try:
            tail = tail_log(path, n).events
        except StateError as exc:
            log.warning("hypotheses start without the log's recent answers: %s", exc.message)
            return 0
        for raw in tail:
            if raw.get("event_type") != "response":
                continue
            try:
                event = ResponseEvent.model_validate(raw)
            except ValueError:
                continue
            self.context.observe(event)
            used += 1
        return used

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "**********")
        return text[:MAX_ERROR_CHARS]

    def _report(self, hypothesis_id: str, problem: str) -> None:
        # Warn once per hypothesis per process: a broken check would otherwise flood the log.
        if hypothesis_id not in self._warned:
            self._warned.add(hypothesis_id)
            log.warning("hypothesis %s is broken and was skipped: %s", hypothesis_id, problem)
        else:
            log.debug("hypothesis %s is broken and was skipped: %s", hypothesis_id, problem)

    def evaluate(self, event: ResponseEvent) -> list[HypothesisEvent]:
        """Run every hypothesis on `event`; a broken one yields passed=None with `error`."""
        out: list[HypothesisEvent] = []
        common: dict[str, Any] = {"message_id": event.message_id, "session_id": event.session_id,
                  "run_id": event.run_id, "bucket": event.bucket, "route": event.route}
        with self._lock:
            for hypothesis in self.hypotheses:
                hypothesis_id = str(getattr(hypothesis, "id", "") or type(hypothesis).__name__)
                try:
                    result = hypothesis.check(event, self.context)
                    problem = None if result is None else _valid_outcome(result)
                except Exception as exc:  # any failure of user code is reported, never raised
                    result = None
                    problem = (str(exc.args[0]) if isinstance(hypothesis, BrokenHypothesis) and exc.args
                               else f"raised {type(exc).__name__}: {exc}")
                if problem is not None:
                    problem = self._clean(problem)
                    self._report(hypothesis_id, problem)
                    out.append(HypothesisEvent(hypothesis_id=hypothesis_id, passed=None,
                                               error=problem, **common))
                elif result is not None:
                    out.append(HypothesisEvent(
                        hypothesis_id=hypothesis_id, passed=bool(result.passed),
                        value=None if result.value is None else float(result.value),
                        threshold=None if result.threshold is None else float(result.threshold),
                        **common))
            self.context.observe(event)
        return out

    def describe(self) -> list[dict[str, str]]:
        """Id and description of each hypothesis, for the CLI and the dashboard."""
        return [{"id": h.id, "description": h.description,
                 "broken": "yes" if isinstance(h, BrokenHypothesis) else "no"} for h in self.hypotheses]


def build_hypothesis_registry(settings: Settings) -> HypothesisRegistry:
    """The hypotheses for one engine: registered classes, then hypotheses.json, seeded from the log.

    Never raises: a registry that cannot be built at all becomes one broken hypothesis, so every
    answer still logs a `hypothesis` event saying why (passed null, error).
    """
    try:
        return HypothesisRegistry.from_settings(settings)
    except Exception as exc:  # the loop must keep answering even if the registry cannot load
        log.warning("hypotheses skipped: the registry could not be built: %s", type(exc).__name__)
        return HypothesisRegistry([BrokenHypothesis("registry", f"registry could not be built: "
                                                                f"{type(exc).__name__}")])
