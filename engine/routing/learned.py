"""A router learned from the user's own labels: two heads, P(main answers well) and P(embedder answers
well), each a logistic regression on word 1-2-gram TF-IDF plus log length and log count of numbers of
the questions that model answered; the route score is their difference, calibrated so the boundary
0.5 sends a chosen share to main.

Training (scikit-learn, imported only by `train_model`) writes a versioned JSON model; scoring is
pure Python over that file (a few dozen dictionary lookups per question), so the loop never needs
scikit-learn and a model is data, never code. `load_router` turns a missing, corrupt or
other-format model into a warning and the default router, never a crash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from engine import runbook
from engine.atomic import write_text_atomic
from engine.errors import InputError
from engine.routing.evaluation import compute_apgr
from engine.routing.routers import ROUTERS, ComplexityRouter, Router, get_router

log = logging.getLogger(__name__)

MODEL_FORMAT = "aios-learned-router"
MODEL_FORMAT_VERSION = 1
# Fewer labels than this for a route and its head would learn noise (the prototype beat the hand
# score only after about 300 logged answers, about 150 per route).
MIN_LABELS_PER_ROUTE = 100
HELD_OUT_SHARE = 0.2
REGULARISATION_C = 0.3  # stronger than scikit-learn's 1.0: a few hundred labels per route overfit at 1.0
FOLDS = 3  # out-of-fold calibration: 3 folds keep training on 10,000 labels under 30 s on 2 shared cores
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
LOG_201 = math.log1p(200)
LOG_21 = math.log1p(20)


def compute_terms(question: str, trait: str = "general") -> list[str]:
    """The terms a head sees: lower-case word unigrams and bigrams, plus the trait as one term."""
    words = TOKEN.findall(question.lower())
    terms = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    terms.append(f"trait={trait}")
    return terms


def compute_shape(question: str) -> tuple[float, float]:
    """Two dense features beside the terms, so a head learns from the user's own traffic how length and
    quantities bear on each model (the terms are L2-normalised and cannot carry length): log word
    count and log count of numbers, each scaled to about [0, 1]."""
    return (math.log1p(len(question.split())) / LOG_201, math.log1p(len(NUMBER.findall(question))) / LOG_21)


@dataclass(frozen=True)
class Features:
    terms: list[str]
    shape: tuple[float, float]


def compute_features(question: str, trait: str = "general") -> Features:
    return Features(compute_terms(question, trait), compute_shape(question))


@dataclass(frozen=True)
class Head:
    """One logistic regression over sublinear TF-IDF terms (L2-normalised) and the two shape features,
    as scikit-learn fits it."""

    weights: dict[str, tuple[float, float]]  # term -> (idf, coefficient)
    intercept: float
    shape: tuple[float, float] = (0.0, 0.0)  # coefficients of compute_shape's two features

    def probability(self, features: Features) -> float:
        counts = Counter(features.terms)
        norm = 0.0
        dot = 0.0
        # The norm runs over every known term, including those whose coefficient was dropped: only
        # terms in the vocabulary count, as in the fitted vectorizer; unknown terms are ignored.
        for term, count in counts.items():
            entry = self.weights.get(term)
            if entry is None:
                continue
            value = (1.0 + math.log(count)) * entry[0]
            norm += value * value
            dot += value * entry[1]
        z = self.intercept + (dot / math.sqrt(norm) if norm > 0 else 0.0)
        z += self.shape[0] * features.shape[0] + self.shape[1] * features.shape[1]
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_dict(self) -> dict[str, Any]:
        # Full precision: a reloaded model scores exactly as the one that was trained.
        return {"intercept": self.intercept, "shape": list(self.shape),
                "terms": {t: [i, c] for t, (i, c) in sorted(self.weights.items())}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Head:
        shape = data["shape"]
        return cls({str(t): (float(v[0]), float(v[1])) for t, v in data["terms"].items()}, float(data["intercept"]),
                   (float(shape[0]), float(shape[1])))


@dataclass(frozen=True)
class LearnedModel:
    """A trained router: its two heads, the calibration of their difference, and what it learned from."""

    version: str
    main: Head
    embedder: Head
    center: float   # the need (P(main good) - P(embedder good)) that maps to the boundary 0.5
    spread: float   # how fast the score moves away from 0.5 per unit of need
    training: dict[str, Any] = field(default_factory=dict)

    def need(self, question: str, trait: str = "general") -> float:
        """P(main answers well) - P(embedder answers well), in [-1, 1]."""
        features = compute_features(question, trait)
        return self.main.probability(features) - self.embedder.probability(features)

    def score(self, question: str, trait: str = "general") -> float:
        return calibrate(self.need(question, trait), self.center, self.spread)

    def to_dict(self) -> dict[str, Any]:
        return {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION, "version": self.version,
                "features": "word 1-2-gram sublinear TF-IDF (L2) + trait term, plus log words and log numbers; "
                             "logistic regression per route",
                "center": self.center, "spread": self.spread, "training": self.training,
                "heads": {runbook.MAIN: self.main.to_dict(), runbook.EMBEDDER: self.embedder.to_dict()}}

    @classmethod
    def from_dict(cls, data: Any) -> LearnedModel:
        """Raises ModelFileError naming what is wrong (another format or version, a missing field)."""
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ModelFileError(f"not a {MODEL_FORMAT} model")
        if data.get("format_version") != MODEL_FORMAT_VERSION:
            raise ModelFileError(f"model format version {data.get('format_version')!r}; this engine reads "
                                 f"version {MODEL_FORMAT_VERSION} (retrain with train-router)")
        try:
            heads = data["heads"]
            return cls(version=str(data["version"]), main=Head.from_dict(heads[runbook.MAIN]),
                       embedder=Head.from_dict(heads[runbook.EMBEDDER]), center=float(data["center"]),
                       spread=float(data["spread"]), training=dict(data.get("training") or {}))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ModelFileError(f"model field missing or malformed ({type(exc).__name__}: {exc})") from None

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False))
        return path


class ModelFileError(InputError):
    """A learned-router model that cannot be used (missing, not JSON, another format or version)."""


def calibrate(need: float, center: float, spread: float) -> float:
    """Map a need in [-1, 1] to a score in (0, 1): 0.5 at `center`, logistic around it."""
    z = (need - center) / spread if spread > 0 else (1.0 if need >= center else -1.0) * 60
    return round(1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z)))), 6)


def load_model(path: Path | str) -> LearnedModel:
    """The model at `path`. Raises ModelFileError when it is missing, unreadable or not a model."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFileError(f"no learned-router model at {path}") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path} is not JSON ({exc.msg} at line {exc.lineno})") from None
    return LearnedModel.from_dict(data)


