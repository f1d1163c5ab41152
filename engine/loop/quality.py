"""The quality scorer: answer text (+ question, + complexity, + a reference) -> quality in [0, 1].

With a reference (a known-good answer: a golden's expected answer, the other model's answer to the
same question) quality is agreement (`quality_method: "reference"`): both texts' final answers
(engine/loop/final_answer.py: numbers, choice letters, yes/no, short spans) are compared, and free
text falls back to key-term overlap. Components: `agreement`, `key_terms`; the final answers are in
`detail`.

Without one, a heuristic (`heuristic`), each component in [0, 1] where 1 means "no problem":
`empty_or_error`, `refusal`, `coverage` (share of the question's key terms the answer uses),
`length` (adequate for the question's complexity), `repetition` (no degenerate loops), `hedging`
(no "I'm not sure"), `consistency` (no second answer or "on reflection"), `answers_question` (a
question that asks for a quantity, a yes/no or an option gets one). bench/bench_quality.py measures
how well each separates right from wrong real answers. Optionally the main model judges
(AIOS_QUALITY_JUDGE=1); if the judge fails or answers invalid JSON the heuristic stands and the
reason is recorded (`quality_method`, `fallback_reason` = ASSIST_JSON_INVALID, ...).
"""

from __future__ import annotations

import json
import math
import re
import threading
import weakref
from dataclasses import dataclass, field, replace
from typing import Any

from engine.loop.final_answer import compare_final_answers, extract_final_answer
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
# Tuned on the "tune" half of bench/data/routing_answers.jsonl (real answers, right or wrong), reported on
# the held-out half by bench/bench_quality.py; hedging/consistency/repetition rarely fire on those answers
# and keep small weights for what they catch elsewhere (the simulator's and small local models' slips).
WEIGHTS = {"coverage": 0.20, "grounding": 0.20, "answers_question": 0.20, "concision": 0.20, "length": 0.05,
           "repetition": 0.05, "hedging": 0.05, "consistency": 0.05}
HEDGES = re.compile(
    r"\b(not (?:completely |entirely |totally )?(?:sure|certain)|might be wrong|may be wrong|double-check|"
    r"may have missed|i (?:think|believe|guess|assume)|probably|maybe|perhaps|it seems|unclear|"
    r"hard to say|depends on the details|i'?m not confident)\b", re.I)
SECOND_THOUGHTS = re.compile(
    r"\b(on (?:second thought|reflection)|wait[,.!]|actually[,]|correction|let me re-?(?:check|calculate|do)|"
    r"at first (?:it )?(?:looks|seems)|i made (?:a|an) (?:mistake|error)|that'?s (?:not right|wrong))\b", re.I)
ANSWER_MARKERS = re.compile(r"(?:####|\\boxed\{|\bthe (?:final )?answer is\b|\banswer:)", re.I)
QUANTITY_QUESTION = re.compile(r"\b(how (?:many|much|long|far|old)|what (?:is|was) the (?:total|number|"
                               r"probability|cost|price|sum|value)|calculate|compute)\b", re.I)
YESNO_QUESTION = re.compile(r"^\s*(is|are|was|were|do|does|did|can|could|should|will|would|has|have)\b", re.I)
OPTIONS_QUESTION = re.compile(r"(?m)^\s*\(?[A-D][).:]\s")
NUMBER_IN_TEXT = re.compile(r"\d")
COUNT_QUESTION = re.compile(r"\bhow many\b", re.I)
QUESTION_NUMBER = re.compile(r"\d+(?:\.\d+)?")
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


def compute_hedging(answer: str) -> float:
    """1.0 without hedges; each "I'm not sure" / "probably" / "I think" costs a third."""
    return max(0.0, 1.0 - len(HEDGES.findall(answer)) / 3)


def compute_consistency(answer: str, question: str = "") -> float:
    """1.0 when the answer commits to one answer; 0 when it revises itself ("on reflection",
    "wait,") or states two different final answers."""
    if SECOND_THOUGHTS.search(answer):
        return 0.0
    stated = {extract_final_answer(answer[m.start():], question).value
              for m in ANSWER_MARKERS.finditer(answer)}
    stated.discard("")
    return 0.0 if len(stated) > 1 else 1.0


