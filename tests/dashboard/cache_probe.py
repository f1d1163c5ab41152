"""A function for the cache tests to count its calls (module-level: `cached` names its cache by it)."""

from __future__ import annotations

CALLS: list[tuple] = []


def probe(*args: object) -> int:
    CALLS.append(args)
    return len(CALLS)