class LearnedRouter(Router):
    """Scores with a trained model. Without one (e.g. `get_router("learned")` from the registry) it
    scores as the default complexity router, so a listing of every router never fails."""

    name = "learned"

    def __init__(self, model: LearnedModel | None = None) -> None:
        self.model = model
        self.version = model.version if model else None
        self._fallback = ComplexityRouter()

    def score(self, question: str, trait: str = "general") -> float:
        if self.model is None:
            return self._fallback.score(question, trait)
        return self.model.score(question, trait)

    def explain(self, question: str, trait: str = "general") -> dict[str, Any]:
        if self.model is None:
            return {"score": self.score(question, trait), "model": None}
        features = compute_features(question, trait)
        terms = features.terms
        p_main, p_embedder = self.model.main.probability(features), self.model.embedder.probability(features)
        # The terms that push hardest towards main (coefficient main - embedder, weighted by idf).
        pushes = {t: round(self.model.main.weights.get(t, (0, 0))[1] - self.model.embedder.weights.get(t, (0, 0))[1], 4)
                  for t in set(terms)}
        top = sorted(((t, v) for t, v in pushes.items() if v), key=lambda kv: -abs(kv[1]))[:8]
        return {"score": self.model.score(question, trait), "model": self.model.version,
                "features": {"p_main": round(p_main, 4), "p_embedder": round(p_embedder, 4),
                             "need": round(p_main - p_embedder, 4)},
                "terms": dict(top)}


