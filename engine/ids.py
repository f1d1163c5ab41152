"""Identifiers and timestamps every part of the engine stamps on what it writes (events, state)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone


def utc_now_iso() -> str:
    """UTC time as ISO-8601 with milliseconds and a trailing Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return uuid.uuid4().hex
