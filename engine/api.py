"""The engine's public entry points: `ask`, `ask_stream`, `simulate`, `reset_adaptive_state`, `get_engine`.

Other parts (CLI, goldens, gateway, dashboard) call these; see docs/CONTRACTS.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from engine.loop.engine import AskResult, AskStream, Engine, SimulateSummary, run_simulation
from engine.settings import Settings, get_settings

__all__ = ["AskResult", "AskStream", "Engine", "SimulateSummary", "ask", "ask_stream", "simulate",
           "reset_adaptive_state", "get_engine", "clear_engines"]

MAX_ENGINES = 8
_ENGINES: OrderedDict[int, tuple[Settings, Engine]] = OrderedDict()
_ENGINES_LOCK = threading.Lock()


def get_engine(settings: Settings | None = None) -> Engine:
    """The engine for a settings object, built once and cached (a few, least recently used first out)."""
    settings = settings or get_settings()
    key = id(settings)
    with _ENGINES_LOCK:
        entry = _ENGINES.get(key)
        if entry is not None and entry[0] is settings:
            _ENGINES.move_to_end(key)
            return entry[1]
        engine = Engine(settings)
        _ENGINES[key] = (settings, engine)
        while len(_ENGINES) > MAX_ENGINES:
            _, (_, old) = _ENGINES.popitem(last=False)
            old.close()
        return engine


def clear_engines() -> None:
    """Close and forget every cached engine (tests, settings reloads)."""
    with _ENGINES_LOCK:
        while _ENGINES:
            _, (_, engine) = _ENGINES.popitem()
            engine.close()


def ask(question: str, trait: str = "general", session_id: str | None = None, *, origin: str = "ask",
        run_id: str | None = None, bucket: str | None = None, route: str | None = None,
        system_prompt: str | None = None, recipe_id: str | None = None, record: bool = True,
        settings: Settings | None = None, history: list[dict[str, str]] | None = None) -> AskResult:
    """Run one question through the loop and return what happened.

    Provider failures never raise: they come back with `error_code`, source "unknown", quality 0.
    Raises InputError for an empty question or an unknown trait, route, bucket or origin, and for
    a `history` item whose role is not user/assistant or whose content is not a string.
    `record=False` writes no event and leaves the adaptive state alone (goldens).
    `history`: the conversation's earlier turns, oldest first, without the system prompt and the
    current question; the model gets system prompt, history, question. Routing and quality use the
    question alone; the event records `history_turns` (a count), never the history's text.
    """
    return get_engine(settings).ask(question, trait, session_id, origin=origin, run_id=run_id,
                                    bucket=bucket, route=route, system_prompt=system_prompt,
                                    recipe_id=recipe_id, record=record, history=history)


def ask_stream(question: str, trait: str = "general", session_id: str | None = None, *,
               origin: str = "ask", run_id: str | None = None, bucket: str | None = None,
               route: str | None = None, system_prompt: str | None = None, recipe_id: str | None = None,
               record: bool = True, settings: Settings | None = None,
               history: list[dict[str, str]] | None = None) -> AskStream:
    """`ask` with the answer streamed: same arguments, same errors, same events.

    Returns at once with `route`, `bucket`, `boundary`, `message_id` and `session_id` decided;
    iterating it yields text deltas as the model writes; `.result` is the AskResult afterwards.
    Quality, events and the adaptive update happen once, when the stream ends. Call `.close()` to
    stop early: the partial answer is logged with error_code CLIENT_DISCONNECTED, and not learnt from.
    """
    return get_engine(settings).ask_stream(question, trait, session_id, origin=origin, run_id=run_id,
                                           bucket=bucket, route=route, system_prompt=system_prompt,
                                           recipe_id=recipe_id, record=record, history=history)


def simulate(n: int, *, seed: int = 0, progress: Callable[[AskResult], None] | None = None,
             settings: Settings | None = None) -> SimulateSummary:
    """Send `n` generated demo questions through the loop on the simulator; `progress` gets each result."""
    return run_simulation(get_engine(settings), n, seed=seed, progress=progress)


def reset_adaptive_state(settings: Settings | None = None) -> Path | None:
    """Delete the adaptive state (a fresh experiment starts); returns the deleted path or None."""
    settings = settings or get_settings()
    return get_engine(settings).reset_state()
