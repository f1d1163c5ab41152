"""The closed loop for one question: bucket -> complexity -> route -> provider -> quality ->
hypotheses -> one response event -> adaptive update (+ adaptation event), and `simulate`.
`ask_stream` is the same loop with the answer streamed; both finish through `Engine._complete`.
Earlier turns (`history`) reach the model between the system prompt and the question; routing
and quality look at the current question only, and the event records how many turns, not their text.

An Engine holds what is expensive or must be shared per settings object: the providers, one
EventSink, the router and the adaptive config. It is safe to call `ask` from a thread pool.
"""

from __future__ import annotations

import inspect
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.errors import InputError
from engine.loop.quality import score_answer
from engine.provenance.events import AdaptationEvent, Event, ResponseEvent, Tokens, new_id
from engine.provenance.sink import EventSink
from engine.providers.base import CLIENT_DISCONNECTED, UNKNOWN_SOURCE, ChatResult, stream_chat
from engine.providers.select import ProviderChoice, resolve_providers, sim_providers
from engine.routing.adaptive import AdaptiveConfig, AdaptiveState, Observation, step
from engine.routing.bucketing import BUCKETS, assign_bucket
from engine.routing.routers import ROUTES, check_trait, get_router
from engine.routing.state import StateCache, reset_state, state_lock
from engine.settings import Settings, load_model_config

log = logging.getLogger(__name__)
HASH_VERSION = 1
ORIGINS = ("ask", "simulate", "golden", "gateway")
HISTORY_ROLES = ("user", "assistant")


@dataclass
class AskResult:
    """What `ask` returns (docs/CONTRACTS.md); `adaptation` is set when this answer moved a boundary."""

    message_id: str
    session_id: str
    question: str
    trait: str
    answer: str
    route: str
    source: str
    provider: str
    simulated: bool
    bucket: str
    boundary: float
    complexity: float
    quality: float
    quality_components: dict[str, float]
    latency_ms: float
    tokens: dict[str, int]
    error_code: str | None
    error_message: str | None
    recipe_id: str | None
    quality_method: str = "heuristic"
    adaptive_enabled: bool = True
    adaptation: dict[str, Any] | None = None
    history_turns: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_history(history: Any) -> list[dict[str, str]]:
    """The prior turns as clean {"role", "content"} messages; InputError naming `history[i].field`.

    Only user/assistant turns: the system prompt has its own argument and the loop runs no tools.
    Empty contents are allowed (an earlier answer may have failed); other keys are not passed on.
    """
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise InputError(f"field history: must be a list of messages, got {type(history).__name__}")
    turns = []
    for i, item in enumerate(history):
        if not isinstance(item, dict):
            raise InputError(f"field history[{i}]: must be an object with role and content, "
                             f"got {type(item).__name__}")
        role, content = item.get("role"), item.get("content")
        if role not in HISTORY_ROLES:
            raise InputError(f"field history[{i}].role: {role!r} is not one of {', '.join(HISTORY_ROLES)}")
        if not isinstance(content, str):
            raise InputError(f"field history[{i}].content: must be a string, got {type(content).__name__}")
        turns.append({"role": role, "content": content})
    return turns


def _hypotheses_fn() -> Callable[..., list[Event]] | None:
    try:
        from engine.loop.hypotheses import evaluate_hypotheses
    except ImportError:
        return None
    return evaluate_hypotheses


