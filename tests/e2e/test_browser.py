"""The dashboard in a real browser: Debian's chromium, driven by Playwright, against
`streamlit run dashboard/app.py` on a free port with a fresh data dir and the simulator.

At 1280 px, as a new user: the default demo traffic (no size typed) ends with an adaptation and its
reason on the Routing page; after Ask the Answers card counts the new answer; every page opens
without an exception box, charts render, and a screenshot per page goes to test-artifacts/. On a
log whose A/B test finds nothing: the verdict is a neutral box saying "inconclusive", no table
needs a sideways scroll for its key columns, and the Drill-down's first columns are question and
answer.
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.provenance import EventSink, read_events
from engine.settings import REPO_ROOT
from tests.dashboard.fixture_log import response
from tests.dashboard.test_hypotheses_ab import write_same_arms_log
from tests.support.serve import start_dashboard, stop

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = ["Overview", "Hypotheses", "Routing", "Drill-down", "Goldens", "Settings"]
WIDTH = 1280
WITH_CHARTS = {"Overview", "Hypotheses", "Routing"}
TIMEOUT_MS = 60_000
CHART = "[data-testid='stPlotlyChart'] .js-plotly-plot"
EXCEPTION = "[data-testid='stException']"


@pytest.fixture
def chromium_path() -> str:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing on CI: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return str(CHROMIUM)


@pytest.fixture
def dashboard_url(data_dir: Path, tmp_path: Path):
    """`streamlit run` on a free port, with this test's data dir; stopped by its PID afterwards."""
    url, server = start_dashboard({"AIOS_DATA_DIR": str(data_dir), "AIOS_PROVIDER": "sim",
                                   "AIOS_SIM_LATENCY_SCALE": "0"}, log=tmp_path / "streamlit.log")
    try:
        yield url
    finally:
        stop(server)


