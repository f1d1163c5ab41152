"""Golden sets and baselines on disk: loading with validation, content hashes, atomic writes.

A golden set is runbook 004's format, a JSON list of {"id", "question", "trait"}; a case may also
carry `expected` (a reference answer) and `assert` (a list of checks, engine/golden/expect.py). `trait`
is free text. A baseline is what `record` wrote: the set's hash, what was sent to the model
(`sampling`), and per case id the recorded answer, its K samples and their spread.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.atomic import write_text_atomic
from engine.errors import InputError
from engine.golden.expect import Check, parse_checks, parse_expected

log = logging.getLogger(__name__)

# Above these a golden set is named in a warning before anything is asked: a 50 MB set is 250,000
# questions, which nobody should start by accident.
LARGE_FILE_BYTES = 5_000_000
LARGE_SET_CASES = 5_000

# 2: K samples per case with their spread, and the sampling params sent (version 1 still loads).
BASELINE_VERSION = 2


@dataclass(frozen=True)
class GoldenCase:
    id: str
    question: str
    trait: str = "general"
    expected: str | None = None
    checks: tuple[Check, ...] = ()

    @property
    def has_expectations(self) -> bool:
        return self.expected is not None or bool(self.checks)

    @property
    def question_hash(self) -> str:
        return hashlib.sha256(self.question.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class GoldenSet:
    path: Path
    cases: tuple[GoldenCase, ...]

    @property
    def hash(self) -> str:
        return compute_set_hash(self.cases)

    def ids(self) -> list[str]:
        return [case.id for case in self.cases]


@dataclass
class Baseline:
    path: Path
    set_hash: str
    set_path: str
    recorded_at: str
    provider: str
    simulated: bool
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What record sent besides the question ({"seed": ..., "temperature": ...}); None for a version-1
    # baseline, whose compare then sends the engine's defaults as its record did.
    sampling: dict[str, Any] | None = None

    def changed_cases(self, golden_set: GoldenSet) -> list[str]:
        """Ids in both the set and the baseline whose question was edited since the recording."""
        return [c.id for c in golden_set.cases
                if c.id in self.cases and self.cases[c.id].get("question_hash", c.question_hash) != c.question_hash]

    def without(self, case_ids: list[str]) -> Baseline:
        """The same baseline minus some cases (an edited question has no comparable answer)."""
        return Baseline(self.path, self.set_hash, self.set_path, self.recorded_at, self.provider, self.simulated,
                        {k: v for k, v in self.cases.items() if k not in set(case_ids)}, self.sampling)

    @property
    def hash(self) -> str:
        """Content hash of the recorded answers, so a report names exactly what it compared with."""
        canonical = json.dumps(self.cases, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def compute_set_hash(cases: tuple[GoldenCase, ...] | list[GoldenCase]) -> str:
    """sha256 of the cases' canonical JSON (id, question, trait, and expected/assert where a case has
    them, so a plain set keeps the hash it always had), order-independent; 16 hex digits."""
    rows = sorted([c.id, c.question, c.trait]
                  + ([c.expected or "", [check.as_json() for check in c.checks]] if c.has_expectations else [])
                  for c in cases)
    canonical = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _read_json(path: Path, what: str) -> Any:
    """Decode a JSON file; InputError naming the file (and line) when missing, empty or invalid."""
    if not path.exists():
        raise InputError(f"{path}: {what} file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a {what} JSON file")
    try:
        size = path.stat().st_size
        if size > LARGE_FILE_BYTES:
            log.warning("%s: the %s file is %.0f MB; reading it and asking every case takes a while "
                        "(Ctrl-C stops, nothing is half-written)", path, what, size / 1e6)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: {what} file is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} file ({exc.strerror or type(exc).__name__})") from None
    if not text.strip():
        raise InputError(f"{path}: {what} file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(f"{path}: {what} file is nested too deeply to be a {what}") from None


def load_golden_set(path: Path | str) -> GoldenSet:
    """Read and validate a golden set.

    Raises InputError naming the file and the case (by id, or by position when it has no id) for:
    a missing/empty/non-JSON file, a top level that is not a list, an item that is not an object,
    a missing or empty id or question, a non-string trait, duplicate ids, an empty list, and an
    `expected` or `assert` that cannot be checked (see engine/golden/expect.py).
    """
    path = Path(path)
    data = _read_json(path, "golden set")
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of {{\"id\", \"question\", \"trait\"}} objects, "
                         f"got {type(data).__name__}")
    if not data:
        raise InputError(f"{path}: the golden set has no cases")
    cases: list[GoldenCase] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(data, start=1):
        where = f"{path}: case #{index}"
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected an object with id, question and trait, got {type(item).__name__}")
        case_id = item.get("id")
        if isinstance(case_id, (int, float)) and not isinstance(case_id, bool):
            raise InputError(f"{where}: field 'id' is the number {case_id}; ids are text: write \"{case_id}\"")
        if case_id is not None and not isinstance(case_id, str):
            raise InputError(f"{where}: field 'id' must be text, got {type(case_id).__name__}")
        if not isinstance(case_id, str) or not case_id.strip():
            raise InputError(f"{where}: field 'id' is missing or empty")
        case_id = case_id.strip()
        where = f"{path}: case '{case_id}' (#{index})"
        question = item.get("question")
        if question is None:
            raise InputError(f"{where}: field 'question' is missing")
        if not isinstance(question, str) or not question.strip():
            raise InputError(f"{where}: field 'question' is empty or not text")
        trait = item.get("trait", "general")
        if not isinstance(trait, str) or not trait.strip():
            raise InputError(f"{where}: field 'trait' must be a non-empty string")
        if case_id in seen:
            raise InputError(f"{where}: duplicate id '{case_id}' (first used by case #{seen[case_id]})")
        seen[case_id] = index
        expected = parse_expected(item.get("expected"), where)
        checks = parse_checks(item.get("assert"), where)
        cases.append(GoldenCase(case_id, question.strip(), trait.strip(), expected, checks))
    if len(cases) > LARGE_SET_CASES:
        log.warning("%s: %d golden cases; every run asks each of them (Ctrl-C stops, nothing is half-written)",
                    path, len(cases))
    return GoldenSet(path=path, cases=tuple(cases))


def load_baseline(path: Path | str, golden_set: GoldenSet | None = None) -> Baseline:
    """Read and validate a baseline written by `record`.

    When `golden_set` is given, a baseline that shares no case (same id and same question) with it
    is rejected as "from another set"; partial overlap is fine (added/missing cases are reported).
    Raises InputError naming the file and the case.
    """
    path = Path(path)
    data = _read_json(path, "baseline")
    if not isinstance(data, dict) or not isinstance(data.get("cases"), dict):
        raise InputError(f"{path}: not a golden baseline (expected an object with 'set_hash' and 'cases'; "
                         "write one with `golden_runner.py record`)")
    for name in ("set_hash",):
        if not isinstance(data.get(name), str):
            raise InputError(f"{path}: field '{name}' is missing")
    cases: dict[str, dict[str, Any]] = {}
    for case_id, entry in data["cases"].items():
        where = f"{path}: case '{case_id}'"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: expected an object")
        for name, kinds in (("answer", str), ("quality", (int, float)), ("source", str)):
            if not isinstance(entry.get(name), kinds) or isinstance(entry.get(name), bool):
                raise InputError(f"{where}: field '{name}' is missing or has the wrong type")
        cases[case_id] = entry
        samples = entry.get("samples")
        if samples is not None and (not isinstance(samples, list) or not all(
                isinstance(s, dict) and isinstance(s.get("answer"), str) for s in samples)):
            raise InputError(f"{where}: field 'samples' must be a list of objects with an answer")
    sampling = data.get("sampling")
    if sampling is not None and not isinstance(sampling, dict):
        raise InputError(f"{path}: field 'sampling' must be an object")
    baseline = Baseline(path=path, set_hash=data["set_hash"], set_path=str(data.get("set_path", "")),
                        recorded_at=str(data.get("recorded_at", "")), provider=str(data.get("provider", "")),
                        simulated=bool(data.get("simulated", False)), cases=cases, sampling=sampling)
    if golden_set is not None and baseline.set_hash != golden_set.hash:
        shared = [c.id for c in golden_set.cases
                  if c.id in cases and cases[c.id].get("question_hash", c.question_hash) == c.question_hash]
        if not shared:
            first = golden_set.cases[0].id
            raise InputError(
                f"{path}: baseline is from another set (recorded from {baseline.set_path or '?'}, hash "
                f"{baseline.set_hash}); it shares no case with {golden_set.path} (hash {golden_set.hash}), "
                f"e.g. case '{first}' is not in it. Record a new baseline for this set.")
    return baseline


def write_json_atomic(path: Path | str, data: Any) -> Path:
    """Write JSON to a temporary file beside `path`, fsync, then rename over it.

    A reader (or a Ctrl-C) never sees a half-written file: either the old content or the new.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return write_text_atomic(path, text)
