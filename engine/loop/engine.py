"""The closed loop for one question: bucket -> complexity -> route -> provider -> quality ->
hypotheses -> one response event -> adaptive update (+ adaptation event).
`ask_stream` is the same loop with the answer streamed; both finish through `Engine._complete`.
Earlier turns (`history`) reach the model between the system prompt and the question; routing
and quality look at the current question only, and the event records how many turns, not their text.

An Engine holds what is expensive or must be shared per settings object: the providers, one
EventSink, the router, the adaptive config and the hypotheses registry. `ask` is thread-safe.
"""

from __future__ import annotations

import inspect
import logging
import random
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

from engine.ids import new_id
from engine.loop.final_answer import extract_final_answer
from engine.loop.hypotheses import HypothesisRegistry, build_hypothesis_registry
from engine.loop.quality import compute_agreement, score_answer
from engine.loop.records import (
    AskRequest,
    AskResult,
    ShadowPlan,
    Turn,
    compute_effective_params,
    compute_token_limit,
)
from engine.prompts.bandit import Bandit
from engine.prompts.store import RecipeStore
from engine.provenance.events import AdaptationEvent, ComparisonEvent, Event, ResponseEvent, Tokens
from engine.provenance.reader import event_logged
from engine.provenance.sink import EventSink
from engine.providers.base import CLIENT_DISCONNECTED, UNKNOWN_SOURCE, ChatResult, stream_chat
from engine.providers.select import ProviderChoice, resolve_providers, sim_providers
from engine.routing.adaptive import AdaptiveConfig, AdaptiveState, Observation, step
from engine.routing.bucketing import Bucket, assign_bucket
from engine.routing.learned import load_router
from engine.routing.routers import Route
from engine.routing.state import StateCache, reset_state, state_lock
from engine.settings import Settings, load_model_config
from engine.telemetry.otel import export_answer

log = logging.getLogger(__name__)
HASH_VERSION = 1


