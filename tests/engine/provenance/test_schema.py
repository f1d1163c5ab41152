"""The log schema is derived from the event models: every field of every event type, typed once, and the
read side scans the log through it alone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

from engine.provenance.events import EVENT_TYPES, AdaptationEvent, Event, HypothesisEvent, ResponseEvent, Tokens
from engine.provenance.schema import LOG_COLUMNS, compute_duckdb_type, compute_log_columns

ENGINE = Path(__file__).resolve().parents[3] / "engine"


def test_every_field_of_every_event_type_has_a_column():
    fields = {name for model in (Event, *EVENT_TYPES.values()) for name in model.model_fields}
    assert set(LOG_COLUMNS) == fields
    assert list(LOG_COLUMNS)[:3] == ["schema_version", "ts", "event_type"]  # the envelope first


@pytest.mark.parametrize("name, kind", [
    ("ts", "TIMESTAMPTZ"), ("event_type", "VARCHAR"), ("quality", "DOUBLE"), ("latency_ms", "DOUBLE"),
    ("passed", "BOOLEAN"), ("simulated", "BOOLEAN"), ("history_turns", "BIGINT"), ("bucket", "VARCHAR"),
    ("route", "VARCHAR"), ("tokens", "VARCHAR"), ("samples", "VARCHAR"), ("quality_components", "VARCHAR"),
])
def test_columns_take_the_type_of_their_model_fields(name, kind):
    assert LOG_COLUMNS[name] == kind


def test_a_field_declared_twice_gets_one_type():
    class Counted(Event):
        event_type: Literal["counted"] = "counted"
        value: int = 0  # a float in HypothesisEvent
        route: int = 0  # text elsewhere

    columns = compute_log_columns([HypothesisEvent, ResponseEvent, AdaptationEvent, Counted])
    assert columns["value"] == "DOUBLE" and columns["route"] == "VARCHAR"
    assert compute_log_columns([HypothesisEvent])["value"] == "DOUBLE"


def test_annotations_map_to_duckdb_types_and_unknown_ones_fail_loudly():
    assert compute_duckdb_type(Literal["a", "b"]) == "VARCHAR"
    assert compute_duckdb_type(float | None) == "DOUBLE"
    assert compute_duckdb_type(int | float) == "DOUBLE"
    assert compute_duckdb_type(dict[str, float]) == "VARCHAR" and compute_duckdb_type(list[str]) == "VARCHAR"
    assert compute_duckdb_type(Tokens) == "VARCHAR" and issubclass(Tokens, BaseModel)
    with pytest.raises(TypeError, match="no DuckDB type"):
        compute_duckdb_type(bytes)


def test_the_schema_is_defined_once_and_the_log_is_scanned_in_one_place():
    readers, schemas = [], []
    for path in sorted(ENGINE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ENGINE.parent))
        # DuckDB's (or pandas') NDJSON readers; a helper named _read_json for a config file is no log reader.
        readers += [where for line in text.splitlines()
                    if re.search(r"(?<!\w)read_(json|ndjson|json_objects)(_auto)?\s*\(", line)]
        schemas += [where for line in text.splitlines() if re.match(r"\s*LOG_COLUMNS\b.*=", line)]
    assert set(readers) == {"engine/analysis/store.py"} and len(readers) == 1, readers
    assert schemas == ["engine/provenance/schema.py"]
