"""The dashboard in a real browser over a large log: per page, the time until its content is
complete on a first visit (a new browser session) and on a warm visit (back to it through the
sidebar in that session), median of --repeat, next to the engine's own compute time for that page's figures.
Also the first load of the app on a freshly started server (the README's first-load figure).

    .venv/bin/python bench/bench_dashboard_browser.py                  # 1,000,000 events (940 MB), about 5 min
    .venv/bin/python bench/bench_dashboard_browser.py --events 100000 --repeat 3

"Content complete": the page's title is shown, Streamlit's running indicator is gone and the
page's charts are drawn. Needs Debian's chromium (/usr/bin/chromium) and Python playwright. The
log is generated once per run (bench_dashboard.py's generator, about 20 s for 1M events) into a
temporary folder that is removed at the end. Aim: every warm visit within 3 s on this 2-core
machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_dashboard import generate_log  # noqa: E402

from tests.support.serve import start_dashboard, stop  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# page title -> (url path, charts the page draws when it has data)
PAGES: dict[str, tuple[str, int]] = {
    "Overview": ("", 2), "Hypotheses": ("hypotheses", 3), "Routing": ("routing", 4),
    "Drill-down": ("drilldown", 0), "Goldens": ("goldens", 0), "Settings": ("settings", 0),
}
TIMEOUT_MS = 180_000


def engine_compute(log: Path) -> dict[str, float]:
    """Seconds the engine takes for each page's figures over a fresh store (the read included in
    Overview's, since a page's first visit pays it)."""
    from engine import analysis
    from engine.analysis.replay import compute_replay_view_logged, load_logged
    from engine.settings import get_settings

    out: dict[str, float] = {}
    started = time.perf_counter()
    store = analysis.load_event_store(log)
    read = time.perf_counter() - started
    f = analysis.Filters()

    def replay() -> dict:
        # The replay curves read the whole log (question text included) once per log version.
        return compute_replay_view_logged(load_logged(log), analysis.compute_current_boundaries(store, f))

    calls = {
        "Overview": lambda: (analysis.compute_headline(store, f), analysis.compute_correctness(store, f),
                             analysis.compute_routing_sources(store, f), analysis.compute_bucket_split(store, f),
                             analysis.compute_agreement_by_route_band(store, f),
                             analysis.compute_accuracy_by_bucket_route(store, f)),
        "Hypotheses": lambda: (analysis.compute_pass_rate_over_time(store, f),
                               analysis.compute_quality_by_bucket_route(store, f),
                               analysis.compute_quality_by_method(store, f),
                               analysis.compute_hypothesis_pass_rates(store, f),
                               analysis.compute_hypothesis_trends(store, f),
                               analysis.load_ab_report(get_settings(), store=store)),
        "Routing": lambda: (analysis.compute_boundary_trend(store, f),
                            analysis.compute_complexity_quality(store, f),
                            analysis.compute_routing_split_over_time(store, f), analysis.compute_adaptations(store, f),
                            replay()),
        # The first page of answers, and the events of the row shown selected (a scan of the whole log).
        "Drill-down": lambda: analysis.load_message_events(
            log, str(analysis.load_event_page(log, f).rows["message_id"].iloc[0])),
        "Goldens": lambda: None,
        "Settings": lambda: analysis.compute_event_counts(store),
    }
    for name, call in calls.items():
        started = time.perf_counter()
        call()
        out[name] = time.perf_counter() - started
    out["Overview"] += read
    store.close()
    return out


def wait_complete(page: Any, title: str, charts: int) -> None:
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(200)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=TIMEOUT_MS)
    if charts:
        page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").nth(charts - 1).wait_for(timeout=TIMEOUT_MS)


def visit(page: Any, url: str, title: str, charts: int) -> float:
    started = time.perf_counter()
    page.goto(url)
    wait_complete(page, title, charts)
    return time.perf_counter() - started


def navigate(page: Any, title: str, charts: int) -> float:
    """Open a page through the sidebar (the same browser session); seconds until it is complete."""
    started = time.perf_counter()
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
    wait_complete(page, title, charts)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench_dashboard_browser_") as tmp:
        data_dir = Path(tmp)
        log = data_dir / "analytics" / "hypotheses.ndjson"
        started = time.perf_counter()
        generate_log(log, args.events)  # once per run, removed with the folder
        print(f"generated {args.events:,} events in {time.perf_counter() - started:.0f} s", flush=True)
        size_mb = log.stat().st_size / 1e6
        print(f"log: {args.events:,} events, {size_mb:,.0f} MB", flush=True)
        os.environ["AIOS_DATA_DIR"] = str(data_dir)  # the engine side reads this data dir too
        compute = engine_compute(log)
        rows: dict[str, dict[str, list[float]]] = {name: {"first": [], "warm": []} for name in PAGES}
        cold: list[float] = []
        for _ in range(args.repeat):
            url, server = start_dashboard({"AIOS_DATA_DIR": str(data_dir), "AIOS_PROVIDER": "sim"}, timeout_s=120)
            base = url + "/"
            try:
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                    try:
                        # The first load of a freshly started server: imports, the log read, every cache cold.
                        page = browser.new_page(viewport={"width": 1280, "height": 1400})
                        cold.append(visit(page, base, "Overview", PAGES["Overview"][1]))
                        page.close()
                        for name, (path, charts) in PAGES.items():
                            page = browser.new_page(viewport={"width": 1280, "height": 1400})  # a new session
                            rows[name]["first"].append(visit(page, base + path, name, charts))
                            # Warm: away to another page and back through the sidebar, as a user does.
                            other = "Settings" if name != "Settings" else "Goldens"
                            navigate(page, other, PAGES[other][1])
                            rows[name]["warm"].append(navigate(page, name, charts))
                            page.close()
                    finally:
                        browser.close()
            finally:
                stop(server)
        print(f"\nfirst load on a fresh server (Overview, new session): median {statistics.median(cold):.1f} s "
              f"({', '.join(f'{t:.1f}' for t in cold)})")
        print(f"\n{'page':<12} {'first visit s':>14} {'warm visit s':>13} {'engine s':>9}")
        for name in PAGES:
            first, warm = statistics.median(rows[name]["first"]), statistics.median(rows[name]["warm"])
            print(f"{name:<12} {first:>14.2f} {warm:>13.2f} {compute[name]:>9.2f}")
        print(f"\n(median of {args.repeat}; first visit = a new browser session on a running server, warm = back "
              "to the page through the sidebar in that session; engine = the page's figures computed directly, "
              "Overview including the log read)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