class Engine:
    """The loop's long-lived parts for one settings object."""

    def __init__(self, settings: Settings, *, providers: ProviderChoice | None = None,
                 sink: EventSink | None = None, config: AdaptiveConfig | None = None) -> None:
        self.settings = settings
        self.config = config or AdaptiveConfig()
        self.models = load_model_config(settings)
        self.providers = providers or resolve_providers(settings, self.models)
        self.sink = sink or EventSink(settings.paths.log)
        self.router = get_router(settings.aios_router)
        self.state_path = settings.paths.adaptive_state
        self.states = StateCache(self.state_path, settings.aios_experiment_seed, self.config)
        self.hypotheses = _hypotheses_fn()
        self._sim: Engine | None = None
        self._sim_lock = threading.Lock()

    @property
    def adaptive_enabled(self) -> bool:
        return self.settings.aios_adaptive_enabled

    def simulator(self) -> Engine:
        """This engine on the built-in simulator (itself when it already is), sharing the sink."""
        if self.providers.simulated:
            return self
        with self._sim_lock:
            if self._sim is None:
                main, embedder = sim_providers(self.settings, self.models)
                choice = ProviderChoice("sim", "simulate always uses the built-in simulator", main, embedder)
                self._sim = Engine(self.settings, providers=choice, sink=self.sink, config=self.config)
            return self._sim

    def load_state(self) -> AdaptiveState:
        """The current adaptive state (the caller's own copy)."""
        return self.states.load().clone()

    def reset_state(self):
        return reset_state(self.state_path)

    def close(self) -> None:
        self.sink.close()

    # The loop ----------------------------------------------------------------------------------

    def ask(self, question: str, trait: str = "general", session_id: str | None = None, *,
            origin: str = "ask", run_id: str | None = None, bucket: str | None = None,
            route: str | None = None, system_prompt: str | None = None, recipe_id: str | None = None,
            record: bool = True, history: list[dict[str, str]] | None = None) -> AskResult:
        turn = self._begin(question, trait, session_id, origin=origin, run_id=run_id, bucket=bucket,
                           route=route, system_prompt=system_prompt, recipe_id=recipe_id, record=record,
                           history=history)
        return self._complete(turn, self._call(turn))

    def ask_stream(self, question: str, trait: str = "general", session_id: str | None = None, *,
                   origin: str = "ask", run_id: str | None = None, bucket: str | None = None,
                   route: str | None = None, system_prompt: str | None = None,
                   recipe_id: str | None = None, record: bool = True,
                   history: list[dict[str, str]] | None = None) -> AskStream:
        """`ask` with the answer as text deltas; routing is decided before this returns."""
        turn = self._begin(question, trait, session_id, origin=origin, run_id=run_id, bucket=bucket,
                           route=route, system_prompt=system_prompt, recipe_id=recipe_id, record=record,
                           history=history)
        return AskStream(self, turn)

    def _begin(self, question: str, trait: str, session_id: str | None, *, origin: str,
               run_id: str | None, bucket: str | None, route: str | None, system_prompt: str | None,
               recipe_id: str | None, record: bool, history: list[dict[str, str]] | None = None) -> Turn:
        """Validate, then bucket, boundary and route: everything decided before the model is called."""
        if not isinstance(question, str) or not question.strip():
            raise InputError("field question: the question is empty")
        turns = check_history(history)
        check_trait(trait)
        if route is not None and route not in ROUTES:
            raise InputError(f"field route: {route!r} is not one of {', '.join(ROUTES)}")
        if bucket is not None and bucket not in BUCKETS:
            raise InputError(f"field bucket: {bucket!r} is not one of {', '.join(BUCKETS)}")
        if origin not in ORIGINS:
            raise InputError(f"field origin: {origin!r} is not one of {', '.join(ORIGINS)}")
        session_id = session_id or new_id()
        enabled = self.adaptive_enabled
        assigned, bucket_value = assign_bucket(self.settings.aios_experiment_seed, session_id,
                                               self.config.control_bucket_pct, HASH_VERSION)
        bucket = bucket or assigned
        # The file is replaced atomically, so an unlocked read sees a whole state; read-only here.
        boundary = self.states.load().boundary_for(bucket, enabled)
        # Routing scores the current question alone: the adaptive controller learns per score, and the
        # benches are single-turn, so a history-aware rule could not be shown to help (README, gateway).
        decision = self.router.decide(question, trait, boundary)
        chosen = route or decision.route
        messages = ([{"role": "system", "content": system_prompt}] if system_prompt else [])
        messages.extend(turns)
        messages.append({"role": "user", "content": question})
        return Turn(question=question, trait=trait, session_id=session_id, message_id=new_id(),
                    origin=origin, run_id=run_id, bucket=bucket, bucket_value=bucket_value,
                    boundary=boundary, complexity=decision.score, route=chosen, route_forced=route is not None,
                    provider=self.providers.for_route(chosen), messages=messages, recipe_id=recipe_id,
                    record=record, adaptive_enabled=enabled, started=time.perf_counter(),
                    history_turns=len(turns))

    def _complete(self, turn: Turn, result: ChatResult, *, learn: bool = True) -> AskResult:
        """Quality, the response event (+ hypotheses), the adaptive update unless `learn` is False."""
        judge = self.providers.main if self.settings.aios_quality_judge and result.ok else None
        quality = score_answer(turn.question, result.text, turn.complexity, error_code=result.error_code,
                               judge=judge)
        tokens = Tokens(prompt=result.prompt_tokens, completion=result.completion_tokens,
                        total=result.total_tokens)
        event = ResponseEvent(
            message_id=turn.message_id, session_id=turn.session_id, run_id=turn.run_id,
            question=turn.question, trait=turn.trait, answer=result.text, bucket=turn.bucket,
            bucket_value=round(turn.bucket_value, 6), hash_version=HASH_VERSION,
            complexity=turn.complexity, boundary=turn.boundary, route=turn.route, router=self.router.name,
            source=result.source if result.ok else UNKNOWN_SOURCE, provider=result.provider,
            simulated=result.simulated, latency_ms=round(result.latency_ms, 1), tokens=tokens,
            quality=quality.quality, quality_components=quality.components, quality_method=quality.method,
            quality_fallback_reason=quality.fallback_reason, error_code=result.error_code,
            error_message=result.error_message, recipe_id=turn.recipe_id,
            adaptive_enabled=turn.adaptive_enabled, origin=turn.origin, route_forced=turn.route_forced,
            sim_latency_scale=getattr(turn.provider, "latency_scale", None) if result.simulated else None,
            history_turns=turn.history_turns,
        )
        adaptation = self._record(event, learn=learn) if turn.record else None
        return AskResult(
            message_id=turn.message_id, session_id=turn.session_id, question=turn.question,
            trait=turn.trait, answer=result.text, route=turn.route, source=event.source,
            provider=result.provider, simulated=result.simulated, bucket=turn.bucket,
            boundary=turn.boundary, complexity=turn.complexity, quality=quality.quality,
            quality_components=quality.components, latency_ms=event.latency_ms,
            tokens={"prompt": tokens.prompt, "completion": tokens.completion, "total": tokens.total},
            error_code=result.error_code, error_message=result.error_message, recipe_id=turn.recipe_id,
            quality_method=quality.method, adaptive_enabled=turn.adaptive_enabled, adaptation=adaptation,
            history_turns=turn.history_turns,
        )

    def _call(self, turn: Turn) -> ChatResult:
        provider = turn.provider
        try:
            return provider.chat(turn.messages, max_tokens=self.settings.aios_max_tokens)
        except Exception as exc:  # providers promise not to raise; the loop must answer regardless
            return provider_raised(provider, exc)

    def _record(self, event: ResponseEvent, *, learn: bool = True) -> dict[str, Any] | None:
        """Hypotheses, then state update and log append under the state lock (so they agree).
        With `learn` False (a stream the client abandoned) only the events are written."""
        batch: list[Event] = [event]
        if self.hypotheses is not None:
            try:
                batch.extend(self.hypotheses(event, self.settings))
            except Exception as exc:  # contract: never raises; keep answering if it does anyway
                log.warning("evaluate_hypotheses raised %s; no hypothesis events for %s",
                            type(exc).__name__, event.message_id)
        if not learn:
            self.sink.append(batch)
            return None
        observation = Observation(bucket=event.bucket, route=event.route, score=event.complexity,
                                  quality=event.quality, latency_ms=event.latency_ms,
                                  answered=event.error_code is None)
        with state_lock(self.state_path):
            new_state, adaptation = step(self.states.load(), observation,
                                         adaptive_enabled=self.adaptive_enabled, now=event.ts)
            self.states.save(new_state)
            if adaptation is not None:
                batch.append(AdaptationEvent(
                    message_id=event.message_id, session_id=event.session_id, run_id=event.run_id,
                    bucket=adaptation.bucket, old_boundary=adaptation.old_boundary,
                    new_boundary=adaptation.new_boundary, quality_delta=adaptation.quality_delta,
                    latency_delta_ms=adaptation.latency_delta_ms, samples=adaptation.samples,
                    reason=adaptation.reason, adaptive_enabled=True,
                    control_boundary=new_state.config.control_boundary, drift=round(new_state.drift, 6)))
            self.sink.append(batch)
        return asdict(adaptation) if adaptation is not None else None


