"""Provenance: typed events, a cross-process NDJSON appender, a tolerant reader and rotation."""

from engine.provenance.events import (
    SCHEMA_VERSION,
    AdaptationEvent,
    BanditSelectionEvent,
    ComparisonEvent,
    ErrorEvent,
    Event,
    FeedbackEvent,
    GoldenEvent,
    HypothesisEvent,
    ResponseEvent,
    new_id,
    utc_now_iso,
)
from engine.provenance.reader import ReadResult, read_events, tail_events
from engine.provenance.rotate import rotate_log
from engine.provenance.sink import EventSink, append_events

__all__ = [
    "SCHEMA_VERSION", "AdaptationEvent", "BanditSelectionEvent", "ComparisonEvent", "ErrorEvent", "Event",
    "FeedbackEvent", "GoldenEvent", "HypothesisEvent", "ResponseEvent", "new_id", "utc_now_iso",
    "ReadResult", "read_events", "tail_events", "EventSink", "append_events", "rotate_log",
]