ROUTERS[LearnedRouter.name] = LearnedRouter


def load_router(name: str, model_path: Path | str | None = None) -> Router:
    """The router the loop, the gateway and the CLI use: `name` from the registry, or for "learned"
    the model at `model_path`. A learned router without a usable model logs a warning and returns the
    default complexity router (never raises for the model). InputError for an unknown name."""
    if name != LearnedRouter.name:
        return get_router(name)
    if not model_path:
        log.warning("router 'learned' without a model (set AIOS_ROUTER_MODEL or --model): using the "
                    "default complexity router")
        return get_router("complexity")
    try:
        return LearnedRouter(load_model(model_path))
    except ModelFileError as exc:
        log.warning("learned router unusable (%s): using the default complexity router", exc)
        return get_router("complexity")


# Training -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Label:
    """One question's known outcomes: whether each model answered it well (None: not known)."""

    question: str
    trait: str = "general"
    main_correct: bool | None = None
    embedder_correct: bool | None = None
    source: str = "pairs"          # where the label came from (pairs, comparison, response)
    served: str | None = None      # the route the log served it on, when from a log


def split_of(question: str) -> float:
    """A stable number in [0, 1) per question: the held-out split is by question, never by line."""
    return int.from_bytes(hashlib.sha256(f"split|{question}".encode()).digest()[:8], "big") / 2**64


def check_label_counts(labels: Sequence[Label], minimum: int = MIN_LABELS_PER_ROUTE) -> tuple[int, int]:
    """Labels per route; InputError naming both counts when either is below `minimum`."""
    n_main = sum(label.main_correct is not None for label in labels)
    n_embedder = sum(label.embedder_correct is not None for label in labels)
    if n_main < minimum or n_embedder < minimum:
        raise InputError(f"too few labels to learn a router: {n_main} for main and {n_embedder} for embedder "
                         f"(need at least {minimum} per route)")
    return n_main, n_embedder


def _fit_head(rows: list[Features], outcomes: list[bool]) -> Head:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if len(set(outcomes)) < 2:  # one class only: a constant probability, no terms
        p = min(0.999, max(0.001, float(np.mean(outcomes)))) if outcomes else 0.5
        return Head({}, math.log(p / (1 - p)))
    vectorizer = TfidfVectorizer(analyzer=lambda terms: terms, sublinear_tf=True, min_df=2)
    terms = vectorizer.fit_transform([row.terms for row in rows])
    matrix = hstack([terms, csr_matrix(np.array([row.shape for row in rows]))]).tocsr()
    model = LogisticRegression(C=REGULARISATION_C, max_iter=1000)
    model.fit(matrix, outcomes)
    coef = model.coef_[0]
    weights = {term: (float(vectorizer.idf_[index]), float(coef[index]))
               for term, index in vectorizer.vocabulary_.items()}
    width = terms.shape[1]
    return Head(weights, float(model.intercept_[0]), (float(coef[width]), float(coef[width + 1])))


def _fit_heads(labels: Sequence[Label]) -> tuple[Head, Head]:
    heads = []
    for route in runbook.ROUTES:
        rows = [(compute_features(lb.question, lb.trait), _outcome(lb, route)) for lb in labels]
        known = [(t, o) for t, o in rows if o is not None]
        heads.append(_fit_head([t for t, _ in known], [bool(o) for _, o in known]))
    return heads[0], heads[1]


def _outcome(label: Label, route: str) -> bool | None:
    return label.main_correct if route == runbook.MAIN else label.embedder_correct


