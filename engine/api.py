"""The engine's write facade: `ask`, `ask_stream`, `simulate`, `reset_adaptive_state`, `get_engine`.

Every caller (CLI, goldens, gateway, dashboard) states a question as one `AskRequest`, either
directly or through these functions' keyword options; see docs/CONTRACTS.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from engine.gateway.probe import GatewayHealth, probe_gateway
from engine.loop.engine import AskStream, Engine
from engine.loop.records import AskRequest, AskResult
from engine.loop.simulate import SimulateSummary, run_simulation
from engine.prompts.bandit import compute_arm_table, load_bandit_stats
from engine.prompts.choose import RecipeChoice
from engine.prompts.choose import choose_recipe as prompts_choose_recipe
from engine.provenance.events import ComparisonEvent
from engine.provenance.rotate import RotationResult, rotate_log
from engine.providers.egress import safe_url
from engine.providers.select import ProviderChoice, resolve_providers
from engine.routing.routers import TRAITS
from engine.settings import Settings, get_settings

__all__ = ["AskRequest", "AskResult", "AskStream", "Engine", "SimulateSummary", "ask", "ask_stream",
           "simulate", "reset_adaptive_state", "get_engine", "clear_engines", "run_shadow", "ComparisonEvent",
           "choose_recipe", "RecipeChoice",
           # Beside ask/simulate, what the dashboard calls: the traits `ask` knows, explicit log rotation,
           # which provider answers, credential-free URLs, the bandit's arms, the gateway's health.
           "TRAITS", "RotationResult", "rotate_log", "ProviderChoice", "resolve_providers", "safe_url",
           "compute_arm_table", "load_bandit_stats", "GatewayHealth", "probe_gateway"]

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
    """Close and forget every cached engine (tests, settings reloads, new hypotheses)."""
    with _ENGINES_LOCK:
        while _ENGINES:
            _, (_, engine) = _ENGINES.popitem()
            engine.close()


def ask(question: str | AskRequest, trait: str = "general", session_id: str | None = None, *,
        settings: Settings | None = None, shadow: Literal["inline", "defer"] = "inline",
        **options: Any) -> AskResult:
    """Run one question through the loop and return what happened.

    `question` is the text (with `trait`, `session_id` and any AskRequest field as keyword options:
    origin, run_id, bucket, route, system_prompt, recipe_id, record, history, params) or a whole
    AskRequest. Provider failures never raise: they come back with `error_code`, source "unknown",
    quality 0. Raises InputError for an empty question, an unknown trait, route, bucket, origin or
    option, and for a `history` item whose role is not user/assistant or whose content is not a string.
    `record=False` writes no event and leaves the adaptive state alone (goldens).
    `history`: the conversation's earlier turns, oldest first, without the system prompt and the
    current question; the model gets system prompt, history, question. Routing and quality use the
    question alone; the event records `history_turns` (a count), never the history's text.
    `shadow`: when the answer is sampled for a shadow comparison (AIOS_SHADOW_RATE), "inline" runs it
    before returning; "defer" leaves `result.shadow` for the caller to pass to `run_shadow` once the
    answer is shown (the CLI prints first, the gateway answers first).
    """
    engine = get_engine(settings)
    result = engine.ask(AskRequest.build(question, trait, session_id, **options))
    if shadow == "inline" and result.shadow is not None:
        engine.run_shadow(result.shadow)
    return result


def run_shadow(result: AskResult, settings: Settings | None = None) -> ComparisonEvent | None:
    """Run the shadow comparison `ask(..., shadow="defer")` left in `result.shadow`, if any; logs
    one `comparison` event and returns it. Never raises."""
    if result.shadow is None:
        return None
    return get_engine(settings).run_shadow(result.shadow)


def ask_stream(question: str | AskRequest, trait: str = "general", session_id: str | None = None, *,
               settings: Settings | None = None, **options: Any) -> AskStream:
    """`ask` with the answer streamed: same arguments, same errors, same events.

    Returns at once with `route`, `bucket`, `boundary`, `message_id` and `session_id` decided;
    iterating it yields text deltas as the model writes; `.result` is the AskResult afterwards.
    Quality, events and the adaptive update happen once, when the stream ends. Call `.close()` to
    stop early: the partial answer is logged with error_code CLIENT_DISCONNECTED, and not learnt from.
    """
    return get_engine(settings).ask_stream(AskRequest.build(question, trait, session_id, **options))


def choose_recipe(question: str | None = None, *, assistant: str | None = None, category: str | None = None,
                  recipe_id: str | None = None, session_id: str | None = None, system: str | None = None,
                  settings: Settings | None = None) -> RecipeChoice:
    """The prompt recipe for a question, as the gateway chooses it (engine.prompts.choose): the named
    `recipe_id`, or the bandit's pick for (assistant, category) (the pair's default while
    BANDIT_ENABLED=0). Pass the result on: `ask(choice.question, system_prompt=choice.system_prompt,
    recipe_id=choice.recipe_id)`. Raises InputError for an unknown recipe or pair."""
    recipes, bandit = get_engine(settings).prompts()
    return prompts_choose_recipe(recipes, bandit, question=question, assistant=assistant, category=category,
                                 recipe_id=recipe_id, session_id=session_id, system=system)


def simulate(n: int, *, seed: int = 0, progress: Callable[[AskResult], None] | None = None,
             settings: Settings | None = None) -> SimulateSummary:
    """Send `n` generated demo questions through the loop on the simulator; `progress` gets each result."""
    return run_simulation(get_engine(settings), n, seed=seed, progress=progress)


def reset_adaptive_state(settings: Settings | None = None) -> Path | None:
    """Delete the adaptive state (a fresh experiment starts); returns the deleted path or None."""
    return get_engine(settings or get_settings()).reset_state()