def compute_answers_question(question: str, answer: str) -> float:
    """A question that asks for a quantity, a yes/no or one of listed options gets one: 1.0 when the
    answer states it (a number, a yes/no, a letter), 0.0 when it never does; 1.0 for open questions.
    A count ("how many") must be a whole, non-negative number: 2.5 apples is an answer, but a wrong one."""
    if OPTIONS_QUESTION.search(question):
        return 1.0 if extract_final_answer(answer, question).kind == "choice" else 0.0
    if QUANTITY_QUESTION.search(question):
        if not NUMBER_IN_TEXT.search(answer):
            return 0.0
        final = extract_final_answer(answer, question)
        if COUNT_QUESTION.search(question) and final.kind == "number":
            try:
                value = float(final.value)
            except ValueError:
                return 1.0
            return 1.0 if value >= 0 and value == int(value) else 0.0
        return 1.0
    if YESNO_QUESTION.search(question) and "?" in question and len(question.split()) <= 25:
        return 1.0 if extract_final_answer(answer, question).kind == "yesno" else 0.5
    return 1.0


def compute_grounding(question: str, answer: str) -> float:
    """Share of the quantities the question gives that the answer uses (1.0 when it gives none): a
    worked answer that drops a given number has usually misread the problem."""
    given = set(QUESTION_NUMBER.findall(question))
    if not given:
        return 1.0
    return sum(1 for number in given if number in answer) / len(given)


def compute_concision(answer: str, complexity: float) -> float:
    """1.0 for an answer of the length a direct answer needs, falling smoothly past about
    150 + 100 x complexity^2 words: long detours go with wrong answers on real data (bench_quality)."""
    words = len(answer.split())
    c = max(0.0, min(1.0, complexity))
    return 1.0 / (1.0 + math.exp((words - (150.0 + 100.0 * c * c)) / 60.0))


def compute_quality(question: str, answer: str, complexity: float = 0.5,
                    error_code: str | None = None) -> QualityResult:
    """The heuristic quality of one answer. Pure: no I/O."""
    text = (answer or "").strip()
    if error_code or not text:
        components = {"empty_or_error": 0.0, "refusal": 1.0, **{name: 0.0 for name in WEIGHTS}}
        return QualityResult(0.0, components)
    components = {
        "empty_or_error": 1.0,
        "refusal": 0.0 if REFUSAL.search(text[:400]) else 1.0,
        "coverage": round(compute_coverage(question, text), 4),
        "length": round(compute_length(text, complexity), 4),
        "repetition": round(compute_repetition(text), 4),
        "hedging": round(compute_hedging(text), 4),
        "consistency": compute_consistency(text, question),
        "answers_question": compute_answers_question(question, text),
        "grounding": round(compute_grounding(question, text), 4),
        "concision": round(compute_concision(text, complexity), 4),
    }
    soft = sum(weight * components[name] for name, weight in WEIGHTS.items())
    # An answer about something else, or a loop, is bad however fluent: both gate the sum.
    soft *= min(1.0, 0.4 + 1.2 * components["coverage"]) * min(1.0, 0.5 + components["repetition"])
    if components["refusal"] == 0.0:
        soft = min(soft, REFUSAL_CEILING)
    return QualityResult(round(max(0.0, min(1.0, soft)), 4), components)


JUDGE_PROMPT = (
    "You grade an assistant's answer. Reply with JSON only: "
    '{"score": <0, 0.25, 0.5, 0.75 or 1>, "reason": "<one short sentence>"}. '
    "1 means correct, complete and clear; 0 means wrong, empty or a refusal."
)
# The verdict's shape, for servers that constrain output to a JSON schema (small local models rarely
# write the JSON unconstrained). The score comes first so a reply cut short still carries it; it is one
# of five levels because grammar-constrained decoding enforces an enum but not a numeric range (SmolLM2
# answered "score": 2 under minimum/maximum).
JUDGE_SCORES = (0, 0.25, 0.5, 0.75, 1)
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"score": {"type": "number", "enum": list(JUDGE_SCORES)},
                   "reason": {"type": "string", "maxLength": 160}},
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