def _needs(main: Head, embedder: Head, labels: Sequence[Label]) -> np.ndarray:
    out = []
    for label in labels:
        features = compute_features(label.question, label.trait)
        out.append(main.probability(features) - embedder.probability(features))
    return np.array(out, dtype=float)


def _out_of_fold_needs(labels: Sequence[Label], folds: int) -> np.ndarray:
    """Each label's need from heads trained without its fold (folds by question hash)."""
    fold_of = np.array([int(split_of(lb.question) * 10_000) % folds for lb in labels])
    needs = np.zeros(len(labels))
    for k in range(folds):
        train = [lb for lb, f in zip(labels, fold_of, strict=True) if f != k]
        test_index = np.flatnonzero(fold_of == k)
        if len(test_index) == 0:
            continue
        main, embedder = _fit_heads(train)
        needs[test_index] = _needs(main, embedder, [labels[int(i)] for i in test_index])
    return needs


def compute_calibration(needs: np.ndarray, target_main_share: float) -> tuple[float, float]:
    """(center, spread): the need above which `target_main_share` of `needs` lie, and a spread that
    keeps most scores within (0.05, 0.95) so the adaptive controller's small steps still matter."""
    if not 0.0 <= target_main_share <= 1.0:
        raise InputError(f"option --target-main-share: must be in [0, 1], got {target_main_share}")
    center = float(np.quantile(needs, 1.0 - target_main_share)) if len(needs) else 0.0
    spread = float(np.std(needs)) / 2.0 if len(needs) > 1 else 0.1
    return center, max(spread, 1e-3)


def default_main_share(labels: Sequence[Label]) -> float:
    """The share the traffic itself sent to main: the log's served routes, else (a pairs file) the
    share labelled for main among one-outcome labels, else the runbook's boundary 0.5 as a share."""
    served = [lb.served for lb in labels if lb.served is not None]
    if served:
        return sum(s == runbook.MAIN for s in served) / len(served)
    single = [lb for lb in labels if (lb.main_correct is None) != (lb.embedder_correct is None)]
    if single:
        return sum(lb.main_correct is not None for lb in single) / len(single)
    return runbook.CONTROL_BOUNDARY


def compute_held_out(labels: Sequence[Label], test: Sequence[Label], target_main_share: float,
                     folds: int) -> dict[str, Any]:
    """Train on `labels`, calibrate on their out-of-fold needs, report on `test` (never trained on):
    APGR over test questions with both outcomes, main share at the boundary 0.5, per-head accuracy."""
    main, embedder = _fit_heads(labels)
    center, spread = compute_calibration(_out_of_fold_needs(labels, folds), target_main_share)
    scores = np.array([calibrate(n, center, spread) for n in _needs(main, embedder, test)])
    both = [i for i, lb in enumerate(test) if lb.main_correct is not None and lb.embedder_correct is not None]
    apgr = None
    if both:
        strong = np.array([test[i].main_correct for i in both], dtype=bool)
        weak = np.array([test[i].embedder_correct for i in both], dtype=bool)
        if strong.mean() != weak.mean():
            apgr = round(compute_apgr(scores[both].tolist(), strong.tolist(), weak.tolist()), 4)
    heads = {}
    for route, head in ((runbook.MAIN, main), (runbook.EMBEDDER, embedder)):
        known = [(lb, _outcome(lb, route)) for lb in test if _outcome(lb, route) is not None]
        if known:
            hits = [(head.probability(compute_features(lb.question, lb.trait)) >= 0.5) == bool(o) for lb, o in known]
            heads[route] = {"labels": len(known), "accuracy": round(float(np.mean(hits)), 4)}
    return {"questions": len(test), "both_outcomes": len(both), "apgr": apgr,
            "main_share": round(float(np.mean(scores >= runbook.CONTROL_BOUNDARY)), 4) if len(test) else None,
            "heads": heads}


