"""Training as one step: a pairs file in, the model saved where asked (and loadable as the learned
router), its summary out; too few labels write nothing."""

from __future__ import annotations

import json

import pytest

from engine.errors import InputError
from engine.routing.learned import load_model, load_router
from engine.routing.training import train_router, train_router_from_pairs
from tests.engine.routing.test_learned import make_labels


def write_pairs(path, labels) -> None:
    path.write_text("".join(json.dumps({"question": lb.question, "trait": lb.trait, "main_correct": lb.main_correct,
                                        "embedder_correct": lb.embedder_correct}) + "\n" for lb in labels))


def test_a_pairs_file_becomes_a_saved_model_and_its_summary(tmp_path):
    pairs, out = tmp_path / "pairs.jsonl", tmp_path / "models" / "router.json"
    write_pairs(pairs, make_labels(300, seed=3))
    summary = train_router_from_pairs(pairs, out, target_main_share=0.4)
    assert summary["out"] == str(out) and summary["size"] == 300 and summary["target_main_share"] == 0.4
    assert summary["label_sources"] == {"pairs": 300} and summary["held_out"]["questions"] > 0
    assert load_model(out).version == summary["version"]
    assert load_router("learned", out).version == summary["version"]


def test_too_few_labels_write_no_model(tmp_path):
    out = tmp_path / "router.json"
    with pytest.raises(InputError, match="too few labels"):
        train_router(make_labels(20), out)
    assert not out.exists()
