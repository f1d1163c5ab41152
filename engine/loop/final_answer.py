"""The final answer a text states (a number, a multiple-choice letter, yes/no or a short span) and how far
two final answers agree. Pure: no I/O, no data-set vocabulary; used by reference-based quality and by
goldens with expected answers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

Kind = Literal["number", "choice", "yesno", "span"]
KINDS: Final[tuple[Kind, ...]] = ("number", "choice", "yesno", "span")

# Numbers agree within this relative tolerance (answers round: 0.3333 vs 1/3), or this absolute one near 0.
NUMBER_REL_TOL: Final = 1e-4
NUMBER_ABS_TOL: Final = 1e-9
# A span is at most this many words (the first sentence of a free-text answer, cut).
SPAN_MAX_WORDS: Final = 12
# A short span (at most this many words) contained whole in the other text agrees fully ("Paris" vs
# "The capital of France is Paris").
CONTAINED_SPAN_WORDS: Final = 5
# A fraction's decimal value keeps this many places, so 1/3 and 0.333333 normalise alike.
FRACTION_PLACES: Final = 6


@dataclass(frozen=True)
class FinalAnswer:
    """kind: number | choice | yesno | span; value: the normalised answer ("1234.5", "B", "yes", "paris");
    raw: the surface form it was read from ("$1,234.50", "(B)"); text: the whole text searched."""

    kind: Kind
    value: str
    raw: str
    text: str = field(default="", repr=False, compare=False)


_MARKDOWN = re.compile(r"[*`]+")
# "#### 42" (worked-solution convention), \boxed{42}, "the answer is 42", "Answer: (B)", "final answer = 7".
_MARKERS = (
    re.compile(r"####\s*(?P<tail>[^\n]*)"),
    re.compile(r"\\boxed\{(?P<tail>[^{}]*)\}"),
    re.compile(r"\banswer\s*(?:(?:is|was|would be|will be|should be)\b\s*[:=]?|[:=])[ \t]*(?P<tail>[^\n]*)",
               re.I),
)
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-\u2212])?\s?(?P<cur>[$\u20ac\u00a3\u00a5\u20b9])?\s?"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?P<frac>\.\d+)?(?:\s*/\s*(?P<den>\d+))?(?![\d])")
_NUMBER_WORDS: Final = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                      "ninety": 90, "hundred": 100})
_LEADING_FILLER = re.compile(r"^(?:\s|[:=~\"'(]|approximately\b|about\b|around\b|roughly\b|exactly\b|"
                             r"therefore\b|thus\b|so\b|then\b|just\b|option\b|choice\b|letter\b)+", re.I)
_CHOICE_FILLER = re.compile(r"^(?:\s|[:=\"']|option\b|choice\b|letter\b|therefore\b|thus\b|so\b|then\b|just\b)+",
                            re.I)
_CHOICE_IN_PARENS = re.compile(r"\(([A-Ea-e])\)")
_CHOICE_NAMED = re.compile(r"\b(?:option|choice|letter)\s*\(?([A-Ea-e])\)?(?![A-Za-z])", re.I)
_CHOICE_BARE = re.compile(r"^\(?([A-E])\)?(?:[.):,;!]|\s*$)")
_CHOICE_BARE_WORD = re.compile(r"^([A-E])(?:\s+(?P<next>\S+))")
_QUESTION_OPTIONS = re.compile(r"(?:^|[\s(])([A-E])(?:\)|\.|:)\s")
_YESNO = re.compile(r"^(yes|no)\b(?P<after>[\s,.!;:]|$)", re.I)
_YESNO_QUESTION = re.compile(r"^\s*(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have|had|"
                             r"must|may|might|shall|isn't|aren't|doesn't|don't|didn't|won't|can't)\b", re.I)
_NUMBER_QUESTION = re.compile(
    r"\b(?:how (?:many|much|long|far|old|fast|often|tall|high|big)|calculate|compute|"
    r"what (?:is|was|were|are) the (?:total|sum|number|product|difference|value|cost|price|amount|area|"
    r"perimeter|volume|average|mean|median|ratio|percentage|speed|result))\b", re.I)
# Signs of a worked solution: arithmetic between numbers, or "= number".
_ARITHMETIC = re.compile(r"\d\s*[-+*/\u00d7\u00f7x]\s*\$?\d|=\s*[-$]?\d")
_SENTENCE_END = re.compile(r"(?<=[^\d\s][.!?])\s|\n")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PUNCT = re.compile(r"[^\w\s]")


def normalise_span(text: str) -> str:
    """Lowercase, punctuation and articles dropped, whitespace collapsed (the usual reading-comprehension
    normalisation)."""
    text = _PUNCT.sub(" ", text.lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def _number_value(match: re.Match[str]) -> str | None:
    whole, frac, den = match.group("int"), match.group("frac"), match.group("den")
    if whole is None and frac is None:
        return None
    try:
        number = Decimal((whole or "0").replace(",", "") + (frac or ""))
        if den is not None:
            if int(den) == 0 or frac is not None:
                return None
            number = (number / Decimal(den)).quantize(Decimal(1).scaleb(-FRACTION_PLACES))
    except InvalidOperation:
        return None
    if match.group("sign"):
        number = -number
    return format_number(number)


def format_number(number: Decimal | float | int) -> str:
    """The canonical string of a number: no exponent, no trailing zeros, no "-0" ("42.50" -> "42.5")."""
    value = Decimal(str(number)) if not isinstance(number, Decimal) else number
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _numbers(text: str) -> list[tuple[str, str]]:
    """Every number in the text as (normalised value, surface form), in order."""
    found = []
    for match in _NUMBER.finditer(text):
        value = _number_value(match)
        if value is not None:
            found.append((value, match.group(0).strip()))
    return found


def _leading_number(tail: str) -> tuple[str, str] | None:
    """The number a marker's tail starts with ("42 apples", "$1,200.", "five"), if it starts with one."""
    tail = _LEADING_FILLER.sub("", tail)
    match = _NUMBER.match(tail)
    if match:
        value = _number_value(match)
        if value is not None:
            return value, match.group(0).strip()
    word = re.match(r"([A-Za-z]+)\b", tail)
    if word and word.group(1).lower() in _NUMBER_WORDS:
        return str(_NUMBER_WORDS[word.group(1).lower()]), word.group(1)
    return None


