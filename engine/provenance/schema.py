"""The log's column schema, derived once (at import) from the event models: every field of every event
type, with the DuckDB type its values are read as. The read side builds every scan of the log from it.

A field declared by several event types gets one type: the shared one, DOUBLE when they mix integers
and floats, VARCHAR otherwise. Nested values (token counts, quality components, samples) are kept as
their JSON text. A field whose metadata says `format: date-time` (the `ts` envelope) is a TIMESTAMPTZ.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from engine.provenance.events import EVENT_TYPES, Event

TIMESTAMP = "TIMESTAMPTZ"
_SCALARS: dict[type, str] = {bool: "BOOLEAN", int: "BIGINT", float: "DOUBLE", str: "VARCHAR"}
_NUMBERS = {"BIGINT", "DOUBLE"}


def compute_duckdb_type(annotation: Any) -> str:
    """The DuckDB type a value of this annotation is read as; raises TypeError for an unmapped type,
    so a new kind of field fails at import instead of being read wrongly."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        kinds = {compute_duckdb_type(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        return _merge(kinds)
    if origin is Literal:
        return _merge({compute_duckdb_type(type(value)) for value in typing.get_args(annotation)})
    if origin in (dict, list, tuple, set) or annotation in (dict, list, tuple, set):
        return "VARCHAR"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "VARCHAR"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    raise TypeError(f"no DuckDB type for the event field annotation {annotation!r}")


def _merge(kinds: set[str]) -> str:
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= _NUMBERS:
        return "DOUBLE"
    return "VARCHAR"


def _field_type(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and extra.get("format") == "date-time":
        return TIMESTAMP
    return compute_duckdb_type(field.annotation)


def compute_log_columns(models: typing.Iterable[type[Event]]) -> dict[str, str]:
    """{field name: DuckDB type} over the models, envelope fields first, then in declaration order."""
    found: dict[str, set[str]] = {}
    for model in models:
        for name, field in model.model_fields.items():
            found.setdefault(name, set()).add(_field_type(field))
    return {name: _merge(kinds) for name, kinds in found.items()}


# Every column of the log: the envelope (Event) first, then each event type's own fields.
LOG_COLUMNS: dict[str, str] = compute_log_columns([Event, *EVENT_TYPES.values()])
