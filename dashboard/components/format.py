"""How the dashboard writes numbers; tests use the same functions to compare pages with the engine."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

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


def fmt_pct_round(value: float | None) -> str:
    """A share as a whole percentage where that is exact ("95 %"), for labels and thresholds."""
    return MISSING if _missing(value) else f"{100 * value:g} %"


def fmt_seconds(ms: float | None) -> str:
    """Milliseconds as seconds with one decimal (golden report latencies)."""
    return MISSING if _missing(ms) else f"{ms / 1000:.1f} s"


def fmt_split(main_share: float | None, embedder_share: float | None) -> str:
    """Main / embedder shares as whole percentages without the sign: "60 / 40"."""
    if _missing(main_share) or _missing(embedder_share):
        return MISSING
    return f"{main_share:.0%} / {embedder_share:.0%}".replace("%", "")


def fmt_number(value: float | None) -> str:
    """A parameter as written, without trailing zeros (epsilon 0.2)."""
    return MISSING if _missing(value) else f"{value:g}"


def fmt_simulation(summary: Any) -> str:
    """One line about a finished batch of demo traffic (engine.api.SimulateSummary)."""
    return (f"{summary.n} demo questions in {summary.sessions} sessions ({summary.elapsed_s:.1f} s, "
            f"{summary.adaptations} adaptations, final drift {summary.final_drift:.3f})")


def fmt_change(value: float | None, kind: str) -> str:
    """A signed change of a figure of `kind` (see FORMATS): "+2.5 pt" for shares, "+0.40 s" for latency."""
    if _missing(value):
        return MISSING
    if kind == "pct":
        return f"{100 * value:+.1f} pt"
    if kind == "latency":
        return f"{value / 1000:+.2f} s"
    if kind == "count":
        return f"{int(value):+,}"
    return f"{value:+.3f}"


def fmt_duration(seconds: float | None) -> str:
    """A bin width or period in words: "1 s", "15 s", "5 min", "1 h", "1 day"."""
    if _missing(seconds):
        return MISSING
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}" + ("s" if unit == "day" and count > 1 else "")
    return f"{seconds:g} s"


def fmt_flag(value: bool | None) -> str:
    return MISSING if value is None else ("yes" if value else "no")


def fmt_text(value: Any) -> str:
    """A name or free text cell; a missing one is the dash, never `None`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return str(value)


def fmt_time(value: Any) -> str:
    """A UTC timestamp to the second: "2026-11-25 12:00:05"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    try:
        if pd.isna(value):
            return MISSING
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, TypeError):
        return str(value)


# One formatter per kind of figure: every table cell of the dashboard goes through one of these.
FORMATS = {
    "count": fmt_count, "pct": fmt_pct, "quality": fmt_quality, "latency": fmt_latency,
    "boundary": fmt_boundary, "number": fmt_number, "text": fmt_text, "flag": fmt_flag, "time": fmt_time,
}