@pytest.fixture
def page(chromium_path: str, dashboard_url: str):
    """A 1280 px page of Debian's chromium showing the dashboard's Overview; the browser is closed after
    the test (and before the dashboard is stopped)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = new_page(browser)
            page.goto(dashboard_url)
            page.get_by_role("heading", name="Overview", level=1).wait_for()
            yield page
        finally:
            browser.close()


def open_page(page, name: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a", has_text=name).first.click()
    page.get_by_role("heading", name=name, level=1).wait_for(timeout=TIMEOUT_MS)


def settle(page) -> None:
    """Wait until Streamlit has finished the current run (its status widget goes away)."""
    page.wait_for_timeout(300)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=TIMEOUT_MS)


def new_page(browser):
    page = browser.new_page(viewport={"width": WIDTH, "height": 1600})
    page.set_default_timeout(TIMEOUT_MS)
    return page


def screenshot(page, name: str, prefix: str = "dashboard") -> None:
    """The whole page: the main area scrolls inside its own container, so the viewport is made as
    tall as that content for the shot, then put back."""
    main = "document.querySelector(\"[data-testid='stMain']\")"
    page.evaluate(f"{main}.scrollTo(0, 0)")
    height = int(page.evaluate(f"{main}.scrollHeight"))
    size = page.viewport_size
    page.set_viewport_size({"width": WIDTH, "height": max(height, size["height"])})
    page.wait_for_timeout(500)  # charts and grids redraw for the new size
    page.screenshot(path=str(ARTIFACTS / f"{prefix}_{name.lower()}.png"), full_page=True)
    page.set_viewport_size(size)


# Per table on the page: how far its grid overflows sideways (scrollWidth - clientWidth, px) and,
# for the Drill-down, the right edge of the key columns against the visible width.
TABLE_OVERFLOW_JS = """() => [...document.querySelectorAll("[data-testid='stDataFrame']")].map(frame => {
    const scroller = frame.querySelector('.dvn-scroller');
    return scroller ? scroller.scrollWidth - scroller.clientWidth : 0;
})"""


def test_default_demo_adapts_and_ask_counts_the_new_answer(page, data_dir: Path):
    from playwright.sync_api import expect

    # A fresh data dir: the page says what to do and offers demo traffic.
    page.get_by_text("No provenance log yet").wait_for()
    page.get_by_text("SIMULATED").first.wait_for()
    main = page.locator("[data-testid='stMain']")
    # The default demo size, as offered: no number typed.
    main.get_by_role("button", name="Generate demo traffic").click()
    page.get_by_text("Generated 500 demo questions").wait_for()
    page.locator(CHART).first.wait_for()
    assert (data_dir / "analytics" / "hypotheses.ndjson").stat().st_size > 0
    settle(page)

    events_card = page.locator("[data-testid='stMetric']", has_text="Answers").first
    expect(events_card).to_contain_text("500")
    page.get_by_role("textbox", name="Question", exact=True).fill("How do I reverse a linked list in Python?")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.locator("[data-testid='stMetric']", has_text="Route").wait_for()
    settle(page)
    # The figures above the form include the new answer at once.
    expect(events_card).to_contain_text("501")

    for name in PAGES:
        if name != "Overview":
            open_page(page, name)
        if name in WITH_CHARTS:
            page.locator(CHART).nth(1).wait_for()  # at least two charts drawn
        settle(page)
        assert page.locator(EXCEPTION).count() == 0, f"exception on {name}"
        if name != "Drill-down":  # its text columns are wide by design; the other test checks its order
            overflow = page.evaluate(TABLE_OVERFLOW_JS)
            assert all(px <= 1 for px in overflow), f"{name}: a table scrolls sideways by {overflow} px"
        if name == "Routing":
            # The default demo moved the treatment boundary, and the page says why.
            page.get_by_text("Latest adaptation: treatment boundary").wait_for()
            assert page.get_by_text("because").count() >= 1
        screenshot(page, name)

    # Live monitoring: with auto-refresh on, an answer appended by another process shows
    # up on the open Overview within one 10 s tick, without any click.
    open_page(page, "Overview")
    page.get_by_text("Auto-refresh (every 10 s)").click()
    settle(page)
    log = data_dir / "analytics" / "hypotheses.ndjson"
    answers = sum(1 for e in read_events(log).events if e["event_type"] == "response")
    expect(events_card).to_contain_text(f"{answers:,}")
    with EventSink(log) as sink:
        sink.append(response(5000, random.Random(5), datetime.now(timezone.utc)))
    expect(events_card).to_contain_text(f"{answers + 1:,}", timeout=25_000)
    assert page.locator(EXCEPTION).count() == 0


@pytest.fixture
def inconclusive_log(data_dir: Path) -> Path:
    log = data_dir / "analytics" / "hypotheses.ndjson"
    log.parent.mkdir(parents=True, exist_ok=True)
    write_same_arms_log(log)
    return log


def test_tables_fit_and_an_inconclusive_result_is_neutral(inconclusive_log: Path, page):
    for name in PAGES:
        if name != "Overview":
            open_page(page, name)
        if name in WITH_CHARTS:
            page.locator(CHART).nth(1).wait_for()
        settle(page)
        screenshot(page, name, prefix="inconclusive")  # before the checks: a failure can be looked at
        assert page.locator(EXCEPTION).count() == 0, f"exception on {name}"
        if name == "Drill-down":
            page.locator("[data-testid='stDataFrame']").first.wait_for()
            headers = page.locator("[data-testid='stDataFrame'] table thead th").all_inner_texts()
            assert [h.strip() for h in headers[:2]] == ["Question", "Answer"], headers
        else:
            overflow = page.evaluate(TABLE_OVERFLOW_JS)
            assert all(px <= 1 for px in overflow), f"{name}: a table scrolls sideways by {overflow} px"
        if name == "Hypotheses":
            box = page.locator("[data-testid='stAlertContentInfo']", has_text="Inconclusive")
            box.wait_for()
            assert "inconclusive" in box.inner_text().lower()
            assert "between" in box.inner_text()  # the intervals in words