class Engine:
    """The loop's long-lived parts for one settings object."""

    def __init__(self, settings: Settings, *, providers: ProviderChoice | None = None,
                 sink: EventSink | None = None, config: AdaptiveConfig | None = None,
                 hypotheses: HypothesisRegistry | None = None) -> None:
        self.settings = settings
        self.config = config or AdaptiveConfig()
        self.models = load_model_config(settings)
        self.providers = providers or resolve_providers(settings, self.models)
        self.sink = sink or EventSink(settings.paths.log)
        self.router = load_router(settings.aios_router, settings.aios_router_model)
        self.state_path = settings.paths.adaptive_state
        self.states = StateCache(self.state_path, settings.aios_experiment_seed, self.config)
        self._hypotheses = hypotheses
        self._sim: Engine | None = None
        self._prompts: tuple[RecipeStore, Bandit] | None = None
        self._lock = threading.Lock()
        self._random = random.Random()  # shadow sampling; its probability is recorded on each comparison

    @property
    def adaptive_enabled(self) -> bool:
        return self.settings.aios_adaptive_enabled

    @property
    def hypotheses(self) -> HypothesisRegistry:
        """This engine's hypotheses, built on first use (classes, then hypotheses.json, seeded
        from the log); a new engine (api.clear_engines) picks up changes."""
        with self._lock:
            if self._hypotheses is None:
                self._hypotheses = build_hypothesis_registry(self.settings)
            return self._hypotheses

    def simulator(self) -> Engine:
        """This engine on the built-in simulator (itself when it already is), sharing the sink."""
        if self.providers.simulated:
            return self
        with self._lock:
            if self._sim is None:
                main, embedder = sim_providers(self.settings, self.models)
                choice = ProviderChoice("sim", "simulate always uses the built-in simulator", main, embedder)
                self._sim = Engine(self.settings, providers=choice, sink=self.sink, config=self.config,
                                   hypotheses=self._hypotheses)
            return self._sim

    def prompts(self) -> tuple[RecipeStore, Bandit]:
        """The recipes (hot-reloaded) and the recipe bandit for this engine, built on first use."""
        with self._lock:
            if self._prompts is None:
                recipes = RecipeStore(self.settings)
                self._prompts = (recipes, Bandit(self.settings, recipes, sink=self.sink))
            return self._prompts

    def load_state(self) -> AdaptiveState:
        """The current adaptive state (the caller's own copy)."""
        return self.states.load().clone()

    def reset_state(self) -> Path | None:
        return reset_state(self.state_path)

    def close(self) -> None:
        self.sink.close()

    # The loop ----------------------------------------------------------------------------------

    def ask(self, request: AskRequest) -> AskResult:
        turn = self._begin(request)
        return self._complete(turn, self._call(turn))

    def ask_stream(self, request: AskRequest) -> AskStream:
        """`ask` with the answer as text deltas; routing is decided before this returns."""
        return AskStream(self, self._begin(request))

    def _begin(self, request: AskRequest) -> Turn:
        """Validate, then bucket, boundary and route: everything decided before the model is called."""
        request = request.checked()
        session_id = request.session_id or new_id()
        enabled = self.adaptive_enabled
        assigned, bucket_value = assign_bucket(self.settings.aios_experiment_seed, session_id,
                                               self.config.control_bucket_pct, HASH_VERSION)
        bucket = cast(Bucket, request.bucket or assigned)  # checked() validated a forced bucket
        # The file is replaced atomically, so an unlocked read sees a whole state; read-only here.
        boundary = self.states.load().boundary_for(bucket, enabled)
        # Routing scores the current question alone: the adaptive controller learns per score, and the
        # benches are single-turn, so a history-aware rule could not be shown to help (README, gateway).
        decision = self.router.decide(request.question, request.trait, boundary)
        route = cast(Route, request.route or decision.route)
        explored, probability = self._explore(request)
        if explored:
            route = "embedder" if route == "main" else "main"
        messages = ([{"role": "system", "content": request.system_prompt}] if request.system_prompt else [])
        messages.extend(request.history)
        messages.append({"role": "user", "content": request.question})
        return Turn(request=request, session_id=session_id, message_id=new_id(), bucket=bucket,
                    bucket_value=bucket_value, boundary=boundary, complexity=decision.score, route=route,
                    provider=self.providers.for_route(route), messages=messages, adaptive_enabled=enabled,
                    explored=explored, route_probability=probability)

    def _explore(self, request: AskRequest) -> tuple[bool, float | None]:
        """Whether to route against the router (AIOS_EXPLORE_RATE) and the chance the route then has.
        A forced route has none; goldens never explore (they compare the same route over time)."""
        if request.route is not None:
            return False, None
        rate = self.settings.aios_explore_rate
        if rate <= 0 or request.origin == "golden":
            return False, 1.0
        explored = self._random.random() < rate
        return explored, rate if explored else 1.0 - rate

    def _complete(self, turn: Turn, result: ChatResult, *, learn: bool = True) -> AskResult:
        """Quality, the response event (+ hypotheses), the adaptive update unless `learn` is False."""
        request = turn.request
        judge = self.providers.main if self.settings.aios_quality_judge and result.ok else None
        quality = score_answer(request.question, result.text, turn.complexity, error_code=result.error_code,
                               judge=judge, reference=request.reference)
        event = ResponseEvent(
            message_id=turn.message_id, session_id=turn.session_id, run_id=request.run_id,
            question=request.question, trait=request.trait, answer=result.text, bucket=turn.bucket,
            bucket_value=round(turn.bucket_value, 6), hash_version=HASH_VERSION,
            complexity=turn.complexity, boundary=turn.boundary, route=turn.route, router=self.router.name,
            source=result.source if result.ok else UNKNOWN_SOURCE, provider=result.provider,
            simulated=result.simulated, latency_ms=round(result.latency_ms, 1),
            tokens=Tokens(prompt=result.prompt_tokens, completion=result.completion_tokens,
                          total=result.total_tokens),
            quality=quality.quality, quality_components=quality.components, quality_method=quality.method,
            quality_fallback_reason=quality.fallback_reason, error_code=result.error_code,
            error_message=result.error_message, recipe_id=request.recipe_id,
            adaptive_enabled=turn.adaptive_enabled, origin=request.origin, route_forced=turn.route_forced,
            sim_latency_scale=getattr(turn.provider, "latency_scale", None) if result.simulated else None,
            history_turns=len(request.history),
            quality_reference="provided" if quality.method == "reference" else None,
            sim_correct=result.sim_correct if result.simulated else None,
            request_params=compute_effective_params(request.params, self.settings.aios_max_tokens),
            router_version=self.router.version, explored=turn.explored, route_probability=turn.route_probability,
        )
        adaptation = self._record(event, learn=learn) if request.record else None
        export_answer(self.settings, turn, event)  # OTLP span when configured; queued, never raises
        shadow = self._plan_shadow(turn, event) if request.record and learn else None
        return AskResult(event, adaptation, shadow)

    # Shadow comparisons ------------------------------------------------------------------------

    def _plan_shadow(self, turn: Turn, event: ResponseEvent) -> ShadowPlan | None:
        """Whether this answer is also asked of the other model (AIOS_SHADOW_RATE, drawn at random);
        the caller runs the plan after the served answer is out (`run_shadow`)."""
        rate = self.settings.aios_shadow_rate
        if rate <= 0 or event.error_code or turn.route_forced or turn.request.origin == "golden":
            return None
        if self._random.random() >= rate:
            return None
        return ShadowPlan(turn=turn, served=event, probability=rate)

    def run_shadow(self, plan: ShadowPlan) -> ComparisonEvent:
        """Ask the other model the served question, log one `comparison` event (and feed its label to
        the adaptive controller). Never raises and never retries beyond the provider's own bounded
        retries: a failed shadow call is logged with its error code and no agreement."""
        turn, served = plan.turn, plan.served
        shadow_route: Route = "main" if served.route == "embedder" else "embedder"
        provider = self.providers.for_route(shadow_route)
        result = self._chat(provider, turn)
        served_final, shadow_final, agreement, method = extract_final_answer(served.answer, served.question).value, \
            None, None, "final_answer"
        if result.ok:
            agreement, method, served_final, shadow_final = compute_agreement(served.question, served.answer,
                                                                              result.text)
        event = ComparisonEvent(
            message_id=served.message_id, session_id=served.session_id, run_id=served.run_id,
            bucket=served.bucket, complexity=served.complexity, boundary=served.boundary, trait=served.trait,
            served_route=served.route, shadow_route=shadow_route, served_final_answer=served_final,
            shadow_final_answer=shadow_final, agreement=agreement, method=method,
            shadow_source=result.source if result.ok else UNKNOWN_SOURCE,
            shadow_latency_ms=round(result.latency_ms, 1),
            shadow_tokens=Tokens(prompt=result.prompt_tokens, completion=result.completion_tokens,
                                 total=result.total_tokens),
            shadow_error_code=result.error_code, sampling_probability=plan.probability,
            simulated=served.simulated and result.simulated,
            served_sim_correct=served.sim_correct, shadow_sim_correct=result.sim_correct if result.simulated else None)
        try:
            self._record_comparison(event)
        except Exception as exc:  # a shadow never breaks the caller; the state error shows on the next answer
            log.warning("comparison %s not recorded: %s", served.message_id, type(exc).__name__)
        return event

    def _record_comparison(self, event: ComparisonEvent) -> None:
        if event.agreement is None:
            self.sink.append([event])
            return
        label = Observation(bucket=event.bucket, route=event.served_route, score=event.complexity, quality=0.0,
                            latency_ms=0.0, agreement=event.agreement)
        with state_lock(self.state_path):
            state = self.states.load_for_update(f"comparison_{event.message_id}", self._logged)
            new_state, _ = step(state, label, adaptive_enabled=self.adaptive_enabled, now=event.ts)
            with self.states.stage(new_state) as staged:  # the event first: the state never counts an unlogged one
                self.sink.append([event])
                staged.commit()

    def _logged(self, tag: str) -> bool:
        """Whether an update's events ("response_<id>") are in the log: a writer killed between its
        append and its state rename left that update, which the next writer then puts in place."""
        return event_logged(self.sink.path, tag)

    def _call(self, turn: Turn) -> ChatResult:
        return self._chat(turn.provider, turn)

    def _chat(self, provider: Any, turn: Turn) -> ChatResult:
        """One model call for a turn (the served answer or its shadow); never raises."""
        try:
            # The request's extra chat-completions params (goldens: seed, temperature) go only when set,
            # so providers without the `params` keyword keep working.
            extra: dict[str, Any] = {"params": dict(turn.request.params)} if turn.request.params else {}
            limit = compute_token_limit(turn.request.params, self.settings.aios_max_tokens)
            return cast(ChatResult, provider.chat(turn.messages, max_tokens=limit, **extra))
        except Exception as exc:  # providers promise not to raise; the loop must answer regardless
            return provider_raised(provider, exc)

    def _record(self, event: ResponseEvent, *, learn: bool = True) -> dict[str, Any] | None:
        """Hypotheses, then state update and log append under the state lock (so they agree): the new
        state is written beside the old one, the events appended, and only then the state put in place,
        so a failed append (disk full) or a kill leaves the state without the events it would count.
        With `learn` False (a stream the client abandoned) only the events are written."""
        batch: list[Event] = [event]
        try:
            batch.extend(self.hypotheses.evaluate(event))
        except Exception as exc:  # contract: never raises; keep answering if it does anyway
            log.warning("hypotheses raised %s; no hypothesis events for %s",
                        type(exc).__name__, event.message_id)
        if not learn:
            self.sink.append(batch)
            return None
        observation = Observation(bucket=event.bucket, route=event.route, score=event.complexity,
                                  quality=event.quality, latency_ms=event.latency_ms,
                                  answered=event.error_code is None)
        with state_lock(self.state_path):
            new_state, adaptation = step(self.states.load_for_update(f"response_{event.message_id}", self._logged),
                                         observation, adaptive_enabled=self.adaptive_enabled, now=event.ts)
            if adaptation is not None:
                batch.append(AdaptationEvent(
                    message_id=event.message_id, session_id=event.session_id, run_id=event.run_id,
                    bucket=adaptation.bucket, old_boundary=adaptation.old_boundary,
                    new_boundary=adaptation.new_boundary, quality_delta=adaptation.quality_delta,
                    latency_delta_ms=adaptation.latency_delta_ms, samples=adaptation.samples,
                    reason=adaptation.reason, adaptive_enabled=True, evidence=adaptation.evidence,
                    control_boundary=new_state.config.control_boundary, drift=round(new_state.drift, 6)))
            with self.states.stage(new_state) as staged:
                self.sink.append(batch)
                staged.commit()
        return asdict(adaptation) if adaptation is not None else None


