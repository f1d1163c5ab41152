"""The stress test as one run: route flips per router under harmless rewordings, then a bounded load
through the loop, in-process or against a gateway on loopback. What `python -m engine stress-test` and
POST /stress-test both return. The measurements themselves are engine/analysis/stress.py.

Bounded in count (n) and time (max_seconds): it stops by itself. In-process answers are not recorded
(the log and the adaptive state stay as they were); a gateway records what it serves.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from engine import runbook
from engine.analysis.stress import (
    PERTURBATIONS,
    Call,
    check_loopback,
    check_stress_options,
    compute_load,
    compute_stability,
    gateway_call,
    load_stress_routers,
)
from engine.loop.records import AskRequest
from engine.providers.sim_world import generate_questions
from engine.settings import Settings


def in_process_call(settings: Settings) -> Call:
    """One question through this process's engine for `settings`, unrecorded; its error code or None."""
    from engine.api import get_engine  # the engine the gateway and the CLI share, built once per settings

    engine = get_engine(settings)

    def call(question: str, trait: str) -> str | None:
        # record=False: a stress run must not move the adaptive state or fill the log.
        result = engine.ask(AskRequest(question, trait, origin="ask", record=False))
        return result.error_code

    return call


def run_stress_test(settings: Settings, *, n: int = 200, concurrency: int = 4, router: str | None = None,
                    model: str | Path | None = None, url: str | None = None, max_seconds: float = 60.0,
                    seed: int = 0, load: bool = True) -> dict[str, Any]:
    """Stability per router (complexity, length, plus the one named or AIOS_ROUTER) and the bounded
    load; the JSON the CLI's --json and POST /stress-test return.

    Raises InputError on out-of-range options, an unknown router or a non-loopback URL.
    """
    check_stress_options(n, concurrency, max_seconds, router)
    target = check_loopback(url) if url else "in-process"
    questions = [(q.question, q.trait) for q in generate_questions(n, seed)]
    routers = load_stress_routers(router or settings.aios_router, model or settings.aios_router_model)
    stability = compute_stability(routers, questions, runbook.CONTROL_BOUNDARY, seed)
    result: dict[str, Any] = {"n": n, "boundary": runbook.CONTROL_BOUNDARY, "perturbations": list(PERTURBATIONS),
                              "stability": stability, "load": None}
    if load:
        call = gateway_call(target, timeout=max_seconds) if url else in_process_call(settings)
        result["load"] = asdict(compute_load(call, questions, concurrency, max_seconds, target))
    return result
