"""How the dashboard writes numbers; tests use the same functions to compare pages with the engine."""

from __future__ import annotations

import math

MISSING = "–"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_count(value: int | None) -> str:
    return MISSING if _missing(value) else f"{int(value):,}"


def fmt_pct(value: float | None) -> str:
    return MISSING if _missing(value) else f"{100 * value:.1f} %"


def fmt_quality(value: float | None) -> str:
    return MISSING if _missing(value) else f"{value:.3f}"


def fmt_ms(value: float | None) -> str:
    return MISSING if _missing(value) else f"{value:,.0f} ms"


def fmt_latency(value: float | None) -> str:
    """Latency for a headline figure: seconds, short enough for a narrow metric card."""
    return MISSING if _missing(value) else f"{value / 1000:.2f} s"


def fmt_boundary(value: float | None) -> str:
    return MISSING if _missing(value) else f"{value:.3f}"
