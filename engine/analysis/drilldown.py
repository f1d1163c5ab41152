"""The Drill-down: pages of response events with their question and answer text, searched, sorted and
paged inside DuckDB over the log file (the store keeps no text), and every event of one message, whole.
With the PostgreSQL store in use, the same scan runs over the store's matching events
(engine.provenance.reader.log_scan_file), so a page is the one the file would give.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from engine.analysis.store import Filters, connect, scan_log
from engine.errors import InputError
from engine.provenance.reader import log_scan_file

# The columns a page shows (typed by the log schema), and those it can be sorted by.
DRILLDOWN_COLUMNS: tuple[str, ...] = (
    "ts", "message_id", "trait", "bucket", "route", "source", "complexity", "boundary", "quality",
    "latency_ms", "error_code", "question", "answer", "quality_method",
)
SORTABLE = ("ts", "quality", "latency_ms", "complexity", "boundary", "bucket", "route", "trait")


@dataclass
class EventPage:
    """One page of the Drill-down table."""

    rows: pd.DataFrame
    total: int
    page: int
    pages: int
    page_size: int


def load_event_page(path: Path, filters: Filters, *, search: str = "", sort_by: str = "ts",
                    descending: bool = True, page: int = 1, page_size: int = 50) -> EventPage:
    """Response events of the log matching `filters` and a text search, one page of them.

    The search is a case-insensitive substring match over question and answer. Sorting and
    paging run inside DuckDB over the log file, so a large log is never loaded whole (on the store,
    over its events narrowed by the filters). Raises InputError for an unknown sort column or a page
    size outside 1..1000, StateError when the store cannot be read.
    """
    if sort_by not in SORTABLE:
        raise InputError(f"sort column {sort_by!r} is not one of {list(SORTABLE)}")
    if not 1 <= page_size <= 1000:
        raise InputError(f"page size {page_size} is outside 1..1000")
    narrowing = {name: value for name, value in (("trait", filters.trait), ("bucket", filters.bucket),
                                                 ("route", filters.route)) if value}
    with log_scan_file(path, event_types={"response"}, equal=narrowing, since=filters.since,
                       until=filters.until) as source:
        return _page(source, filters, search, sort_by, descending, page, page_size)


def _page(path: Path, filters: Filters, search: str, sort_by: str, descending: bool, page: int,
          page_size: int) -> EventPage:
    empty = pd.DataFrame(columns=list(DRILLDOWN_COLUMNS))
    if not path.exists() or path.stat().st_size == 0:
        return EventPage(empty, 0, 1, 1, page_size)
    clauses, params = filters.clauses()
    conditions = ["COALESCE(event_type, 'response') = 'response'", "message_id IS NOT NULL", *clauses]
    if search:
        # The search is literal text: escape LIKE's wildcards.
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append("(question ILIKE ? ESCAPE '\\' OR answer ILIKE ? ESCAPE '\\')")
        params += [pattern, pattern]
    shown = ", ".join(DRILLDOWN_COLUMNS)
    base = f"FROM {scan_log(path, ('event_type', *DRILLDOWN_COLUMNS))} WHERE {' AND '.join(conditions)}"
    order = f"{sort_by} {'DESC' if descending else 'ASC'} NULLS LAST, message_id"
    con = connect()
    try:
        def fetch(number: int) -> pd.DataFrame:
            # One scan: the page's rows with the total count of matches alongside.
            return con.execute(
                f"SELECT {shown}, count(*) OVER () AS total {base} ORDER BY {order} "
                f"LIMIT {int(page_size)} OFFSET {int((number - 1) * page_size)}", params).df()

        page = max(1, page)
        rows = fetch(page)
        if rows.empty and page > 1:  # past the end: show the last page
            total = con.execute(f"SELECT count(*) {base}", params).fetchall()[0][0]
            page = max(1, math.ceil(total / page_size))
            rows = fetch(page)
        total = int(rows["total"].iloc[0]) if not rows.empty else 0
        rows = rows.drop(columns=["total"])
    finally:
        con.close()
    pages = max(1, math.ceil(total / page_size))
    return EventPage(rows, int(total), page, pages, page_size)


def load_message_events(path: Path, message_id: str) -> list[dict[str, Any]]:
    """Every event of the log that carries `message_id` (the response and its hypotheses), whole."""
    if not message_id:
        return []
    with log_scan_file(path, equal={"message_id": message_id}) as source:
        if not source.exists():
            return []
        con = connect()
        try:
            rows = con.execute(
                f"SELECT json FROM {scan_log(source)} WHERE json IS NOT NULL "
                "AND json_extract_string(json, '$.message_id') = ?", [message_id]).fetchall()
        finally:
            con.close()
    out = []
    for (text,) in rows:
        item = json.loads(text)
        if isinstance(item, dict):
            out.append(item)
    return out
