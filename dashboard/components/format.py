"""How the dashboard writes numbers; tests use the same functions to compare pages with the engine."""

from __future__ import annotations

import math
from typing import Any

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
