"""The stress test's measurements: how often harmless rewordings (case, whitespace, punctuation, a
typo, "please"/"thanks") flip a router's decision, and a bounded load through any call (the in-process
loop or a gateway on loopback) with its throughput, p50/p99 and error codes. The run that puts them
together on the loop is engine/loop/stress.py.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from engine.errors import InputError
from engine.routing.learned import load_router
from engine.routing.routers import ROUTERS, Router, get_router

# One question through the system under load: (question, trait) -> its error code, None when answered.
Call = Callable[[str, str], str | None]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_N = 10_000
MAX_CONCURRENCY = 64
MAX_SECONDS = 600
BASELINE_ROUTERS = ("complexity", "length")


def _typo(text: str, rng: random.Random) -> str:
    """Swap two adjacent letters inside one longer word (a typical typing slip)."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


PERTURBATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "lowercase": lambda q, _: q.lower(),
    "uppercase": lambda q, _: q.upper(),
    "whitespace": lambda q, _: "  " + "  ".join(q.split(" ")) + " \n",
    "punctuation": lambda q, _: q.rstrip("?.!") if q.rstrip("?.!") != q else q + "?",
    "typo": _typo,
    "please": lambda q, _: "Please, " + q[0].lower() + q[1:] if q else q,
    "thanks": lambda q, _: q + " Thanks!",
}


def compute_stability(routers: list[Router], questions: list[tuple[str, str]], boundary: float,
                      seed: int = 0) -> dict[str, dict[str, float]]:
    """{router: {perturbation: share of questions whose route flips}} at `boundary`."""
    out: dict[str, dict[str, float]] = {}
    for router in routers:
        rates = {}
        for name, perturb in PERTURBATIONS.items():
            rng = random.Random(f"{seed}|{name}")
            flips = 0
            for question, trait in questions:
                before = router.score(question, trait) >= boundary
                after = router.score(perturb(question, rng), trait) >= boundary
                flips += before != after
            rates[name] = round(flips / len(questions), 4) if questions else 0.0
        rates["any"] = round(max(rates.values()) if rates else 0.0, 4)
        out[router.name if not router.version else f"{router.name} {router.version}"] = rates
    return out


@dataclass
class LoadResult:
    target: str
    requests: int
    completed: int
    concurrency: int
    elapsed_s: float
    throughput_rps: float
    p50_ms: float | None
    p99_ms: float | None
    errors: dict[str, int] = field(default_factory=dict)
    stopped_early: bool = False


def compute_percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))], 2)


def check_loopback(url: str) -> str:
    """The URL when its host is loopback; InputError otherwise (a stress test never leaves the machine)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or (parts.hostname or "") not in LOOPBACK_HOSTS:
        raise InputError(f"option --url: stress tests only target a gateway on loopback "
                         f"(http://127.0.0.1:PORT), got {url!r}")
    return url.rstrip("/")


def gateway_call(url: str, timeout: float) -> Call:
    import requests

    from engine.providers.egress import policy_session

    # Loopback only (check_loopback), and like every request the engine makes: no redirect is followed
    # and no proxy from the environment is used.
    session = policy_session()

    def call(question: str, trait: str) -> str | None:
        try:
            response = session.post(f"{url}/v1/chat/completions", timeout=timeout,
                                    json={"model": "router", "messages": [{"role": "user", "content": question}]})
        except requests.RequestException as exc:
            return type(exc).__name__
        if response.status_code != 200:
            try:
                return str(response.json().get("error", {}).get("code") or response.status_code)
            except ValueError:
                return str(response.status_code)
        return None

    return call


def compute_load(call: Call, questions: list[tuple[str, str]], concurrency: int,
                 max_seconds: float, target: str) -> LoadResult:
    """Send the questions through `call` with `concurrency` workers until done or `max_seconds` pass."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    deadline = time.perf_counter() + max_seconds
    skipped = 0

    def one(item: tuple[str, str]) -> None:
        nonlocal skipped
        if time.perf_counter() > deadline:
            skipped += 1
            return
        started = time.perf_counter()
        try:
            code = call(*item)
        except Exception as exc:  # a stress test reports failures; it does not stop on them
            code = type(exc).__name__
        latencies.append((time.perf_counter() - started) * 1000)
        if code:
            errors[code] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, questions))
    elapsed = time.perf_counter() - started
    return LoadResult(target=target, requests=len(questions), completed=len(latencies), concurrency=concurrency,
                      elapsed_s=round(elapsed, 3),
                      throughput_rps=round(len(latencies) / elapsed, 2) if elapsed > 0 else 0.0,
                      p50_ms=compute_percentile(latencies, 50), p99_ms=compute_percentile(latencies, 99),
                      errors=dict(errors), stopped_early=skipped > 0)


def check_stress_options(n: int, concurrency: int, max_seconds: float, router: str | None) -> None:
    """InputError naming the option when one is out of range (the CLI's flags and the HTTP fields alike)."""
    if not 1 <= n <= MAX_N:
        raise InputError(f"option --n: must be in [1, {MAX_N}], got {n}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InputError(f"option --concurrency: must be in [1, {MAX_CONCURRENCY}], got {concurrency}")
    if not 0 < max_seconds <= MAX_SECONDS:
        raise InputError(f"option --max-seconds: must be in (0, {MAX_SECONDS}], got {max_seconds}")
    if router is not None and router not in ROUTERS:
        raise InputError(f"option --router: unknown router {router!r}; registered: {', '.join(sorted(ROUTERS))}")


def load_stress_routers(router: str, model: str | Path | None) -> list[Router]:
    """The two baselines (complexity, length) and `router` (with its model) when it is not one of them."""
    routers = [get_router(name) for name in BASELINE_ROUTERS]
    chosen = load_router(router, model)
    if all((chosen.name, chosen.version) != (r.name, r.version) for r in routers):
        routers.append(chosen)
    return routers