def provider_raised(provider: Any, exc: Exception, text: str = "") -> ChatResult:
    """A provider broke its promise not to raise: recorded as PROVIDER_ERROR (type only, no text)."""
    log.warning("provider %s raised %s; recorded as PROVIDER_ERROR", provider.name, type(exc).__name__)
    return ChatResult(text=text, source=UNKNOWN_SOURCE, provider=provider.name, latency_ms=0.0,
                      error_code="PROVIDER_ERROR", error_message=f"provider raised {type(exc).__name__}")


class AskStream:
    """A streamed `ask`: route, bucket, boundary, message_id, session_id, model are known at once;
    iterating yields the answer's text deltas; `result` is the AskResult once the stream is done.

    Completion runs the same `_complete` as `ask` (quality, events, adaptive update), once. If the
    consumer stops early (`close()`, or a started stream is garbage-collected), the partial answer
    is logged once with error_code CLIENT_DISCONNECTED and the adaptive state is not updated.
    """

    def __init__(self, engine: Engine, turn: Turn) -> None:
        self._engine = engine
        self._turn = turn
        self.route, self.bucket, self.boundary = turn.route, turn.bucket, turn.boundary
        self.complexity, self.message_id, self.session_id = turn.complexity, turn.message_id, turn.session_id
        self.simulated = bool(getattr(turn.provider, "simulated", False))
        self.model, self.recipe_id = str(getattr(turn.provider, "model", "")), turn.request.recipe_id
        self.result: AskResult | None = None
        self._done = False
        self._deltas: Generator[str, None, None] = self._run()

    def __iter__(self) -> Iterator[str]:
        return self._deltas

    def close(self) -> None:
        """Stop early; logs the partial answer once (also when no delta was read yet)."""
        if self._done:
            return
        if inspect.getgeneratorstate(self._deltas) == inspect.GEN_CREATED:
            # Never started: closing the generator would not run its body, so finish here.
            self._deltas.close()
            self._abandon("")
        else:
            self._deltas.close()

    def _abandon(self, text: str) -> None:
        if self._done:
            return
        self._done = True
        turn = self._turn
        result = ChatResult(text=text, source=UNKNOWN_SOURCE, provider=turn.provider.name,
                            latency_ms=(time.perf_counter() - turn.started) * 1000,
                            error_code=CLIENT_DISCONNECTED,
                            error_message="the client stopped reading before the answer was complete",
                            simulated=self.simulated)
        self.result = self._engine._complete(turn, result, learn=False)

    def _run(self) -> Generator[str, None, None]:
        turn, engine = self._turn, self._engine
        parts: list[str] = []
        stream = None
        try:
            limit = compute_token_limit(turn.request.params, engine.settings.aios_max_tokens)
            stream = stream_chat(turn.provider, turn.messages, max_tokens=limit,
                                 params=dict(turn.request.params) or None)
            for delta in stream:
                parts.append(delta)
                yield delta
        except GeneratorExit:
            if stream is not None:
                stream.close()
            self._abandon("".join(parts))
            raise
        except Exception as exc:  # providers promise not to raise; the loop must answer regardless
            result = provider_raised(turn.provider, exc, "".join(parts))
        else:
            # A finished stream always has its result; a provider that broke that promise is an error.
            result = stream.result or provider_raised(turn.provider, RuntimeError("stream ended without a result"),
                                                      "".join(parts))
        self._done = True
        self.result = engine._complete(turn, result)
