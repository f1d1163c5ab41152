"""Training the learned router as one step: labels in, the model trained, saved where asked and
summarised. `train-router --pairs` comes in through `train_router_from_pairs`; the log's labels (the
command's --log and the dashboard's Train button) through engine.analysis.replay.train_router_from_log;
all of them end in `train_router`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.routing.learned import Label, load_pairs, summarise_model, train_model


def train_router(labels: Sequence[Label], out: Path | str, *, target_main_share: float | None = None) -> dict[str, Any]:
    """Train on `labels`, save the model to `out` (atomically) and return its summary (what it learned
    from, its held-out estimate) with "out". Raises InputError when a route has too few labels; nothing
    is written then."""
    model = train_model(labels, target_main_share=target_main_share)
    model.save(Path(out))
    return {**summarise_model(model), "out": str(out)}


def train_router_from_pairs(path: Path | str, out: Path | str, *,
                            target_main_share: float | None = None) -> dict[str, Any]:
    """`train_router` on a pairs file (JSONL, see `load_pairs`); InputError naming the file and line of
    a bad one."""
    return train_router(load_pairs(Path(path)), out, target_main_share=target_main_share)
