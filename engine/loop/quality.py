"""The quality scorer: answer text (+ question, + complexity) -> quality in [0, 1] with components.

Heuristic components, each in [0, 1] where 1 means "no problem": `empty_or_error`, `refusal`,
`coverage` (share of the question's key terms the answer uses), `length` (adequate for the
question's complexity) and `repetition` (no degenerate loops). Optionally the main model judges
(AIOS_QUALITY_JUDGE=1); if the judge fails or answers invalid JSON the heuristic stands and the
reason is recorded (`quality_method`, `fallback_reason` = ASSIST_JSON_INVALID, ...).
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from engine.runbook import PROVIDER_HTTP_ERROR

ASSIST_JSON_INVALID = "ASSIST_JSON_INVALID"
JUDGE_FAILED = "JUDGE_FAILED"

STOPWORDS = frozenset(
    "a an the and or but if then else of to in on at by for with about as is are was were be been "
    "being do does did doing have has had what which who whom whose when where why how this that "
    "these those it its i you he she we they me my your our their can could should would will "
    "shall may might must not no yes so than too very just from into over under between please "
    "tell give explain describe there here also any some each more most other such only own same "
    "both few many much one two get got make made use using used like want need know".split()
)
REFUSAL = re.compile(
    r"\b(i'?m sorry,? but i can(?:no|')t|i (?:am not able|cannot|can'?t|won'?t) (?:help|answer|provide|assist)|"
    r"as an ai(?: language model)?,? i (?:cannot|can'?t|don'?t)|i am unable to|i'?m unable to|"
    r"i do not have (?:access|the ability))", re.I)
TERM = re.compile(r"[A-Za-z][A-Za-z0-9_'-]{2,}")

# Weights of the soft components; empty_or_error and refusal gate the result instead.
WEIGHTS = {"coverage": 0.45, "length": 0.25, "repetition": 0.30}
REFUSAL_CEILING = 0.1


@dataclass
class QualityResult:
    quality: float
    components: dict[str, float]
    method: str = "heuristic"  # heuristic | judge | heuristic_fallback
    fallback_reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def stem(word: str) -> str:
    """A crude stem so that 'routing' matches 'route' and 'lists' matches 'list'."""
    word = word.lower().strip("'-")
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def key_terms(text: str) -> list[str]:
    """The question's content words (stemmed, deduplicated, in order)."""
    seen: dict[str, None] = {}
    for word in TERM.findall(text):
        if word.lower() not in STOPWORDS:
            seen.setdefault(stem(word), None)
    return list(seen)


def compute_coverage(question: str, answer: str) -> float:
    terms = key_terms(question)
    if not terms:
        return 1.0
    answer_stems = {stem(w) for w in TERM.findall(answer)}
    return sum(1 for t in terms if t in answer_stems) / len(terms)


def expected_words(complexity: float) -> float:
    """The fewest words a complete answer needs: a fact takes one sentence, an analysis paragraphs."""
    c = max(0.0, min(1.0, complexity))
    return 4.0 + 120.0 * c * c


def compute_length(answer: str, complexity: float) -> float:
    """1.0 from the expected minimum up to a generous maximum; less when too short or rambling."""
    words = len(answer.split())
    ratio = words / expected_words(complexity)
    if ratio < 1.0:
        return max(0.0, ratio)
    ceiling = 120.0 + 500.0 * max(0.0, min(1.0, complexity))
    if words > ceiling:
        return max(0.3, 1.0 - (words - ceiling) / (2 * ceiling))
    return 1.0


def compute_repetition(answer: str) -> float:
    """Share of distinct word trigrams (1.0 for short answers), mapped so prose scores about 1."""
    words = [w.lower() for w in answer.split()]
    if len(words) < 12:
        return 1.0
    grams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
    distinct = len(set(grams)) / len(grams)
    return max(0.0, min(1.0, (distinct - 0.3) / 0.55))


def compute_quality(question: str, answer: str, complexity: float = 0.5,
                    error_code: str | None = None) -> QualityResult:
    """The heuristic quality of one answer. Pure: no I/O."""
    text = (answer or "").strip()
    if error_code or not text:
        components = {"empty_or_error": 0.0, "refusal": 1.0, "coverage": 0.0, "length": 0.0, "repetition": 0.0}
        return QualityResult(0.0, components)
    components = {
        "empty_or_error": 1.0,
        "refusal": 0.0 if REFUSAL.search(text[:400]) else 1.0,
        "coverage": round(compute_coverage(question, text), 4),
        "length": round(compute_length(text, complexity), 4),
        "repetition": round(compute_repetition(text), 4),
    }
    soft = sum(weight * components[name] for name, weight in WEIGHTS.items())
    if components["refusal"] == 0.0:
        soft = min(soft, REFUSAL_CEILING)
    return QualityResult(round(max(0.0, min(1.0, soft)), 4), components)


