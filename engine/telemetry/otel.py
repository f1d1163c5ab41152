"""Each answer as one OpenTelemetry span in the GenAI semantic conventions (`gen_ai.*`) plus the
loop's own `aios.*` attributes, exported over OTLP/HTTP (protobuf) when OTEL_EXPORTER_OTLP_ENDPOINT
is set. What Langfuse, Arize Phoenix or Grafana Tempo read; the NDJSON log stays the record.

Export never delays or fails an answer: spans go to a BatchSpanProcessor (a bounded queue drained
by a background thread; a full queue drops spans), every call here swallows its errors, and a
collector that is down costs one warning per outage. The collector's host is judged by the egress
policy like a provider's: loopback always, any other host only with NO_NET_MODE off and the host in
EGRESS_ALLOWLIST; a refused endpoint exports nothing and says so once. Message content (the
question, history and answer) goes out only with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.logging_setup import mask_secrets
from engine.providers.egress import check_egress, policy_session, route_request, safe_url
from engine.settings import Settings

log = logging.getLogger(__name__)

OPERATION = "chat"
TRACES_PATH = "/v1/traces"
EXPORT_TIMEOUT_S = 5.0
# Bounded memory while a collector is down: spans beyond the queue are dropped, never waited for.
MAX_QUEUE = 2048
SCHEDULE_DELAY_MS = 500
# The collector is not a model provider: the egress policy's provider allow-list is satisfied by
# this name, so the host allow-list and NO_NET_MODE decide.
COLLECTOR = "otlp"
# The OTLP library logs each failed batch (and each retry); this module logs one warning per outage.
_LIBRARY_LOGGERS = ("opentelemetry.exporter.otlp.proto.http.trace_exporter",
                    "opentelemetry.exporter.otlp.proto.http", "opentelemetry.exporter.http.transport",
                    "opentelemetry.sdk.trace.export")


@dataclass(frozen=True)
class ExportConfig:
    """What decides the exporter: the traces URL, content capture, the egress policy's inputs."""

    traces_url: str
    capture_content: bool
    service_name: str
    no_net_mode: bool
    egress_allowlist: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> ExportConfig | None:
        """None when no endpoint is set (export off)."""
        url = traces_url(settings)
        if url is None:
            return None
        return cls(url, settings.otel_instrumentation_genai_capture_message_content, settings.otel_service_name,
                   settings.no_net_mode, tuple(settings.egress_allowlist))


def traces_url(settings: Settings) -> str | None:
    """OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces
    (the OTLP/HTTP rule for the base endpoint); None when neither is set."""
    if settings.otel_exporter_otlp_traces_endpoint:
        return settings.otel_exporter_otlp_traces_endpoint.strip()
    base = (settings.otel_exporter_otlp_endpoint or "").strip()
    if not base:
        return None
    return base.rstrip("/") + TRACES_PATH


