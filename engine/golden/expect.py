"""Expected answers on golden cases: `expected` (a reference answer, judged by the final answer both state)
and `assert` (promptfoo-style checks: equals, contains, icontains, regex, number, choice; any of them
negated with a "not-" prefix). A case whose check fails regresses whatever its baseline says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from engine.errors import InputError
from engine.loop.final_answer import (
    compare_final_answers,
    extract_final_answer,
    format_number,
    normalise_span,
    numbers_agree,
    read_final_answer_as,
)

CHECK_TYPES: Final = ("equals", "contains", "icontains", "regex", "number", "choice")
NEGATION: Final = "not-"
CHOICES: Final = "ABCDE"
# A free-text expected answer agrees when its words and the answer's final sentence share this much
# (token F1); numbers, letters and yes/no agree exactly or not at all.
SPAN_AGREEMENT: Final = 0.6


@dataclass(frozen=True)
class Check:
    """One assertion on an answer. `value` is text, a regex, a number or a letter by `type`;
    `tolerance` (number only) is the absolute difference allowed."""

    type: str
    value: str
    negate: bool = False
    tolerance: float | None = None

    def describe(self) -> str:
        name = (NEGATION if self.negate else "") + self.type
        extra = f" (tolerance {self.tolerance:g})" if self.tolerance is not None else ""
        return f"{name} {self.value!r}{extra}"

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": (NEGATION if self.negate else "") + self.type, "value": self.value}
        if self.tolerance is not None:
            data["tolerance"] = self.tolerance
        return data


def _number_text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return format_number(float(value)) if not isinstance(value, str) else format_number(float(value.strip()))
    except ValueError:
        return None


def parse_expected(value: Any, where: str) -> str | None:
    """The case's `expected` as text (a number is written canonically); None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"{where}: field 'expected' must be text or a number, got {type(value).__name__}")
    text = value.strip() if isinstance(value, str) else format_number(value)
    if not text:
        raise InputError(f"{where}: field 'expected' is empty")
    return text


def parse_checks(value: Any, where: str) -> tuple[Check, ...]:
    """The case's `assert` list as Checks; InputError naming the case and the check's position for an
    unknown type, a missing value, an invalid regex, a non-numeric number or a letter outside A-E."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError(f"{where}: field 'assert' must be a list of checks like "
                         '{"type": "contains", "value": "Paris"}')
    checks = []
    for index, item in enumerate(value, start=1):
        at = f"{where}: assert #{index}"
        if not isinstance(item, dict):
            raise InputError(f"{at}: expected an object with type and value, got {type(item).__name__}")
        raw_type = item.get("type")
        if not isinstance(raw_type, str):
            raise InputError(f"{at}: field 'type' is missing (one of {', '.join(CHECK_TYPES)})")
        negate = raw_type.startswith(NEGATION)
        kind = raw_type[len(NEGATION):] if negate else raw_type
        if kind not in CHECK_TYPES:
            raise InputError(f"{at}: unknown type {raw_type!r}; expected one of {', '.join(CHECK_TYPES)} "
                             f"(or {NEGATION}<type>)")
        raw_value = item.get("value")
        tolerance = item.get("tolerance")
        if kind == "number":
            text = _number_text(raw_value)
            if text is None:
                raise InputError(f"{at}: a number check needs a numeric 'value', got {raw_value!r}")
            if tolerance is not None and (isinstance(tolerance, bool) or not isinstance(tolerance, (int, float))
                                          or tolerance < 0):
                raise InputError(f"{at}: 'tolerance' must be a number >= 0, got {tolerance!r}")
            checks.append(Check(kind, text, negate, None if tolerance is None else float(tolerance)))
            continue
        if tolerance is not None:
            raise InputError(f"{at}: 'tolerance' applies only to number checks")
        if isinstance(raw_value, (int, float)) and not isinstance(raw_value, bool):
            raw_value = format_number(raw_value)
        if not isinstance(raw_value, str) or not raw_value.strip():
            raise InputError(f"{at}: field 'value' is missing or empty")
        if kind == "regex":
            try:
                re.compile(raw_value)
            except re.error as exc:
                raise InputError(f"{at}: invalid regex {raw_value!r} ({exc})") from None
        if kind == "choice":
            letter = raw_value.strip().strip("()").upper()
            if len(letter) != 1 or letter not in CHOICES:
                raise InputError(f"{at}: a choice check needs a letter A-E, got {raw_value!r}")
            raw_value = letter
        checks.append(Check(kind, raw_value, negate))
    return tuple(checks)


def _run_check(check: Check, answer: str, question: str) -> tuple[bool, str]:
    """(holds, what the answer showed) for one check, before negation."""
    final = extract_final_answer(answer, question)
    if check.type == "contains":
        return check.value in answer, "it does" if check.value in answer else "it does not"
    if check.type == "icontains":
        found = check.value.lower() in answer.lower()
        return found, "it does" if found else "it does not"
    if check.type == "regex":
        found = re.search(check.value, answer) is not None
        return found, "it matches" if found else "no match"
    if check.type == "equals":
        if answer.strip() == check.value.strip():
            return True, "the answer is exactly that"
        reference = extract_final_answer(check.value, question)
        reading = read_final_answer_as(final, reference.kind)
        if reading is None or reading.kind != reference.kind:
            return False, f"its final answer is {final.value!r}"
        if reference.kind == "number":
            same = numbers_agree(reading.value, reference.value)
        elif reference.kind == "span":
            same = normalise_span(answer) == reference.value or reading.value == reference.value
        else:
            same = reading.value == reference.value
        return same, f"its final answer is {reading.value!r}"
    if check.type == "number":
        reading = read_final_answer_as(final, "number")
        if reading is None:
            return False, "it states no number"
        if check.tolerance is not None:
            holds = abs(float(reading.value) - float(check.value)) <= check.tolerance + 1e-12
        else:
            holds = numbers_agree(reading.value, check.value)
        return holds, f"its final answer is {reading.value}"
    reading = read_final_answer_as(final, "choice")  # choice
    if reading is None:
        return False, "it names no choice A-E"
    return reading.value == check.value, f"it chose {reading.value}"


def compute_expectation_failures(question: str, answer: str, expected: str | None,
                                 checks: tuple[Check, ...] | list[Check]) -> list[str]:
    """The reasons this answer fails the case's expected answer and checks ([] when all hold).
    An empty answer fails every positive check; "no answer" itself is reported by the runner."""
    reasons = []
    if expected is not None:
        reference = extract_final_answer(expected, question)
        said = extract_final_answer(answer, question)
        agreement = compare_final_answers(reference, said)
        floor = SPAN_AGREEMENT if reference.kind == "span" else 1.0
        if agreement < floor:
            shown = said.value if said.kind == reference.kind or said.kind != "span" else said.raw
            reasons.append(f"expected answer {expected!r} ({reference.kind} {reference.value!r}), the answer says "
                           f"{shown!r} (agreement {agreement:.2f})")
    for check in checks:
        holds, seen = _run_check(check, answer, question)
        if holds == check.negate:
            reasons.append(f"check failed: {check.describe()}: {seen}")
    return reasons