def train_model(labels: Sequence[Label], *, target_main_share: float | None = None,
                folds: int = FOLDS, minimum: int = MIN_LABELS_PER_ROUTE, held_out: bool = True) -> LearnedModel:
    """Learn a router from `labels`. The held-out estimate trains on 80 % of the questions (by hash)
    and reports on the rest; the saved model is then trained on all of them and calibrated on their
    out-of-fold needs so that the boundary 0.5 sends `target_main_share` (default: the traffic's own
    share, `default_main_share`) to main. `held_out` False skips the estimate (benches that measure
    on their own split). Raises InputError when a route has too few labels."""
    started = time.perf_counter()
    n_main, n_embedder = check_label_counts(labels, minimum)
    share = default_main_share(labels) if target_main_share is None else target_main_share
    train = [lb for lb in labels if split_of(lb.question) >= HELD_OUT_SHARE]
    test = [lb for lb in labels if split_of(lb.question) < HELD_OUT_SHARE]
    estimate = compute_held_out(train, test, share, folds) if held_out and train and test else None
    main, embedder = _fit_heads(labels)
    center, spread = compute_calibration(_out_of_fold_needs(labels, folds), share)
    trained_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hashlib.sha256(json.dumps([main.to_dict(), embedder.to_dict(), center, spread],
                                       sort_keys=True).encode()).hexdigest()[:8]
    sources = Counter(lb.source for lb in labels)
    training = {"size": len(labels), "labels": {runbook.MAIN: n_main, runbook.EMBEDDER: n_embedder},
                "both_outcomes": sum(lb.main_correct is not None and lb.embedder_correct is not None
                                     for lb in labels),
                "label_sources": dict(sorted(sources.items())), "date": trained_at,
                "target_main_share": round(share, 4), "held_out": estimate,
                "seconds": round(time.perf_counter() - started, 2)}
    return LearnedModel(version=f"learned-{trained_at[:10]}-{digest}", main=main, embedder=embedder,
                        center=center, spread=spread, training=training)


def label_from_pair(item: Any, number: int) -> Label:
    """One `--pairs` line: {"question": str, "trait"?: str, "main_correct"?: bool,
    "embedder_correct"?: bool}, at least one outcome; other keys ignored. InputError naming the line."""
    where = f"line {number}"
    if not isinstance(item, dict):
        raise InputError(f"{where}: expected a JSON object")
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{where}: field question is missing or not a non-empty string")
    trait = item.get("trait", "general")
    if not isinstance(trait, str) or not trait.strip():
        raise InputError(f"{where}: field trait must be a non-empty string")
    outcomes = {}
    for key in ("main_correct", "embedder_correct"):
        value = item.get(key)
        if value is not None and not isinstance(value, bool):
            raise InputError(f"{where}: field {key} must be true or false, got {value!r}")
        outcomes[key] = value
    if outcomes["main_correct"] is None and outcomes["embedder_correct"] is None:
        raise InputError(f"{where}: needs at least one of main_correct, embedder_correct")
    return Label(question, trait, outcomes["main_correct"], outcomes["embedder_correct"], "pairs")


def load_pairs(path: Path) -> list[Label]:
    """The labels of a `--pairs` JSONL file; InputError naming the file and line of a bad one."""
    labels = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"option --pairs: cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {number}: not valid JSON ({exc.msg})") from None
            try:
                labels.append(label_from_pair(item, number))
            except InputError as exc:
                raise InputError(f"{path}: {exc}") from None
    return labels


def summarise_model(model: LearnedModel) -> dict[str, Any]:
    """What a caller shows after training: version, training size and sources, held-out estimate."""
    return {"version": model.version, "center": round(model.center, 6), "spread": round(model.spread, 6),
            "terms": {runbook.MAIN: len(model.main.weights), runbook.EMBEDDER: len(model.embedder.weights)},
            **{k: v for k, v in model.training.items()}}


__all__ = ["Label", "LearnedModel", "LearnedRouter", "ModelFileError", "load_model", "load_pairs",
           "load_router", "train_model"]
