"""The dashboard in a real browser: Debian's chromium, driven by Playwright, against
`streamlit run dashboard/app.py` on a free port with a fresh data dir and the simulator.

Opens all five pages, generates demo traffic, asks a question, checks that no Streamlit exception
box appears and that Plotly charts render, and saves a screenshot per page to test-artifacts/.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from engine.provenance import EventSink, read_events
from engine.settings import REPO_ROOT
from tests.dashboard.fixture_log import response

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = ["Overview", "Hypotheses", "Routing", "Drill-down", "Settings"]
WITH_CHARTS = {"Overview", "Hypotheses", "Routing"}
TIMEOUT_MS = 60_000
CHART = "[data-testid='stPlotlyChart'] .js-plotly-plot"
EXCEPTION = "[data-testid='stException']"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    port = free_port()
    env = dict(os.environ, AIOS_DATA_DIR=str(data_dir), AIOS_PROVIDER="sim", AIOS_SIM_LATENCY_SCALE="0")
    log = open(tmp_path / "streamlit.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("streamlit did not start:\n" + (tmp_path / "streamlit.log").read_text())
            time.sleep(0.2)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def open_page(page, name: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a", has_text=name).first.click()
    page.get_by_role("heading", name=name, level=1).wait_for(timeout=TIMEOUT_MS)


def settle(page) -> None:
    """Wait until Streamlit has finished the current run (its status widget goes away)."""
    page.wait_for_timeout(300)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=TIMEOUT_MS)


def test_dashboard_in_chromium(chromium_path: str, dashboard_url: str, data_dir: Path):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(dashboard_url)
            page.get_by_role("heading", name="Overview", level=1).wait_for()
            # A fresh data dir: the page says what to do and offers demo traffic.
            page.get_by_text("No provenance log yet").wait_for()
            page.get_by_text("SIMULATED").first.wait_for()
            main = page.locator("[data-testid='stMain']")
            # Enough traffic for the treatment boundary to adapt, so Routing has something to show.
            main.get_by_label("Demo questions").fill("1000")
            main.get_by_label("Demo questions").press("Enter")
            settle(page)
            main.get_by_role("button", name="Generate demo traffic").click()
            page.get_by_text("Generated 1000 demo questions").wait_for()
            page.locator(CHART).first.wait_for()
            assert (data_dir / "analytics" / "hypotheses.ndjson").stat().st_size > 0

            page.get_by_role("textbox", name="Question", exact=True).fill("How do I reverse a linked list in Python?")
            page.get_by_role("button", name="Ask", exact=True).click()
            page.locator("[data-testid='stMetric']", has_text="Route").wait_for()
            settle(page)

            for name in PAGES:
                if name != "Overview":
                    open_page(page, name)
                if name in WITH_CHARTS:
                    page.locator(CHART).nth(1).wait_for()  # at least two charts drawn
                settle(page)
                assert page.locator(EXCEPTION).count() == 0, f"exception on {name}"
                # The main area scrolls inside its own container: show each page from its top.
                page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollTo(0, 0)")
                page.screenshot(path=str(ARTIFACTS / f"dashboard_{name.lower()}.png"), full_page=True)

            # Live monitoring: with auto-refresh on, an answer appended by another process shows
            # up on the open Overview within one 10 s tick, without any click.
            open_page(page, "Overview")
            page.get_by_text("Auto-refresh (every 10 s)").click()
            settle(page)
            log = data_dir / "analytics" / "hypotheses.ndjson"
            answers = sum(1 for e in read_events(log).events if e["event_type"] == "response")
            events_card = page.locator("[data-testid='stMetric']", has_text="Events").first
            expect(events_card).to_contain_text(f"{answers:,}")
            with EventSink(log) as sink:
                sink.append(response(5000, random.Random(5), datetime.now(timezone.utc)))
            expect(events_card).to_contain_text(f"{answers + 1:,}", timeout=25_000)
            assert page.locator(EXCEPTION).count() == 0
        finally:
            browser.close()