JUDGE_PROMPT = (
    "You grade an assistant's answer. Reply with JSON only: "
    '{"score": <number from 0 to 1>, "reason": "<one sentence>"}. '
    "1 means correct, complete and clear; 0 means wrong, empty or a refusal."
)
# The verdict's shape, for servers that constrain output to a JSON schema (small local models rarely
# write the JSON unconstrained). The score comes first so a reply cut short still carries it.
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"score": {"type": "number", "minimum": 0, "maximum": 1},
                   "reason": {"type": "string", "maxLength": 200}},
    "required": ["score", "reason"],
    "additionalProperties": False,
}
# How the verdict is asked for, most constrained first: OpenAI's `json_schema` response format (OpenAI,
# vLLM, LM Studio, Ollama, llama.cpp's own server), the `json_object` + `schema` form of
# llama-cpp-python's server, then the prompt alone (parsed as before). A server that refuses a format
# with an HTTP error gets the next one; the format a provider accepted is remembered for it.
JUDGE_FORMATS: tuple[tuple[str, dict[str, Any] | None], ...] = (
    ("json_schema", {"type": "json_schema",
                     "json_schema": {"name": "verdict", "strict": True, "schema": JUDGE_SCHEMA}}),
    ("json_object", {"type": "json_object", "schema": JUDGE_SCHEMA}),
    ("prompt", None),
)
_JUDGE_FORMAT_OF: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_JUDGE_FORMAT_LOCK = threading.Lock()
_SCORE_FIELD = re.compile(r'"score"\s*:\s*(-?\d+(?:\.\d+)?)')


def parse_judge_reply(text: str) -> float | None:
    """The score in a judge's JSON reply, or None when the reply is not valid judge JSON. A reply cut
    off after its score (`{"score": 0.8, "reason": "Paris is`) still counts: the score is complete."""
    match = re.search(r"\{.*\}", text or "", re.S)
    score: float | None = None
    if match:
        try:
            score = float(json.loads(match.group(0))["score"])
        except (ValueError, KeyError, TypeError):
            score = None
    if score is None:
        cut = _SCORE_FIELD.search(text or "")
        if cut is None or not (text or "").lstrip().startswith("{"):
            return None
        score = float(cut.group(1))
    return score if 0.0 <= score <= 1.0 else None


def _remembered_format(provider: Any) -> int:
    try:
        with _JUDGE_FORMAT_LOCK:
            name = _JUDGE_FORMAT_OF.get(provider)
    except TypeError:  # a provider that cannot be weakly referenced: start from the top each time
        return 0
    return next((i for i, (n, _) in enumerate(JUDGE_FORMATS) if n == name), 0)


def _remember_format(provider: Any, name: str) -> None:
    try:
        with _JUDGE_FORMAT_LOCK:
            _JUDGE_FORMAT_OF[provider] = name
    except TypeError:
        pass


def judge_quality(provider: Any, question: str, answer: str, heuristic: QualityResult) -> QualityResult:
    """Ask the main model to grade: with a JSON schema where the server supports one, else the prompt
    alone; parse the verdict; on failure keep the heuristic and record why. `detail["judge_format"]`
    records how the verdict was asked for (json_schema | json_object | prompt)."""
    messages = [{"role": "system", "content": JUDGE_PROMPT},
                {"role": "user", "content": f"Question:\n{question}\n\nAnswer:\n{answer}"}]
    start = _remembered_format(provider)
    for index in range(start, len(JUDGE_FORMATS)):
        name, response_format = JUDGE_FORMATS[index]
        extra = {"params": {"response_format": response_format}} if response_format is not None else {}
        result = provider.chat(messages, max_tokens=120, temperature=0.0, **extra)
        detail = {"judge_format": name}
        if not result.ok and result.error_code == PROVIDER_HTTP_ERROR and index + 1 < len(JUDGE_FORMATS):
            continue  # the server refused this response format: ask the next way
        if not result.ok:
            return QualityResult(heuristic.quality, heuristic.components, "heuristic_fallback",
                                 f"{JUDGE_FAILED}:{result.error_code}", detail)
        _remember_format(provider, name)
        score = parse_judge_reply(result.text)
        if score is None:
            return QualityResult(heuristic.quality, heuristic.components, "heuristic_fallback",
                                 ASSIST_JSON_INVALID, detail)
        components = dict(heuristic.components, judge=round(score, 4))
        return QualityResult(round(score, 4), components, "judge", None, detail)
    raise AssertionError("unreachable: the last judge format returns")


def score_answer(question: str, answer: str, complexity: float = 0.5, *, error_code: str | None = None,
                 judge: Any = None) -> QualityResult:
    """Heuristic quality, or the judge's when a judge provider is given and the answer exists."""
    heuristic = compute_quality(question, answer, complexity, error_code)
    if judge is None or heuristic.components["empty_or_error"] == 0.0:
        return heuristic
    return judge_quality(judge, question, answer, heuristic)
