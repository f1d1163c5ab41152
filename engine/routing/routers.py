"""Routers: one method to implement, `score(question, trait) -> [0, 1]` ("needs the main model").

The base class turns a score and a boundary into a route once (main if score >= boundary).
Concrete routers register by short name in ROUTERS; `get_router(name)` returns a shared instance.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

from engine import runbook
from engine.errors import InputError

log = logging.getLogger(__name__)

Route = Literal["main", "embedder"]
LOG_121 = math.log1p(120)
ROUTES: tuple[str, ...] = runbook.ROUTES

# Traits the assistant answers in, with the prior each adds to the complexity score: analytical
# and technical answers need more reasoning than small talk.
TRAIT_PRIOR: dict[str, float] = {
    "general": 0.0,
    "casual": -0.08,
    "empathetic": 0.0,
    "creative": 0.04,
    "technical": 0.08,
    "analytical": 0.10,
}
TRAITS: tuple[str, ...] = tuple(TRAIT_PRIOR)


def check_trait(trait: str) -> str:
    """The trait: free text. A known one adds its prior to the complexity score; an unknown one (a
    user's "coding") adds none and is accepted, with a warning naming it once per process.
    InputError naming the field when the trait is empty or not text."""
    if not isinstance(trait, str) or not trait.strip():
        raise InputError(f"field trait: must be a non-empty string (one of {', '.join(TRAITS)} or your own "
                         f"label), got {trait!r}")
    if trait not in TRAIT_PRIOR:
        warn_unknown_trait(trait)
    return trait


@functools.lru_cache(maxsize=256)
def warn_unknown_trait(trait: str) -> None:
    """Log once per trait (the cache remembers which were named) that it adds no routing prior."""
    log.warning("trait %r is not one of %s: accepted, it adds no routing prior", trait, ", ".join(TRAITS))


@dataclass(frozen=True, slots=True)
class RouteDecision:
    score: float
    boundary: float
    route: Route


class Router(ABC):
    """Base router. Subclasses implement `score`; `decide` is the one place a route is chosen."""

    name = "base"
    version: str | None = None  # a trained router's model version (recorded on each event)

    @abstractmethod
    def score(self, question: str, trait: str = "general") -> float:
        """How much this question needs the main model, in [0, 1]."""

    def decide(self, question: str, trait: str, boundary: float) -> RouteDecision:
        score = self.score(question, trait)
        return RouteDecision(score, boundary, "main" if score >= boundary else "embedder")

    def explain(self, question: str, trait: str = "general") -> dict[str, Any]:
        """The features behind a score (the base knows only the score itself)."""
        return {"score": self.score(question, trait)}


# Vocabulary as sets of lower-case tokens: set lookups keep a decision within a few microseconds
# (alternation regexes with re.I cost 20-60 µs per question here).
STRIP = ".,;:!?()[]{}\"'`*"
REASONING_WORDS = frozenset(
    "why how explain compare contrast prove derive design analyse analyze analysis evaluate justify "
    "tradeoff trade-off tradeoffs trade-offs implication implications optimise optimize debug refactor "
    "architecture architect strategy reasoning recommend recommendation critique assess".split())
REASONING_PHRASES = ("pros and cons", "step by step", "step-by-step", "walk me through", "what would happen")
FACTUAL_OPENERS = frozenset("what who when where which define name list is are hi hello thanks thank".split())
CODE_WORDS = frozenset(
    "def class import return lambda select insert join regex function python javascript typescript rust "
    "golang go java sql bash api bug exception stacktrace traceback compile compiler recursion algorithm "
    "big-o thread threads async await mutex mutexes deadlock kubernetes docker code script unit test tests "
    "typeerror indexerror valueerror keyerror nullpointerexception segfault".split())
CODE_SYMBOLS = ("```", "`", "{", "}", ";", "()", "==", "->", "=>", "!=", "[]")
# General mathematical vocabulary only: units and objects of one data set's word problems ("marbles",
# "mph") once scored well on the bench questions they came from and did not carry over to others.
MATH_WORDS = frozenset(
    "calculate compute solve equation integral derivative probability percent percentage average ratio "
    "sum product total remainder prime matrix theorem proof twice half triple times divided multiply "
    "minus plus fraction".split())
MATH_PHRASES = ("how many", "how much")
MATH_SYMBOLS = ("+", "=", "%", "^", "$", "/")
MULTI_WORDS = frozenset("also then additionally furthermore first second third finally".split())
ENUMERATION = re.compile(r"(?:^|\s)(?:\d+[.)]|[a-d]\))\s")
NUMBER_RUN = re.compile(r"\d+")
# Counts map to [0, 1) by 1 - exp(-count / scale): never flat, so a feature still ranks questions
# that all have plenty of it (every word problem has numbers; a hard cap made math constant there).
REASONING_SCALE = 2.0
MATH_SCALE = 8.0
MULTI_SCALE = 3.0
PUNCTUATION = str.maketrans({c: " " for c in STRIP})
# token -> indices of the feature counters it feeds (reasoning 0, code 1, math 2, multi 3)
VOCABULARY: dict[str, tuple[int, ...]] = {}
for _index, _words in enumerate((REASONING_WORDS, CODE_WORDS, MATH_WORDS, MULTI_WORDS)):
    for _word in _words:
        VOCABULARY[_word] = VOCABULARY.get(_word, ()) + (_index,)


class ComplexityRouter(Router):
    """The default, deterministic scorer: a weighted sum of cheap text features, clipped to [0, 1].

    Features (each in [0, 1]): `length` (log of word count, saturating near 120 words), `reasoning`
    (why/how/explain/compare... words), `factual` (opens like a lookup: what is/who/when -> lowers
    the score), `code` (code markers and vocabulary), `math` (numbers, operators, general
    mathematical words), `multi_part` (several questions, enumerations, "then/also"), plus the
    trait's prior. Length carries the most weight: on questions the weights were not tuned on,
    ranking by length held up where topic vocabulary did not (bench/bench_router.py measures both
    on a half of the bench data the weights never saw).
    """

    name = "complexity"
    BIAS = 0.14
    WEIGHTS = {"length": 0.45, "reasoning": 0.20, "factual": -0.10, "code": 0.16, "math": 0.20,
               "multi_part": 0.14}

    def features(self, question: str, trait: str = "general") -> dict[str, float]:
        text = question.lower()
        tokens = text.translate(PUNCTUATION).split()
        counts = [0, 0, 0, 0]
        lookup = VOCABULARY.get
        for token in tokens:
            for index in lookup(token, ()):
                counts[index] += 1
        words = len(tokens)
        reasoning = counts[0] + sum(p in text for p in REASONING_PHRASES)
        code = counts[1] + sum(text.count(m) for m in CODE_SYMBOLS)
        math_hits = (counts[2] + sum(p in text for p in MATH_PHRASES)
                     + sum(text.count(m) for m in MATH_SYMBOLS) + len(NUMBER_RUN.findall(text)))
        multi = max(0, text.count("?") - 1) + counts[3] + text.count(";") + len(ENUMERATION.findall(text))
        return {
            "words": float(words),
            "length": min(1.0, math.log1p(words) / LOG_121),
            "reasoning": 1.0 - math.exp(-reasoning / REASONING_SCALE),
            "factual": 1.0 if words <= 14 and tokens and tokens[0] in FACTUAL_OPENERS else 0.0,
            "code": min(1.0, code / 3.0),
            "math": 1.0 - math.exp(-math_hits / MATH_SCALE),
            "multi_part": 1.0 - math.exp(-multi / MULTI_SCALE),
            "trait": TRAIT_PRIOR.get(trait, 0.0),
        }

    def score_features(self, features: dict[str, float]) -> float:
        total = self.BIAS + features["trait"]
        for name, weight in self.WEIGHTS.items():
            total += weight * features[name]
        return max(0.0, min(1.0, total))

    def score(self, question: str, trait: str = "general") -> float:
        return round(self.score_features(self.features(question, trait)), 4)

    def explain(self, question: str, trait: str = "general") -> dict[str, Any]:
        features = self.features(question, trait)
        contributions = {name: round(weight * features[name], 4) for name, weight in self.WEIGHTS.items()}
        contributions["trait"] = features["trait"]
        contributions["bias"] = self.BIAS
        return {"score": round(self.score_features(features), 4),
                "features": {k: round(v, 4) for k, v in features.items()},
                "contributions": contributions}


class LengthRouter(Router):
    """Baseline: longer questions need the main model (0.5 at 25 words, saturating at 50)."""

    name = "length"

    def score(self, question: str, trait: str = "general") -> float:
        return min(1.0, len(question.split()) / 50.0)

    def explain(self, question: str, trait: str = "general") -> dict[str, Any]:
        return {"score": self.score(question, trait), "features": {"words": len(question.split())}}


class RandomRouter(Router):
    """Baseline: a uniform score seeded by the question's hash (same question, same score)."""

    name = "random"

    def score(self, question: str, trait: str = "general") -> float:
        digest = hashlib.blake2b(question.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64


ROUTERS: dict[str, type[Router]] = {cls.name: cls for cls in (ComplexityRouter, LengthRouter, RandomRouter)}
_INSTANCES: dict[str, Router] = {}


def get_router(name: str = "complexity") -> Router:
    """The shared instance of a registered router (routers are stateless, so one per name).

    Raises InputError naming the router when it is not registered.
    """
    router = _INSTANCES.get(name)
    if router is None:
        cls = ROUTERS.get(name)
        if cls is None:
            raise InputError(f"unknown router {name!r}; registered: {', '.join(sorted(ROUTERS))}")
        router = _INSTANCES.setdefault(name, cls())
    return router


# The learned router registers itself in ROUTERS (it builds on the classes above).
from engine.routing import learned as _learned  # noqa: E402,F401
