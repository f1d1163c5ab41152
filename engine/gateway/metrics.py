"""Prometheus exposition for GET /metrics: the runbook's neopr_bandit_* series and the loop's aios_*.

A custom collector computes every value at scrape time from shared sources (the bandit's SQLite
database, the provenance log read incrementally, adaptive_routing_state.json, the golden report),
so any worker process answers a scrape with the same totals, without prometheus_client's
multiprocess directory and its per-PID files to clean up.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    UnknownMetricFamily,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from engine.prompts.bandit import LATENCY_BUCKETS, BanditStore
from engine.provenance import read_events
from engine.providers.base import ERROR_CODES
from engine.routing.state import read_state
from engine.runbook import BUCKETS, ROUTES
from engine.settings import Settings

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST  # text/plain; version=0.0.4
# Answer latency buckets in seconds: the simulator and local 7B models answer in 1-20 s.
ANSWER_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0)

# Every series name /metrics serves (histograms by base name), for tests and the README.
BANDIT_SERIES = (
    "neopr_bandit_selected_total", "neopr_bandit_feedback_total", "neopr_bandit_reward_sum",
    "neopr_bandit_reward_count", "neopr_bandit_epsilon", "neopr_bandit_selection_latency_seconds",
    "neopr_bandit_feedback_latency_seconds",
)
LOOP_SERIES = (
    "aios_answers_total", "aios_answer_errors_total", "aios_answer_latency_seconds",
    "aios_routing_boundary", "aios_golden_pass_ratio", "aios_provenance_unreadable_lines",
    "neopr_bandit_cache_lookups_total",
)


class LogAggregator:
    """Response-event totals of the provenance log, read incrementally from the last byte offset.
    A rotated or truncated log restarts the totals (a counter reset, which Prometheus handles)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.offset = 0
        self.file_id: tuple[int, int] | None = None
        self.answers: Counter[tuple[str, str]] = Counter()
        self.errors: Counter[tuple[str, str]] = Counter()
        self.latency_counts = {route: [0] * (len(ANSWER_LATENCY_BUCKETS) + 1) for route in ROUTES}
        self.latency_sum = {route: 0.0 for route in ROUTES}
        self.unreadable = 0
        self.store_after = (0, 0)  # the shared store's cursor (AIOS_STORE_URL)

    def refresh(self) -> None:
        with self._lock:
            from engine.store.select import log_target

            if (target := log_target(self.path)) is not None:  # every replica's answers, from the store
                from engine.store.postgres import read_event_page

                while True:
                    events, self.store_after, _ = read_event_page(target, self.store_after, {"response"})
                    for event in events:
                        self._add(event)
                    if not events:
                        return
            result = read_events(self.path, self.offset, file_id=self.file_id, event_types={"response"})
            if result.restarted:
                self._reset()
            self.offset, self.file_id = result.next_offset, result.file_id
            self.unreadable += result.skipped
            for event in result.events:
                self._add(event)

    def _add(self, event: dict[str, Any]) -> None:
        bucket, route = event.get("bucket"), event.get("route")
        if bucket not in BUCKETS or route not in ROUTES:
            self.unreadable += 1
            return
        self.answers[(bucket, route)] += 1
        code = event.get("error_code")
        if code:
            self.errors[(route, code if code in ERROR_CODES else "OTHER")] += 1
        latency = event.get("latency_ms")
        if isinstance(latency, (int, float)) and not isinstance(latency, bool) and latency >= 0:
            seconds = float(latency) / 1000.0
            index = next((i for i, bound in enumerate(ANSWER_LATENCY_BUCKETS) if seconds <= bound),
                         len(ANSWER_LATENCY_BUCKETS))
            self.latency_counts[route][index] += 1
            self.latency_sum[route] += seconds


def load_boundaries(path: Path) -> dict[str, float]:
    """Current boundary per bucket from adaptive_routing_state.json ({} when absent or unusable;
    the typed reader logs why)."""
    state = read_state(path)
    return {} if state is None else {name: state.buckets[name].boundary for name in BUCKETS}


def compute_pass_ratio(report: Any) -> float | None:
    """Pass ratio in [0, 1] from a golden report: a pass_rate field (a ratio, or a percentage when
    > 1), passed/total counts (top level or under summary), or a list of results with `passed`."""
    if not isinstance(report, dict):
        return None
    summary = report.get("summary")
    for holder in (report, summary if isinstance(summary, dict) else {}):
        rate = holder.get("pass_rate")
        if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate >= 0:
            return float(rate) / 100.0 if rate > 1 else float(rate)
        passed, total = holder.get("passed"), holder.get("total")
        if isinstance(passed, int) and isinstance(total, int) and total > 0:
            return passed / total
    for key in ("results", "cases"):
        items = report.get(key)
        if isinstance(items, list) and items:
            flags = [item.get("passed") for item in items if isinstance(item, dict)]
            if flags:
                return sum(1 for f in flags if f is True) / len(flags)
    return None


