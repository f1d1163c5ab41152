"""A fake answer function for golden runner tests: AskResult-shaped answers without the loop."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class FakeResult:
    answer: str
    route: str = "main"
    source: str = "fake-7b"
    provider: str = "fake"
    simulated: bool = False
    latency_ms: float = 1000.0
    quality: float = 0.8
    complexity: float = 0.7
    boundary: float = 0.5
    quality_components: dict = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    message_id: str | None = None


class FakeAnswers:
    """Answers each case with `answers[case.id]` (default: a sentence built from the question);
    counts calls and the most calls ever in flight at once."""

    def __init__(self, answers: dict[str, str] | None = None, *, quality: float = 0.8, delay_s: float = 0.0,
                 unanswered: set[str] = frozenset(), raise_on: str | None = None,
                 exc: BaseException | None = None) -> None:
        self.answers = answers or {}
        self.quality = quality
        self.delay_s = delay_s
        self.unanswered = set(unanswered)
        self.raise_on, self.exc = raise_on, exc
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    def __call__(self, case, run_id, session_id):
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            if case.id == self.raise_on:
                raise self.exc
            route = "main" if len(case.question) > 40 else "embedder"
            if case.id in self.unanswered:
                return FakeResult("", route=route, source="unknown", quality=0.0, latency_ms=5.0,
                                  error_code="PROVIDER_UNREACHABLE")
            text = self.answers.get(case.id, f"The answer to {case.question} is explained here in detail.")
            return FakeResult(text, route=route, quality=self.quality)
        finally:
            with self.lock:
                self.in_flight -= 1