# Final answers this long or longer are free text: agreement falls back to shared key terms.
FREE_TEXT_WORDS = 12
# Share of reference quality that is agreement; the rest is the reference-free heuristic.
REFERENCE_WEIGHT = 0.85
# Shared key terms (each way, averaged) at which two free-text answers count as agreeing.
FREE_TEXT_AGREEMENT = 0.6


def compute_reference_quality(question: str, answer: str, reference: str, error_code: str | None = None,
                              complexity: float = 0.5) -> QualityResult:
    """Agreement of `answer` with a known-good `reference` in [0, 1]. Pure: no I/O."""
    text = (answer or "").strip()
    if error_code or not text:
        return QualityResult(0.0, {"empty_or_error": 0.0, "agreement": 0.0, "key_terms": 0.0}, "reference",
                             detail={"final_answer": "", "reference_final_answer": ""})
    mine, theirs = extract_final_answer(text, question), extract_final_answer(reference, question)
    agreement = compare_final_answers(mine, theirs)
    terms = key_terms(reference)
    overlap = compute_coverage(reference, text) if terms else 0.0
    # Agreement decides; the reference-free evidence orders answers within "agree" and "differ".
    heuristic = compute_quality(question, text, complexity, error_code).quality
    quality = REFERENCE_WEIGHT * agreement + (1 - REFERENCE_WEIGHT) * heuristic
    if mine.kind == theirs.kind == "span" and max(len(mine.value.split()), len(theirs.value.split())) >= \
            FREE_TEXT_WORDS:
        # Two paragraphs rarely share a "final answer": judge free text by the reference's key terms.
        quality = REFERENCE_WEIGHT * max(agreement, overlap) + (1 - REFERENCE_WEIGHT) * heuristic
    components = {"empty_or_error": 1.0, "agreement": round(agreement, 4), "key_terms": round(overlap, 4),
                  "heuristic": heuristic}
    return QualityResult(round(quality, 4), components, "reference",
                         detail={"final_answer": mine.value, "reference_final_answer": theirs.value,
                                 "final_answer_kind": mine.kind})


def compute_agreement(question: str, answer: str, other: str) -> tuple[float, str, str, str]:
    """(agreement in [0, 1], method, this answer's final answer, the other's) of two answers to the
    same question: final answers compared when either states one (a number, a letter, yes/no, an
    answer marker); two free-text answers by their shared key terms (each way, averaged)."""
    mine, theirs = extract_final_answer(answer, question), extract_final_answer(other, question)
    free_text = mine.kind == theirs.kind == "span" and not (ANSWER_MARKERS.search(answer) or
                                                             ANSWER_MARKERS.search(other))
    if free_text:
        overlap = (compute_coverage(answer, other) + compute_coverage(other, answer)) / 2
        # Two right free-text answers word things differently: sharing most key terms is agreement.
        return round(min(1.0, overlap / FREE_TEXT_AGREEMENT), 4), "key_terms", mine.value, theirs.value
    # Each side's stated answer only: a short span also occurs in the other's reasoning ("a monolith or
    # microservices?"), which is no agreement.
    stated_mine, stated_theirs = replace(mine, text=mine.raw), replace(theirs, text=theirs.raw)
    return round(compare_final_answers(stated_mine, stated_theirs), 4), "final_answer", mine.value, theirs.value


def score_answer(question: str, answer: str, complexity: float = 0.5, *, error_code: str | None = None,
                 judge: Any = None, reference: str | None = None) -> QualityResult:
    """Quality against `reference` when one is given; else the judge's when a judge provider is
    given and the answer exists; else the heuristic."""
    if reference is not None and reference.strip():
        return compute_reference_quality(question, answer, reference, error_code, complexity)
    heuristic = compute_quality(question, answer, complexity, error_code)
    if judge is None or heuristic.components["empty_or_error"] == 0.0:
        return heuristic
    return judge_quality(judge, question, answer, heuristic)
