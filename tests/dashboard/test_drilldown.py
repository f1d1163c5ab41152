"""Drill-down page: the engine's paginated, searchable, sortable event table and the whole event."""

from __future__ import annotations

import json

from dashboard.components.tables import DRILLDOWN, format_table
from engine.analysis import Filters, load_event_page, load_message_events
from tests.dashboard.conftest import assert_same_frame, open_page, tables, texts


def shown_page(at):
    return tables(at)[0]


def as_shown(rows):
    """An engine page as the table shows it: text first, numbers formatted, human headers."""
    return format_table(rows, DRILLDOWN)


def test_drilldown_first_page_equals_the_engine(fixture_log):
    at = open_page("drilldown")
    expected = load_event_page(fixture_log, Filters(), page_size=50)
    assert expected.total == 120 and expected.pages == 3
    assert_same_frame(shown_page(at), as_shown(expected.rows))
    assert "120 matching answers · page 1 of 3" in texts(at)
    # The text comes first: question and answer are the first columns a reader sees.
    assert list(shown_page(at).columns[:2]) == ["Question", "Answer"]
    first_row = expected.rows.iloc[0]
    assert first_row["question"] in texts(at) and first_row["answer"] in texts(at)
    # The first row's whole event (the response and its hypothesis event) is shown.
    first = expected.rows["message_id"].iloc[0]
    assert json.loads(at.json[0].value) == load_message_events(fixture_log, first)


def test_drilldown_search_sort_and_paging(fixture_log):
    at = open_page("drilldown")
    at.text_input(key="dd_search").input("KETTLE").run()
    expected = load_event_page(fixture_log, Filters(), search="KETTLE")
    assert expected.total == 12
    assert_same_frame(shown_page(at), as_shown(expected.rows))
    assert all("kettle" in q for q in shown_page(at)["Question"])

    at.text_input(key="dd_search").input("volcano").run()  # only in answers
    assert len(shown_page(at)) == load_event_page(fixture_log, Filters(), search="volcano").total > 0

    at.text_input(key="dd_search").input("").run()
    at.selectbox(key="dd_sort").select("quality").run()
    at.toggle(key="dd_desc").set_value(False).run()
    at.selectbox(key="dd_page_size").select(25).run()
    at.number_input(key="dd_page").set_value(3).run()
    assert not at.exception
    expected = load_event_page(fixture_log, Filters(), sort_by="quality", descending=False, page=3,
                               page_size=25)
    assert_same_frame(shown_page(at), as_shown(expected.rows))
    quality = [float(q) for q in shown_page(at)["Quality"]]
    assert quality == sorted(quality)


def test_drilldown_applies_sidebar_filters_and_shows_a_chosen_event(fixture_log):
    at = open_page("drilldown")
    at.selectbox(key="bucket_filter").select("control").run()
    expected = load_event_page(fixture_log, Filters(bucket="control"))
    assert_same_frame(shown_page(at), as_shown(expected.rows))
    chosen = expected.rows["message_id"].iloc[4]
    at.selectbox(key="dd_event_0").select(chosen).run()
    events = json.loads(at.json[0].value)
    assert [e["event_type"] for e in events] == ["response", "hypothesis"]
    assert events[0]["message_id"] == chosen and events[0]["bucket"] == "control"


def test_drilldown_with_corrupt_lines(corrupt_log):
    at = open_page("drilldown")
    expected = load_event_page(corrupt_log, Filters())
    assert expected.total == 90
    assert_same_frame(shown_page(at), as_shown(expected.rows))


def test_drilldown_without_data_offers_demo_traffic(no_data_log):
    at = open_page("drilldown")
    assert at.button(key="generate_demo_empty")
    assert not at.dataframe
