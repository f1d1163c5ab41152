"""Reading golden reports back: the last report, its per-case table, and the pass-rate history
across `comparison_*.json` files (for the dashboard, the CLI and the SLO check alike)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from engine.errors import InputError

CASE_COLUMNS = ["case", "result", "reason", "why", "similarity", "quality", "baseline quality", "latency ms", "route",
                "source", "pass rate"]
HISTORY_COLUMNS = ["finished_at", "pass_rate", "status", "cases", "failed", "threshold", "file"]
MAX_HISTORY = 500


def load_report(path: Path | str) -> dict[str, Any] | None:
    """The report at `path`, or None when there is none yet; InputError naming the file when it
    is not a golden report."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: golden report is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) or "pass_rate" not in data:
        raise InputError(f"{path}: not a golden report (expected status, pass_rate and cases)")
    return data


def compute_case_table(report: dict[str, Any]) -> pd.DataFrame:
    """One row per case: PASS/FAIL/ADDED, the reasons joined, why (the answer against the recorded
    spread; empty in reports before it), similarity, quality, latency, route; cases missing from the
    set follow as MISSING rows."""
    rows = []
    for row in report.get("cases", []):
        result = "ADDED" if row.get("status") == "added" else ("PASS" if row.get("passed") else "FAIL")
        reasons = [r for r in row.get("reasons", []) if not (result == "ADDED" and r.startswith("added"))]
        rows.append({"case": row["id"], "result": result, "reason": "; ".join(reasons), "why": row.get("why") or "",
                     "similarity": row.get("similarity"), "quality": row.get("quality"),
                     "baseline quality": row.get("baseline_quality"), "latency ms": row.get("latency_ms"),
                     "route": row.get("route"), "source": row.get("source"), "pass rate": row.get("pass_rate")})
    for row in report.get("missing_cases", []):
        rows.append({"case": row["id"], "result": "MISSING", "reason": row.get("reason", ""), "why": "",
                     "similarity": None, "quality": None, "baseline quality": None, "latency ms": None,
                     "route": None, "source": None, "pass rate": None})
    frame = pd.DataFrame(rows, columns=CASE_COLUMNS)
    for column in ("similarity", "quality", "baseline quality", "latency ms", "pass rate"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


@dataclass
class History:
    frame: pd.DataFrame
    unreadable: list[str] = field(default_factory=list)  # file names skipped


def load_comparison_history(goldens_dir: Path | str, limit: int = MAX_HISTORY) -> History:
    """Pass rate of each `comparison_*.json` in `goldens_dir`, oldest first (the newest `limit`).

    Files that cannot be read as a report are skipped and named in `unreadable`, never fatal.
    """
    folder = Path(goldens_dir)
    files = sorted(folder.glob("comparison_*.json"))[-limit:] if folder.exists() else []
    rows, unreadable = [], []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            rows.append({"finished_at": data["finished_at"], "pass_rate": float(data["pass_rate"]),
                         "status": data["status"], "cases": int(data["summary"]["cases"]),
                         "failed": int(data["summary"]["failed"]), "threshold": float(data["threshold"]),
                         "file": path.name})
        except (OSError, ValueError, KeyError, TypeError):
            unreadable.append(path.name)
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    frame["finished_at"] = pd.to_datetime(frame["finished_at"], utc=True, errors="coerce")
    frame = frame.sort_values("finished_at", kind="stable").reset_index(drop=True)
    return History(frame, unreadable)
