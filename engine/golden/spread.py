"""A model's own run-to-run noise on one golden case, from the answers `record --samples K` kept, and
where a new answer sits against it. An unchanged model must pass; a real regression must fail.

The similarity floor is the least any recorded answer resembled its closest sibling: a new answer from
the same model resembles its closest recorded answer about that much, so the threshold is measured from
the floor, not from 1.0. With one recorded answer the floor is 1.0, which is the pre-spread rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from engine.golden.similarity import Similarity


def count_words(text: str) -> int:
    return len((text or "").split())


@dataclass(frozen=True)
class Spread:
    """The recorded answers of one case: how alike they were and how long and good."""

    samples: int
    similarity_floor: float  # min over answers of the similarity to the closest other answer (1.0 for one)
    similarity_high: float  # max pairwise similarity (1.0 for one)
    words_min: int
    words_max: int
    quality_min: float
    quality_max: float

    def as_json(self, measure: str) -> dict[str, Any]:
        return {**asdict(self), "measure": measure}

    def similarity_limit(self, threshold: float) -> float:
        """Below this similarity to the closest recorded answer, an answer is outside the model's noise."""
        return self.similarity_floor - threshold

    def words_limit(self, threshold: float) -> float:
        return (1.0 - threshold) * self.words_min

    def quality_limit(self, threshold: float) -> float:
        return (1.0 - threshold) * self.quality_min


def compute_spread(answers: Sequence[str], qualities: Sequence[float], similarity: Similarity) -> Spread:
    """The spread of K >= 1 recorded answers (pairwise similarities: K*(K-1)/2 calls)."""
    if not answers or len(answers) != len(qualities):
        raise ValueError("compute_spread needs one quality per answer and at least one answer")
    k = len(answers)
    closest = [0.0] * k
    high = 0.0
    for i in range(k):
        for j in range(i + 1, k):
            value = similarity.score(answers[i], answers[j])
            closest[i], closest[j] = max(closest[i], value), max(closest[j], value)
            high = max(high, value)
    words = [count_words(a) for a in answers]
    return Spread(samples=k, similarity_floor=round(min(closest), 4) if k > 1 else 1.0,
                  similarity_high=round(high, 4) if k > 1 else 1.0, words_min=min(words), words_max=max(words),
                  quality_min=round(min(qualities), 4), quality_max=round(max(qualities), 4))


def compute_closeness(answer: str, recorded: Sequence[str], similarity: Similarity) -> float:
    """The new answer's similarity to the closest recorded answer."""
    return max(similarity.score(answer, other) for other in recorded)


def recorded_answers(entry: dict[str, Any]) -> tuple[list[str], list[float]]:
    """A baseline entry's answered samples (answers, qualities); a version-1 entry has its one answer.

    The entry's own answer and quality are its first answered sample's. When they no longer match
    (someone edited the baseline by hand to say what the answer should be), the edited answer stands
    alone: the other samples were recorded for a different reference.
    """
    samples = entry.get("samples")
    first = next((s for s in samples if isinstance(s, dict) and s.get("answered", True)), None) \
        if isinstance(samples, list) else None
    edited = first is None or first.get("answer") != entry["answer"] or \
        float(first.get("quality", entry["quality"])) != float(entry["quality"])
    if isinstance(samples, list) and samples and not edited:
        kept = [s for s in samples if isinstance(s, dict) and isinstance(s.get("answer"), str)
                and s.get("answered", True)]
        if kept:
            return [s["answer"] for s in kept], [float(s.get("quality", entry["quality"])) for s in kept]
    return [entry["answer"]], [float(entry["quality"])]
