"""`python -m engine stress-test [--n N] [--concurrency C] [--router NAME] [--model PATH] [--url URL] [--json]`:
(a) routing stability: how often a change that should not alter the need for the big model (case,
whitespace, punctuation, a typo, "please"/"thanks") flips the route, per router; (b) a bounded load
through the loop, in-process or against a gateway on loopback: throughput, p50/p99 and error codes.

Bounded in count (--n) and time (--max-seconds): it stops by itself. In-process answers are not
recorded (the log and the adaptive state stay as they were); a gateway records what it serves.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from engine import runbook
from engine.errors import InputError
from engine.loop.records import AskRequest
from engine.providers.sim_world import generate_questions
from engine.routing.learned import load_router
from engine.routing.routers import ROUTERS, Router, get_router
from engine.settings import Settings, get_settings

NAME = "stress-test"
HELP = "route-flip rate under harmless perturbations per router, and a bounded load through the loop"

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_N = 10_000
MAX_CONCURRENCY = 64


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


def _percentile(values: list[float], q: float) -> float | None:
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


def _in_process_call(settings: Settings) -> Callable[[str, str], str | None]:
    from engine.api import get_engine

    engine = get_engine(settings)

    def call(question: str, trait: str) -> str | None:
        # record=False: a stress run must not move the adaptive state or fill the log.
        result = engine.ask(AskRequest(question, trait, origin="ask", record=False))
        return result.error_code

    return call


def _http_call(url: str, timeout: float) -> Callable[[str, str], str | None]:
    import requests

    from engine.providers.egress import policy_session

    # Loopback only (checked above), and like every request the engine makes: no redirect is followed
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


def compute_load(call: Callable[[str, str], str | None], questions: list[tuple[str, str]], concurrency: int,
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
                      p50_ms=_percentile(latencies, 50), p99_ms=_percentile(latencies, 99),
                      errors=dict(errors), stopped_early=skipped > 0)


def compute_stress_test(settings: Settings, *, n: int = 200, concurrency: int = 4, router: str | None = None,
                        model: str | Path | None = None, url: str | None = None, max_seconds: float = 60.0,
                        seed: int = 0, load: bool = True) -> dict[str, Any]:
    """Stability per router (the default three, plus the one named) and the bounded load; the JSON
    the CLI's --json and POST /stress-test return. InputError on out-of-range options or a
    non-loopback URL."""
    if not 1 <= n <= MAX_N:
        raise InputError(f"option --n: must be in [1, {MAX_N}], got {n}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InputError(f"option --concurrency: must be in [1, {MAX_CONCURRENCY}], got {concurrency}")
    if not 0 < max_seconds <= 600:
        raise InputError(f"option --max-seconds: must be in (0, 600], got {max_seconds}")
    if router is not None and router not in ROUTERS:
        raise InputError(f"option --router: unknown router {router!r}; registered: {', '.join(sorted(ROUTERS))}")
    target = check_loopback(url) if url else "in-process"
    questions = [(q.question, q.trait) for q in generate_questions(n, seed)]
    routers = [get_router(name) for name in ("complexity", "length")]
    chosen = load_router(router or settings.aios_router, model or settings.aios_router_model)
    if all((chosen.name, chosen.version) != (r.name, r.version) for r in routers):
        routers.append(chosen)
    stability = compute_stability(routers, questions, runbook.CONTROL_BOUNDARY, seed)
    result: dict[str, Any] = {"n": n, "boundary": runbook.CONTROL_BOUNDARY, "perturbations": list(PERTURBATIONS),
                              "stability": stability, "load": None}
    if load:
        call = _http_call(target, timeout=max_seconds) if url else _in_process_call(settings)
        result["load"] = asdict(compute_load(call, questions, concurrency, max_seconds, target))
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=200, help="questions to perturb and to send (default 200)")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel requests of the load (default 4)")
    parser.add_argument("--router", choices=sorted(ROUTERS), default=None,
                        help="router to test beside complexity and length (default: AIOS_ROUTER)")
    parser.add_argument("--model", type=Path, default=None, help="the learned router's model")
    parser.add_argument("--url", default=None, help="a gateway on loopback to load instead of the in-process loop")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop the load after this long (default 60)")
    parser.add_argument("--no-load", action="store_true", help="routing stability only")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def render(result: dict[str, Any]) -> str:
    names = result["perturbations"] + ["any"]
    lines = [f"route flips at boundary {result['boundary']} over {result['n']} questions (share that changed route)",
             f"{'router':<36} " + " ".join(f"{n:>11}" for n in names)]
    for router, rates in result["stability"].items():
        lines.append(f"{router:<36} " + " ".join(f"{100 * rates[n]:>10.1f}%" for n in names))
    load = result["load"]
    if load:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(load["errors"].items())) or "none"
        p50 = "-" if load["p50_ms"] is None else f"{load['p50_ms']:.1f}"
        p99 = "-" if load["p99_ms"] is None else f"{load['p99_ms']:.1f}"
        lines.append(f"load ({load['target']}): {load['completed']}/{load['requests']} requests at concurrency "
                     f"{load['concurrency']} in {load['elapsed_s']:.1f} s, {load['throughput_rps']:.1f} req/s, "
                     f"p50 {p50} ms, p99 {p99} ms; errors: {errors}"
                     + ("; stopped at the time limit" if load["stopped_early"] else ""))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    result = compute_stress_test(get_settings(), n=args.n, concurrency=args.concurrency, router=args.router,
                                 model=args.model, url=args.url, max_seconds=args.max_seconds, load=not args.no_load)
    print(json.dumps(result) if args.json else render(result))
    return 0