def load_pass_ratio(path: Path) -> float | None:
    try:
        return compute_pass_ratio(json.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except ValueError:
        log.warning("%s: not valid JSON; golden pass ratio not served", path)
        return None


def _cumulative(counts: list[int], bounds: tuple[float, ...]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    running = 0
    for bound, count in zip(bounds, counts):
        running += count
        out.append((repr(float(bound)), running))
    running += counts[len(bounds)]
    out.append(("+Inf", running))
    return out


class AiosCollector:
    """Computes every family at scrape time; register it in a per-app CollectorRegistry."""

    def __init__(self, settings: Settings, store: BanditStore, aggregator: LogAggregator | None = None) -> None:
        self.settings = settings
        self.store = store
        self.aggregator = aggregator or LogAggregator(settings.paths.log)

    def collect(self) -> Iterator[Metric]:
        yield from self._bandit()
        yield from self._loop()

    def _bandit(self) -> Iterator[Metric]:
        snap = self.store.load_snapshot()
        selected = CounterMetricFamily("neopr_bandit_selected", "Recipe selections by the bandit",
                                       labels=["assistant", "category", "recipe_id", "policy", "explored"])
        for assistant, category, recipe_id, policy, explored, count in sorted(snap.selections):
            selected.add_metric([assistant, category, recipe_id, policy, "true" if explored else "false"], count)
        yield selected
        labels = ["assistant", "category", "recipe_id"]
        feedback = CounterMetricFamily("neopr_bandit_feedback", "Feedback requests received per arm", labels=labels)
        # reward_sum/_count are the arm's current statistics (a backfill may rebuild them), so they
        # are untyped: promtool reserves the _sum/_count suffixes for histograms and summaries.
        reward_sum = UnknownMetricFamily("neopr_bandit_reward_sum", "Sum of rewards in the arm's statistics",
                                         labels=labels)
        reward_count = UnknownMetricFamily("neopr_bandit_reward_count", "Rewards in the arm's statistics",
                                           labels=labels)
        for assistant, category, recipe_id, total, count, fb in sorted(snap.arms):
            key = [assistant, category, recipe_id]
            feedback.add_metric(key, fb)
            reward_sum.add_metric(key, total)
            reward_count.add_metric(key, count)
        yield feedback
        yield reward_sum
        yield reward_count
        yield GaugeMetricFamily("neopr_bandit_epsilon", "Current exploration rate epsilon",
                                value=snap.config.epsilon)
        for name, what in (("selection", "/choose selection"), ("feedback", "/feedback update")):
            counts, total, _ = snap.histograms[name]
            yield HistogramMetricFamily(f"neopr_bandit_{name}_latency_seconds", f"Latency of a {what}",
                                        buckets=_cumulative(counts, LATENCY_BUCKETS), sum_value=total)
        lookups = CounterMetricFamily("neopr_bandit_cache_lookups", "Arm-statistics lookups by TTL cache result",
                                      labels=["result"])
        for result in ("hit", "miss"):
            lookups.add_metric([result], snap.counters.get(f"cache_{result}", 0))
        yield lookups

    def _loop(self) -> Iterator[Metric]:
        agg = self.aggregator
        agg.refresh()
        answers = CounterMetricFamily("aios_answers", "Answers logged by the loop, by A/B bucket and route",
                                      labels=["bucket", "route"])
        for bucket in BUCKETS:
            for route in ROUTES:
                answers.add_metric([bucket, route], agg.answers[(bucket, route)])
        yield answers
        errors = CounterMetricFamily("aios_answer_errors", "Answers without a model answer, by route and code",
                                     labels=["route", "error_code"])
        for (route, code), count in sorted(agg.errors.items()):
            errors.add_metric([route, code], count)
        yield errors
        latency = HistogramMetricFamily("aios_answer_latency_seconds", "Answer latency by route",
                                        labels=["route"])
        for route in ROUTES:
            latency.add_metric([route], _cumulative(agg.latency_counts[route], ANSWER_LATENCY_BUCKETS),
                               sum_value=agg.latency_sum[route])
        yield latency
        boundary = GaugeMetricFamily("aios_routing_boundary", "Current routing boundary per A/B bucket",
                                     labels=["bucket"])
        for bucket, value in sorted(load_boundaries(self.settings.paths.adaptive_state).items()):
            boundary.add_metric([bucket], value)
        yield boundary
        ratio = load_pass_ratio(self.settings.paths.last_report)
        pass_ratio = GaugeMetricFamily("aios_golden_pass_ratio", "Pass ratio of the last golden compare (0-1)")
        if ratio is not None:
            pass_ratio.add_metric([], ratio)
        yield pass_ratio
        yield GaugeMetricFamily("aios_provenance_unreadable_lines",
                                "Log lines skipped by the metrics reader since its last restart",
                                value=agg.unreadable)


def build_registry(collector: AiosCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def render_metrics(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of a registry."""
    return generate_latest(registry)