def provider_raised(provider: Any, exc: Exception, text: str = "") -> ChatResult:
    """A provider broke its promise not to raise: recorded as PROVIDER_ERROR (type only, no text)."""
    log.warning("provider %s raised %s; recorded as PROVIDER_ERROR", provider.name, type(exc).__name__)
    return ChatResult(text=text, source=UNKNOWN_SOURCE, provider=provider.name, latency_ms=0.0,
                      error_code="PROVIDER_ERROR", error_message=f"provider raised {type(exc).__name__}")


@dataclass
class Turn:
    """One question after routing, before the model answers (what a stream can announce up front)."""

    question: str
    trait: str
    session_id: str
    message_id: str
    origin: str
    run_id: str | None
    bucket: str
    bucket_value: float
    boundary: float
    complexity: float
    route: str
    route_forced: bool
    provider: Any
    messages: list[dict[str, str]]
    recipe_id: str | None
    record: bool
    adaptive_enabled: bool
    started: float  # perf_counter when routing began
    history_turns: int = 0  # prior turns sent with the question (their text stays in `messages` only)


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
        self.model, self.recipe_id = str(getattr(turn.provider, "model", "")), turn.recipe_id
        self.result: AskResult | None = None
        self._done = False
        self._deltas = self._run()

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

    def _run(self) -> Iterator[str]:
        turn, engine = self._turn, self._engine
        parts: list[str] = []
        stream = None
        try:
            stream = stream_chat(turn.provider, turn.messages, max_tokens=engine.settings.aios_max_tokens)
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
            result = stream.result
        self._done = True
        self.result = engine._complete(turn, result)