def _leading_choice(tail: str) -> tuple[str, str] | None:
    """The choice letter a text starts with: "(b)", "B", "B)", "B. 12 apples", "B because ..."."""
    tail = _CHOICE_FILLER.sub("", tail).strip()
    match = _CHOICE_IN_PARENS.match(tail)
    if match:
        return match.group(1).upper(), match.group(0)
    match = _CHOICE_BARE.match(tail)
    if match:
        return match.group(1), match.group(0).strip()
    match = _CHOICE_BARE_WORD.match(tail)
    # "B because ..." is a letter; "A dog" is an article.
    if match and (match.group(1) != "A" or not match.group("next")[0].islower()):
        return match.group(1), match.group(1)
    return None


def _leading_yesno(tail: str, loose: bool) -> tuple[str, str] | None:
    tail = _LEADING_FILLER.sub("", tail)
    match = _YESNO.match(tail)
    if match and (loose or match.group("after") != " "):
        return match.group(1).lower(), match.group(1)
    return None


def _span(text: str) -> tuple[str, str]:
    """The first sentence, normalised and cut to SPAN_MAX_WORDS words, and its surface form."""
    first = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()
    words = normalise_span(first).split()
    return " ".join(words[:SPAN_MAX_WORDS]), first


def _question_hints(question: str | None) -> tuple[bool, bool, bool]:
    """(lists options A-E, asks yes/no, asks for a quantity)."""
    if not question:
        return False, False, False
    options = len(set(_QUESTION_OPTIONS.findall(question))) >= 2
    yesno = bool(_YESNO_QUESTION.match(question)) and " or " not in question.lower()
    number = bool(_NUMBER_QUESTION.search(question))
    return options, yesno, number


