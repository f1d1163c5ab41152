"""Fixture logs for the dashboard tests, written through the engine's own EventSink."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from engine.provenance import AdaptationEvent, EventSink, HypothesisEvent, ResponseEvent

START = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
TRAITS = ("general", "technical", "analytical")


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def response(i: int, rng: random.Random, start: datetime = START) -> ResponseEvent:
    bucket = "control" if i % 2 == 0 else "treatment"
    boundary = 0.5 if bucket == "control" else round(0.5 - min(i, 100) * 0.0005, 4)
    complexity = round(rng.random(), 4)
    route = "main" if complexity >= boundary else "embedder"
    failed = i % 17 == 5
    quality = 0.0 if failed else round(min(1.0, max(0.0, rng.gauss(0.8 if route == "main" else 0.65, 0.15))), 4)
    return ResponseEvent(
        ts=iso(start + timedelta(seconds=30 * i)), message_id=f"m{i:05d}", session_id=f"s{i // 3}",
        question=f"Question number {i} about {TRAITS[i % 3]} topic {'kettle' if i % 10 == 3 else 'river'}",
        trait=TRAITS[i % 3], answer=f"Answer {i}: a reply mentioning {'volcano' if i % 11 == 4 else 'lake'}.",
        bucket=bucket, complexity=complexity, boundary=boundary, route=route,
        source="unknown" if failed else ("openhermes-2.5-mistral-7b" if route == "main" else "llama-3.2-1b"),
        provider="sim", simulated=True,
        latency_ms=round(rng.uniform(9000, 16000) if route == "main" else rng.uniform(1500, 4000), 1),
        quality=quality, error_code="PROVIDER_TIMEOUT" if failed else None, origin="simulate")


def write_fixture_log(path: Path, n: int = 120, seed: int = 3, first: int = 0,
                      start: datetime = START) -> Path:
    """Responses number `first`.. `first + n - 1`, 30 s apart, each with a hypothesis event, and
    an adaptation every 25 responses."""
    rng = random.Random(seed * 1000 + first)
    with EventSink(path) as sink:
        for i in range(first, first + n):
            event = response(i, rng, start)
            batch = [event, HypothesisEvent(ts=event.ts, message_id=event.message_id, hypothesis_id="answered",
                                            passed=event.error_code is None, value=event.quality,
                                            threshold=0.5, bucket=event.bucket, route=event.route)]
            if i and i % 25 == 0:
                batch.append(AdaptationEvent(ts=event.ts, bucket="treatment", old_boundary=event.boundary + 0.0125,
                                             new_boundary=event.boundary, quality_delta=0.07,
                                             samples={"main": i // 2, "embedder": i // 2},
                                             reason=f"quality delta 0.07 > 0.05 after {i} samples"))
            sink.append(batch)
    return path
