"""engine.analysis.drilldown: pages of answers searched, sorted and paged over the log file; every event
of one message, whole."""

from __future__ import annotations

import pytest

from engine.analysis import Filters, load_event_page, load_message_events
from engine.errors import InputError


def test_event_page_search_sort_and_bad_input(log):
    page = load_event_page(log, Filters(), search="kettle", sort_by="quality", descending=False,
                           page=1, page_size=4)
    assert page.total == 10 and page.pages == 3 and len(page.rows) == 4
    assert list(page.rows["quality"]) == sorted(page.rows["quality"])
    assert {"question", "answer", "message_id"} <= set(page.rows.columns)
    assert load_event_page(log, Filters(), search="50%_").total == 0  # wildcards are literal
    last = load_event_page(log, Filters(), page=99, page_size=30)
    assert (last.page, last.pages, len(last.rows), last.total) == (4, 4, 10, 100)
    assert load_event_page(log, Filters(bucket="treatment"), page_size=1000).total == 50
    with pytest.raises(InputError, match="sort column"):
        load_event_page(log, Filters(), sort_by="question; DROP")
    with pytest.raises(InputError, match="page size"):
        load_event_page(log, Filters(), page_size=0)


def test_message_events_are_read_whole(log):
    whole = load_message_events(log, "m00003")
    assert [e["event_type"] for e in whole] == ["response", "hypothesis"]
    assert whole[0]["tokens"] == {"prompt": 0, "completion": 0, "total": 0}  # nested values kept as objects
    assert load_message_events(log, "no-such-message") == [] and load_message_events(log, "") == []


def test_a_missing_log_has_no_pages_and_no_messages(tmp_path):
    page = load_event_page(tmp_path / "absent.ndjson", Filters())
    assert (page.total, page.page, page.pages, page.rows.empty) == (0, 1, 1, True)
    assert load_message_events(tmp_path / "absent.ndjson", "m00003") == []