def _last_marker_tail(text: str) -> str | None:
    # Overlapping search: in "Final answer: the final answer is 18" the last marker is the inner one.
    best: tuple[int, str] | None = None
    for pattern in _MARKERS:
        pos = 0
        while (match := pattern.search(text, pos)) is not None:
            if best is None or match.start() > best[0]:
                best = (match.start(), match.group("tail").strip())
            pos = match.start() + 1
    return None if best is None or not best[1] else best[1]


def extract_final_answer(text: str, question: str | None = None) -> FinalAnswer:
    """The final answer `text` states. `question`, when given, hints at the expected kind (options A-E,
    a yes/no question, a quantity). Order: an explicit answer marker ("#### n", \\boxed{n}, "the answer
    is ...", "answer: ..."), then a choice letter, yes/no, the last number of a worked solution, and
    otherwise the first sentence as a short normalised span. An empty text gives an empty span."""
    source = text or ""
    plain = _MARKDOWN.sub("", source).strip()
    options, yesno_question, number_question = _question_hints(question)

    tail = _last_marker_tail(plain)
    if tail is not None:
        choice = _leading_choice(tail)
        if choice:
            return FinalAnswer("choice", choice[0], choice[1], source)
        yesno = _leading_yesno(tail, loose=yesno_question)
        if yesno:
            return FinalAnswer("yesno", yesno[0], yesno[1], source)
        number = _leading_number(tail)
        if number:
            return FinalAnswer("number", number[0], number[1], source)
        if number_question and (found := _numbers(tail)):
            return FinalAnswer("number", found[0][0], found[0][1], source)
        value, raw = _span(tail)
        return FinalAnswer("span", value, raw, source)

    if not plain:
        return FinalAnswer("span", "", "", source)

    choice = _leading_choice(plain) if (options or len(plain.split()) <= 3) else None
    if choice:
        return FinalAnswer("choice", choice[0], choice[1], source)
    if options:
        named = [m for p in (_CHOICE_IN_PARENS, _CHOICE_NAMED) for m in p.finditer(plain)]
        if named:
            last = max(named, key=lambda m: m.start())
            return FinalAnswer("choice", last.group(1).upper(), last.group(0), source)

    yesno = _leading_yesno(plain, loose=yesno_question)
    if yesno:
        return FinalAnswer("yesno", yesno[0], yesno[1], source)

    numbers = _numbers(plain)
    if numbers and (number_question or _ARITHMETIC.search(plain) or len(plain.split()) <= 4):
        return FinalAnswer("number", numbers[-1][0], numbers[-1][1], source)
    if len(plain.split()) <= 4 and (number := _leading_number(plain)):
        return FinalAnswer("number", number[0], number[1], source)

    value, raw = _span(plain)
    return FinalAnswer("span", value, raw, source)


def read_final_answer_as(answer: FinalAnswer | str, kind: Kind) -> FinalAnswer | None:
    """The same text read as `kind`, or None when it states none: the last number ("I get 6 * 7 = 42"),
    a choice letter ("I'd say B)", "option (c)"), a leading yes/no, or the first sentence as a span."""
    if isinstance(answer, str):
        answer = FinalAnswer("span", "", answer, answer)
    if answer.kind == kind:
        return answer
    text = _MARKDOWN.sub("", answer.text or answer.raw or answer.value)
    if kind == "number":
        found = _numbers(text)
        if found:
            return FinalAnswer("number", found[-1][0], found[-1][1], answer.text)
        number = _leading_number(text)
        return FinalAnswer("number", number[0], number[1], answer.text) if number else None
    if kind == "choice":
        choice = _leading_choice(text)
        if choice:
            return FinalAnswer("choice", choice[0], choice[1], answer.text)
        named = [m for p in (_CHOICE_IN_PARENS, _CHOICE_NAMED) for m in p.finditer(text)]
        if named:
            last = max(named, key=lambda m: m.start())
            return FinalAnswer("choice", last.group(1).upper(), last.group(0), answer.text)
        return None
    if kind == "yesno":
        yesno = _leading_yesno(text, loose=True)
        return FinalAnswer("yesno", yesno[0], yesno[1], answer.text) if yesno else None
    value, raw = _span(text)
    return FinalAnswer("span", value, raw, answer.text)


