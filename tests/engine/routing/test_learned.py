"""The learned router: training from labels, the saved model scoring exactly as scikit-learn fitted
it, calibration of the boundary, the pairs file's shape, and a missing, corrupt or other-version
model falling back to the default router with a warning."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import numpy as np
import pytest

from engine.errors import InputError
from engine.providers.sim_world import generate_questions, p_correct, truth_of
from engine.routing.learned import (
    REGULARISATION_C,
    Label,
    LearnedModel,
    LearnedRouter,
    ModelFileError,
    _fit_head,
    compute_features,
    load_model,
    load_pairs,
    load_router,
    train_model,
)
from engine.routing.routers import ROUTERS, ComplexityRouter, get_router


def make_labels(n: int, *, seed: int = 0, both: float = 1.0) -> list[Label]:
    """`n` demo questions labelled by the simulator's own truth: both outcomes for a share `both`,
    else the outcome of one route drawn 50/50 (what an A/B log gives)."""
    rng = random.Random(seed)
    labels = []
    for item in generate_questions(n, seed):
        truth = truth_of(item.question)
        difficulty = truth.difficulty if truth else 0.3
        main_ok = rng.random() < p_correct("main", difficulty)
        embedder_ok = rng.random() < p_correct("embedder", difficulty)
        if rng.random() < both:
            labels.append(Label(item.question, item.trait, main_ok, embedder_ok, "pairs"))
        elif rng.random() < 0.5:
            labels.append(Label(item.question, item.trait, main_ok, None, "pairs", "main"))
        else:
            labels.append(Label(item.question, item.trait, None, embedder_ok, "pairs", "embedder"))
    return labels


@pytest.fixture(scope="module")
def model() -> LearnedModel:
    return train_model(make_labels(600, seed=1), target_main_share=0.4, folds=3)


def test_learned_router_sends_the_hard_questions_to_main(model):
    router = LearnedRouter(model)
    easy = "What is the capital of France?"
    hard = ("A bag has 5 red and 4 blue marbles. I draw two without replacement. What is the probability "
            "that both are blue?")
    assert 0.0 <= router.score(easy) < router.score(hard, "analytical") <= 1.0
    assert router.decide(hard, "analytical", 0.5).route == "main"
    assert router.decide(easy, "general", 0.5).route == "embedder"


def test_saved_model_scores_like_scikit_learn_fitted_it(model, tmp_path):
    """The pure-Python scorer reproduces the fitted vectorizer and regression (no pickle, no sklearn)."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = make_labels(300, seed=2)
    rows = [compute_features(lb.question, lb.trait) for lb in labels]
    vectorizer = TfidfVectorizer(analyzer=lambda terms: terms, sublinear_tf=True, min_df=2)
    matrix = hstack([vectorizer.fit_transform([r.terms for r in rows]),
                     csr_matrix(np.array([r.shape for r in rows]))]).tocsr()
    fitted = LogisticRegression(C=REGULARISATION_C, max_iter=1000).fit(matrix, [lb.main_correct for lb in labels])

    head = _fit_head(rows, [bool(lb.main_correct) for lb in labels])
    expected = fitted.predict_proba(matrix)[:, 1]
    ours = np.array([head.probability(r) for r in rows])
    assert np.allclose(ours, expected, atol=1e-6)

    path = model.save(tmp_path / "router.json")
    again = load_model(path)
    questions = [lb.question for lb in labels[:50]]
    assert [again.score(q) for q in questions] == [model.score(q) for q in questions]
    assert again.version == model.version


def test_model_records_what_it_learned_from(model):
    training = model.training
    assert training["size"] == 600 and training["labels"] == {"main": 600, "embedder": 600}
    assert training["label_sources"] == {"pairs": 600}
    assert training["target_main_share"] == 0.4
    held = training["held_out"]
    assert held["questions"] > 50 and held["apgr"] is not None and held["apgr"] > 0.5
    assert model.version.startswith("learned-")


def test_boundary_is_calibrated_to_the_target_share(model):
    """Out-of-fold scores of questions like the training ones put about the target share above 0.5."""
    fresh = [q for q in generate_questions(800, seed=9)]
    share = np.mean([model.score(q.question, q.trait) >= 0.5 for q in fresh])
    assert abs(share - 0.4) < 0.1


def test_one_outcome_labels_train_both_heads():
    model = train_model(make_labels(500, seed=3, both=0.0), folds=3)
    assert 200 < model.training["labels"]["main"] < 300
    assert model.training["both_outcomes"] == 0
    # The default share is the traffic's own: half the one-outcome labels came from main.
    assert abs(model.training["target_main_share"] - model.training["labels"]["main"] / 500) < 1e-3
    assert model.training["held_out"]["apgr"] is None  # no held-out question has both outcomes


def test_too_few_labels_name_the_counts():
    labels = make_labels(150, seed=4, both=0.0)
    with pytest.raises(InputError, match=r"too few labels.*\d+ for main and \d+ for embedder"):
        train_model(labels)


def test_pairs_file_shape(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"question": "q1", "main_correct": true, "extra": 1}\n\n'
                    '{"question": "q2", "trait": "technical", "embedder_correct": false}\n'
                    '{"question": "q3", "main_correct": true, "embedder_correct": true}\n')
    labels = load_pairs(path)
    assert [(lb.question, lb.trait, lb.main_correct, lb.embedder_correct) for lb in labels] == [
        ("q1", "general", True, None), ("q2", "technical", None, False), ("q3", "general", True, True)]
    for bad, message in [('{"question": "q"}', "at least one of"), ('{"main_correct": true}', "field question"),
                         ('{"question": "q", "main_correct": "yes"}', "true or false"), ("{oops", "not valid JSON"),
                         ("[1]", "JSON object")]:
        path.write_text('{"question": "ok", "main_correct": true}\n' + bad + "\n")
        with pytest.raises(InputError, match=rf"line 2: .*{message}"):
            load_pairs(path)


@pytest.mark.parametrize("content", [None, "not json {", '{"format": "something-else"}',
                                     "other-version", '{"format": "aios-learned-router", "format_version": 1}'])
def test_unusable_model_warns_and_routes_with_the_default(tmp_path, caplog, model, content):
    path = tmp_path / "model.json"
    if content == "other-version":
        data = model.to_dict()
        data["format_version"] = 99
        path.write_text(json.dumps(data))
    elif content is not None:
        path.write_text(content)
    with caplog.at_level(logging.WARNING, logger="engine.routing.learned"):
        router = load_router("learned", path)
    assert isinstance(router, ComplexityRouter) and router.version is None
    assert "learned router unusable" in caplog.text
    with pytest.raises(ModelFileError):
        load_model(path)


def test_learned_without_a_model_is_the_default(caplog):
    with caplog.at_level(logging.WARNING, logger="engine.routing.learned"):
        assert load_router("learned", None).name == "complexity"
    assert "without a model" in caplog.text
    # Registered, so listings of every router (benches, --router choices) include it.
    assert "learned" in ROUTERS
    question = "Explain how a vaccine works"
    assert get_router("learned").score(question) == get_router("complexity").score(question)


def test_model_file_round_trip_keeps_its_format(model, tmp_path: Path):
    data = json.loads(model.save(tmp_path / "m.json").read_text())
    assert data["format"] == "aios-learned-router" and data["format_version"] == 1
    assert set(data["heads"]) == {"main", "embedder"}
    assert {"size", "label_sources", "date", "held_out"} <= set(data["training"])