# Simulation ------------------------------------------------------------------------------------

@dataclass
class BucketSummary:
    sessions: int = 0
    questions: int = 0
    main_share: float = 0.0
    mean_quality: float = 0.0
    p50_latency_ms: float = 0.0
    p95_latency_ms: float = 0.0
    errors: int = 0
    boundary_end: float = 0.0


@dataclass
class SimulateSummary:
    run_id: str
    n: int
    seed: int
    sessions: int
    simulated: bool
    adaptive_enabled: bool
    adaptations: int
    max_drift: float
    final_drift: float
    elapsed_s: float
    buckets: dict[str, BucketSummary] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return float(ordered[index])


def session_plan(n: int, seed: int) -> list[str]:
    """A session id per question: a new session every 1-6 questions, deterministic for a seed."""
    rng = random.Random(f"sessions|{seed}")
    ids, j, left = [], 0, 0
    for _ in range(n):
        if left == 0:
            j, left = j + 1, rng.randint(1, 6)
        ids.append(f"sim-{seed}-{j:06d}")
        left -= 1
    return ids


def compute_simulate_summary(results: list[AskResult], *, run_id: str, n: int, seed: int,
                             adaptive_enabled: bool, max_drift: float, final_state: AdaptiveState,
                             elapsed_s: float) -> SimulateSummary:
    buckets: dict[str, BucketSummary] = {}
    for name in BUCKETS:
        rows = [r for r in results if r.bucket == name]
        answered = [r for r in rows if r.error_code is None]
        buckets[name] = BucketSummary(
            sessions=len({r.session_id for r in rows}), questions=len(rows),
            main_share=round(sum(r.route == "main" for r in rows) / len(rows), 4) if rows else 0.0,
            mean_quality=round(sum(r.quality for r in rows) / len(rows), 4) if rows else 0.0,
            p50_latency_ms=percentile([r.latency_ms for r in answered], 50),
            p95_latency_ms=percentile([r.latency_ms for r in answered], 95),
            errors=len(rows) - len(answered),
            boundary_end=final_state.boundary_for(name, adaptive_enabled))
    return SimulateSummary(
        run_id=run_id, n=n, seed=seed, sessions=len({r.session_id for r in results}),
        simulated=all(r.simulated for r in results), adaptive_enabled=adaptive_enabled,
        adaptations=sum(r.adaptation is not None for r in results), max_drift=round(max_drift, 6),
        final_drift=round(final_state.drift, 6), elapsed_s=round(elapsed_s, 3), buckets=buckets)


def run_simulation(engine: Engine, n: int, *, seed: int = 0,
                   progress: Callable[[AskResult], None] | None = None) -> SimulateSummary:
    """Send `n` demo questions through the loop on the simulator, a new session every few questions."""
    from engine.loop.demo_questions import generate_questions

    if n < 0:
        raise InputError(f"option --n: must be >= 0, got {n}")
    engine = engine.simulator()
    run_id = new_id()
    started = time.perf_counter()
    results: list[AskResult] = []
    max_drift = 0.0
    for question, session_id in zip(generate_questions(n, seed), session_plan(n, seed)):
        result = engine.ask(question.question, question.trait, session_id, origin="simulate", run_id=run_id)
        if result.adaptation is not None:
            max_drift = max(max_drift, abs(result.adaptation["new_boundary"] - engine.config.control_boundary))
        results.append(result)
        if progress is not None:
            progress(result)
    return compute_simulate_summary(results, run_id=run_id, n=n, seed=seed,
                                    adaptive_enabled=engine.adaptive_enabled, max_drift=max_drift,
                                    final_state=engine.load_state(), elapsed_s=time.perf_counter() - started)