def _token_f1(a: str, b: str) -> float:
    ta, tb = a.split(), b.split()
    if not ta or not tb:
        return 0.0
    common: dict[str, int] = {}
    for token in ta:
        common[token] = common.get(token, 0) + 1
    overlap = 0
    for token in tb:
        if common.get(token, 0) > 0:
            common[token] -= 1
            overlap += 1
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(tb), overlap / len(ta)
    return 2 * precision * recall / (precision + recall)


def _contains_words(haystack: str, needle: str) -> bool:
    return bool(needle) and f" {needle} " in f" {haystack} "


def _compare_spans(a: FinalAnswer, b: FinalAnswer) -> float:
    if a.value == b.value:
        return 1.0 if a.value else 0.0
    short, other = (a, b) if len(a.value.split()) <= len(b.value.split()) else (b, a)
    if 0 < len(short.value.split()) <= CONTAINED_SPAN_WORDS and \
            _contains_words(normalise_span(other.text or other.raw), short.value):
        return 1.0
    return round(_token_f1(a.value, b.value), 4)


def numbers_agree(a: str, b: str, *, rel_tol: float = NUMBER_REL_TOL, abs_tol: float = NUMBER_ABS_TOL) -> bool:
    """Two normalised numbers agree within the tolerance, or when both have decimals and the finer one
    rounds to the coarser ("0.333" and 1/3, "3.5" and "3.54"; but "42" and "41.6" differ)."""
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    if math.isclose(x, y, rel_tol=rel_tol, abs_tol=abs_tol):
        return True
    places = [len(v.partition(".")[2]) for v in (a, b)]
    coarser = min(places)
    return coarser > 0 and abs(x - y) <= 0.5 * 10.0 ** -coarser + abs_tol


def _compare_same_kind(a: FinalAnswer, b: FinalAnswer, rel_tol: float, abs_tol: float) -> float:
    if a.kind == "number":
        return 1.0 if numbers_agree(a.value, b.value, rel_tol=rel_tol, abs_tol=abs_tol) else 0.0
    if a.kind == "span":
        return _compare_spans(a, b)
    return 1.0 if a.value == b.value else 0.0


def compare_final_answers(a: FinalAnswer | str, b: FinalAnswer | str, *, rel_tol: float = NUMBER_REL_TOL,
                          abs_tol: float = NUMBER_ABS_TOL) -> float:
    """Agreement of two final answers in [0, 1]: 1 equal, 0 different. Numbers agree within the tolerance,
    letters and yes/no exactly, spans by equality, containment of a short span, else token F1. When the
    kinds differ, each text is read as the other's kind (a reference "42" against "I get 6*7 = 42");
    texts are extracted first when given as strings. Two empty answers do not agree."""
    fa = a if isinstance(a, FinalAnswer) else extract_final_answer(a)
    fb = b if isinstance(b, FinalAnswer) else extract_final_answer(b)
    if fa.kind == fb.kind:
        return _compare_same_kind(fa, fb, rel_tol, abs_tol)
    scores = []
    for target, other in ((fa, fb), (fb, fa)):
        if target.kind == "span":
            continue
        coerced = read_final_answer_as(other, target.kind)
        if coerced is not None:
            scores.append(_compare_same_kind(target, coerced, rel_tol, abs_tol))
    if scores:
        return max(scores)
    if "span" in (fa.kind, fb.kind):
        span_a, span_b = read_final_answer_as(fa, "span"), read_final_answer_as(fb, "span")
        if span_a is not None and span_b is not None:
            return _compare_spans(span_a, span_b)
    return 0.0