class _OutageLogger:
    """One warning when exports start failing, one info line when they recover."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.failing = False
        self._lock = threading.Lock()

    def failed(self, why: str) -> None:
        with self._lock:
            if self.failing:
                return
            self.failing = True
        log.warning("OpenTelemetry export to %s failed (%s); answers are unaffected, spans are dropped "
                    "until the collector answers again", self.where, why)

    def succeeded(self) -> None:
        with self._lock:
            if not self.failing:
                return
            self.failing = False
        log.info("OpenTelemetry export to %s works again", self.where)


def _quiet_library_logs() -> None:
    """The OTLP exporter logs every failed attempt; our outage logger speaks for it instead."""
    for name in _LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


class AnswerExporter:
    """A tracer provider of its own (the global one stays the application's) with a batch processor
    in front of the OTLP/HTTP exporter; `export` turns one response event into one span."""

    def __init__(self, config: ExportConfig) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

        self.config = config
        self.where = safe_url(config.traces_url)
        outage = _OutageLogger(self.where)
        self.outage = outage
        route = route_request(config.traces_url, functools.partial(
            check_egress, provider=COLLECTOR, no_net_mode=config.no_net_mode, provider_allowlist=[COLLECTOR],
            egress_allowlist=list(config.egress_allowlist)))
        self.decision = route.decision
        self.enabled = route.decision.allowed
        self._provider: Any = None
        if not self.enabled:
            log.warning("OpenTelemetry export off: %s", route.decision.message)
            return
        session = policy_session()  # nothing from the environment: the route's proxy (judged) or none
        session.proxies = dict(route.proxies)
        otlp = OTLPSpanExporter(endpoint=config.traces_url, timeout=EXPORT_TIMEOUT_S, session=session)

        class _Guarded(SpanExporter):
            """Never raises into the processor's thread; turns failures into one warning per outage."""

            def export(self, spans: Sequence[Any]) -> SpanExportResult:
                try:
                    result = otlp.export(spans)
                except Exception as exc:  # the background thread must go on whatever the transport does
                    outage.failed(type(exc).__name__)
                    return SpanExportResult.FAILURE
                if result is SpanExportResult.SUCCESS:
                    outage.succeeded()
                else:
                    outage.failed("unreachable, or it refused the spans")
                return result

            def shutdown(self) -> None:
                otlp.shutdown()

            def force_flush(self, timeout_millis: int = 30000) -> bool:
                return True

        _quiet_library_logs()
        provider = TracerProvider(resource=Resource.create({"service.name": config.service_name}),
                                  shutdown_on_exit=True)
        provider.add_span_processor(BatchSpanProcessor(_Guarded(), max_queue_size=MAX_QUEUE,
                                                       schedule_delay_millis=SCHEDULE_DELAY_MS,
                                                       export_timeout_millis=EXPORT_TIMEOUT_S * 1000))
        self._provider = provider
        self._tracer = provider.get_tracer("engine.telemetry.otel")

    def export(self, turn: Any, event: Any) -> None:
        """Queue the span for one answer (a Turn and its ResponseEvent); never raises, never blocks
        on the network."""
        if not self.enabled:
            return
        try:
            from opentelemetry.trace import SpanKind, Status, StatusCode

            end_ns = time.time_ns()
            start_ns = end_ns - int(max(event.latency_ms, 0.0) * 1_000_000)
            model = str(getattr(turn.provider, "model", "") or event.source)
            span = self._tracer.start_span(f"{OPERATION} {model}", kind=SpanKind.CLIENT, start_time=start_ns,
                                           attributes=compute_span_attributes(turn, event, model,
                                                                              self.config.capture_content))
            if event.error_code:
                span.set_status(Status(StatusCode.ERROR, event.error_code))
            span.end(end_time=end_ns)
        except Exception as exc:  # telemetry never breaks an answer
            self.outage.failed(f"span not built: {type(exc).__name__}")

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Send what is queued (tests, shutdown); False when it did not finish in time."""
        if self._provider is None:
            return True
        return bool(self._provider.force_flush(int(timeout_s * 1000)))

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()
            self._provider = None
            self.enabled = False


def compute_span_attributes(turn: Any, event: Any, model: str, capture_content: bool) -> dict[str, Any]:
    """The span's attributes: GenAI semantic conventions, then the loop's `aios.*` (pure)."""
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": event.provider,
        "gen_ai.request.model": model,
        "gen_ai.response.model": event.source,
        "gen_ai.response.id": event.message_id,
        "gen_ai.conversation.id": event.session_id,
        "gen_ai.usage.input_tokens": int(event.tokens.prompt),
        "gen_ai.usage.output_tokens": int(event.tokens.completion),
        # The providers report no finish reason: an answer that arrived ended normally, anything else is an error.
        "gen_ai.response.finish_reasons": ["stop"] if event.error_code is None else ["error"],
        "aios.route": event.route,
        "aios.bucket": event.bucket,
        "aios.boundary": float(event.boundary),
        "aios.complexity": float(event.complexity),
        "aios.router": event.router,
        "aios.quality": float(event.quality),
        "aios.quality.method": event.quality_method,
        "aios.latency_ms": float(event.latency_ms),
        "aios.simulated": bool(event.simulated),
        "aios.origin": event.origin,
        "aios.explored": bool(event.explored),
    }
    if event.recipe_id:
        attributes["aios.recipe_id"] = event.recipe_id
    if event.run_id:
        attributes["aios.run_id"] = event.run_id
    max_tokens = (event.request_params or {}).get("max_tokens") if hasattr(event, "request_params") else None
    if isinstance(max_tokens, int):
        attributes["gen_ai.request.max_tokens"] = max_tokens
    if event.error_code:
        attributes["error.type"] = event.error_code
    if capture_content:
        attributes["gen_ai.input.messages"] = mask_secrets(json.dumps(
            [{"role": m.get("role", "user"), "parts": [{"type": "text", "content": m.get("content", "")}]}
             for m in turn.messages], ensure_ascii=False))
        attributes["gen_ai.output.messages"] = mask_secrets(json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": event.answer}],
              "finish_reason": attributes["gen_ai.response.finish_reasons"][0]}], ensure_ascii=False))
    return attributes


class _Exporters:
    """One exporter (one queue, one background thread) per distinct configuration in a process; the
    engines of one process share it. Bounded: a process sees a handful of configurations at most."""

    MAX = 8

    def __init__(self) -> None:
        self._by_config: dict[ExportConfig, AnswerExporter] = {}
        self._lock = threading.Lock()

    def get(self, config: ExportConfig) -> AnswerExporter:
        with self._lock:
            exporter = self._by_config.get(config)
            if exporter is None:
                if len(self._by_config) >= self.MAX:
                    oldest = next(iter(self._by_config))
                    self._by_config.pop(oldest).shutdown()
                exporter = self._by_config[config] = AnswerExporter(config)
            return exporter

    def shutdown(self) -> None:
        with self._lock:
            exporters, self._by_config = list(self._by_config.values()), {}
        for exporter in exporters:
            exporter.shutdown()


_EXPORTERS = _Exporters()


def exporter_for(settings: Settings) -> AnswerExporter | None:
    """The process's exporter for these settings, or None when export is off."""
    config = ExportConfig.from_settings(settings)
    return None if config is None else _EXPORTERS.get(config)


def export_answer(settings: Settings, turn: Any, event: Any) -> None:
    """The loop's one hook: queue a span for this answer when OTLP export is configured. Never raises."""
    try:
        exporter = exporter_for(settings)
        if exporter is not None:
            exporter.export(turn, event)
    except Exception as exc:  # an exporter that cannot even be built must not cost the answer
        log.warning("OpenTelemetry export skipped: %s", type(exc).__name__)


def shutdown_exporters() -> None:
    """Flush and stop every exporter of this process (tests; each provider also stops at exit)."""
    _EXPORTERS.shutdown()
