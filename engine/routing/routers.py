"""Routers: one method to implement, `score(question, trait) -> [0, 1]` ("needs the main model").

The base class turns a score and a boundary into a route once (main if score >= boundary).
Concrete routers register by short name in ROUTERS; `get_router(name)` returns a shared instance.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from engine.errors import InputError

Route = Literal["main", "embedder"]
ROUTES: tuple[str, ...] = ("main", "embedder")

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
    """The trait, or InputError naming the field when it is unknown."""
    if trait not in TRAIT_PRIOR:
        raise InputError(f"field trait: unknown trait {trait!r}; expected one of {', '.join(TRAITS)}")
    return trait


@dataclass(frozen=True, slots=True)
class RouteDecision:
    score: float
    boundary: float
    route: Route


class Router:
    """Base router. Subclasses implement `score`; `decide` is the one place a route is chosen."""

    name = "base"

    def score(self, question: str, trait: str = "general") -> float:
        raise NotImplementedError

    def decide(self, question: str, trait: str, boundary: float) -> RouteDecision:
        score = self.score(question, trait)
        return RouteDecision(score, boundary, "main" if score >= boundary else "embedder")

    def explain(self, question: str, trait: str = "general") -> dict[str, Any]:
        """The features behind a score (the base knows only the score itself)."""
        return {"score": self.score(question, trait)}


WORD = re.compile(r"\S+")
REASONING = re.compile(
    r"\b(why|how|explain|compare|contrast|prove|derive|design|analy[sz]e|evaluate|justify|"
    r"trade-?offs?|pros and cons|implications?|optimi[sz]e|debug|refactor|architect\w*|strategy|"
    r"step[- ]by[- ]step|walk me through)\b", re.I)
FACTUAL = re.compile(r"^\s*(what is|what's|who|when|where|which|define|name|list|is|are|hi|hello|thanks?)\b", re.I)
CODE = re.compile(
    r"```|`[^`]+`|\b(def|class|import|return|lambda|SELECT|INSERT|JOIN|regex|function|python|java(script)?|"
    r"typescript|rust|golang|sql|bash|api|bug|exception|stack ?trace|compile[rd]?|recursion|algorithm|"
    r"big-?o|thread|async|mutex|deadlock|kubernetes|docker)\b|[{};]|\w+\(\)|==|->|=>", re.I)
MATH = re.compile(
    r"\b(calculate|compute|solve|equation|integral|derivative|probability|percent(age)?|average|"
    r"ratio|sum|product|total|how many|how much|remainder|prime|matrix|theorem|proof|"
    r"interest|speed|rate|per hour|each|twice|half|triple)\b|\d+\s*[-+*/^=%x]\s*\d+|\$\s?\d|\d", re.I)
NUMBER = re.compile(r"\d+(?:\.\d+)?")
MULTI = re.compile(r"\b(also|then|additionally|furthermore|first|second|finally|and then|as well as)\b|"
                   r"(?:^|\s)(?:\d+[.)]|[a-d][.)])\s|;", re.I)


class ComplexityRouter(Router):
    """The default, deterministic scorer: a weighted sum of cheap text features, clipped to [0, 1].

    Features (each in [0, 1]): `length` (log of word count, saturating near 120 words), `reasoning`
    (why/how/explain/compare... words), `factual` (opens like a lookup: what is/who/when -> lowers
    the score), `code` (code markers and vocabulary), `math` (numbers, operators, arithmetic words),
    `multi_part` (several questions, enumerations, "then/also"), plus the trait's prior.
    """

    name = "complexity"
    BIAS = 0.14
    WEIGHTS = {"length": 0.30, "reasoning": 0.20, "factual": -0.10, "code": 0.16, "math": 0.20,
               "multi_part": 0.14}

    def features(self, question: str, trait: str = "general") -> dict[str, float]:
        words = len(WORD.findall(question))
        numbers = len(NUMBER.findall(question))
        math_hits = len(MATH.findall(question))
        return {
            "words": float(words),
            "length": min(1.0, math.log1p(words) / math.log1p(120)),
            "reasoning": min(1.0, len(REASONING.findall(question)) / 2.0),
            "factual": 1.0 if FACTUAL.match(question) and words <= 14 else 0.0,
            "code": min(1.0, len(CODE.findall(question)) / 3.0),
            "math": min(1.0, (math_hits + numbers) / 6.0),
            "multi_part": min(1.0, (max(0, question.count("?") - 1) + len(MULTI.findall(question))) / 3.0),
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
        return min(1.0, len(WORD.findall(question)) / 50.0)

    def explain(self, question: str, trait: str = "general") -> dict[str, Any]:
        return {"score": self.score(question, trait), "features": {"words": len(WORD.findall(question))}}


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
