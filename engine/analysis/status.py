"""The system overview behind `python -m engine status` (runbook 004's get_system_overview)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.provenance.sink import not_a_log_file
from engine.providers import resolve_providers
from engine.providers.egress import safe_url
from engine.routing.state import read_state_file
from engine.runbook import MAIN
from engine.settings import Settings, load_model_config


@dataclass
class ModelStatus:
    role: str
    name: str
    endpoint: str
    provider: str
    answers: bool
    detail: str


@dataclass
class SystemStatus:
    profile: str
    provider_mode: str
    provider_reason: str
    simulated: bool
    models: list[ModelStatus]
    paths: dict[str, str]
    event_count: int
    log_bytes: int
    adaptive_enabled: bool
    adaptive: dict[str, Any] | None
    egress: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_lines(path: Path) -> tuple[int, int]:
    """(newline count, size in bytes) of a file, read in 1 MiB chunks; (0, 0) when missing."""
    try:
        with open(path, "rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
            return lines, handle.tell()
    except FileNotFoundError:
        return 0, 0
    except (IsADirectoryError, NotADirectoryError):
        raise not_a_log_file(path) from None


def load_adaptive_summary(path: Path) -> dict[str, Any] | None:
    """Bucket sample counts and boundaries from the adaptive state file, as the runbook reads it.

    None when there is no state yet; {"error": ...} when the file holds no usable state.
    """
    found = read_state_file(path)
    if found.problem is not None:
        return {"error": f"{path} is not a readable adaptive state"}
    if found.state is None:
        return None
    summary = {}
    for name, bucket in found.state.buckets.items():
        answered = sum(r.count for r in bucket.routes.values())
        quality = sum(r.quality_sum for r in bucket.routes.values())
        summary[name] = {"sample_count": bucket.sample_count, "boundary": bucket.boundary,
                         "adaptations": bucket.adaptations,
                         "main_share": round(bucket.routes[MAIN].count / answered, 4) if answered else None,
                         "mean_quality": round(quality / answered, 4) if answered else None}
    return summary


def compute_status(settings: Settings) -> SystemStatus:
    models = load_model_config(settings)
    choice = resolve_providers(settings, models)
    rows = []
    for spec, provider in ((models.main, choice.main), (models.embedder, choice.embedder)):
        answers, detail = provider.ping()
        # safe_url: an endpoint written with user:key@host must not print its key.
        rows.append(ModelStatus(spec.role, spec.name, safe_url(spec.api_endpoint),
                                provider.name, answers, detail))
    paths = settings.paths
    events, size = count_lines(paths.log)
    from engine.store.select import log_target

    if (target := log_target(paths.log)) is not None:  # the shared store (AIOS_STORE_URL) holds the events
        from engine.store.postgres import count_events

        events, size = count_events(target)
    return SystemStatus(
        profile=settings.aios_profile,
        provider_mode=choice.mode,
        provider_reason=choice.reason,
        simulated=choice.simulated,
        models=rows,
        paths={"data_dir": str(paths.root), "log": str(paths.log),
               "adaptive_state": str(paths.adaptive_state), "model_config": str(paths.model_config),
               "goldens": str(paths.goldens_dir)},
        event_count=events,
        log_bytes=size,
        adaptive_enabled=settings.aios_adaptive_enabled,
        adaptive=load_adaptive_summary(paths.adaptive_state),
        egress={"no_net_mode": settings.no_net_mode, "provider_allowlist": settings.provider_allowlist,
                "egress_allowlist": settings.egress_allowlist},
    )


def render_status_text(status: SystemStatus) -> str:
    lines = [
        f"profile        {status.profile}",
        f"provider       {status.provider_mode}{'  [SIMULATED]' if status.simulated else ''}",
        f"               {status.provider_reason}",
    ]
    for model in status.models:
        mark = "answers" if model.answers else "NOT ANSWERING"
        lines.append(f"{model.role:<14} {model.name} ({model.provider}) {mark}: {model.detail}")
    lines.append(f"data dir       {status.paths['data_dir']}")
    lines.append(f"log            {status.paths['log']} ({status.event_count} events, {status.log_bytes} bytes)")
    lines.append(f"adaptive       {'enabled' if status.adaptive_enabled else 'DISABLED (AIOS_ADAPTIVE_ENABLED=0)'}")
    if status.adaptive is None:
        lines.append("               no adaptive state yet (it starts with the first question)")
    else:
        if "error" in status.adaptive:
            lines.append(f"               {status.adaptive['error']}")
        else:
            lines.append(f"               {'bucket':<10} {'answers':>8} {'boundary':>9} {'adaptations':>11} "
                         f"{'main %':>7} {'quality':>8}")
            for name, bucket in status.adaptive.items():
                share, quality = bucket.get("main_share"), bucket.get("mean_quality")
                lines.append(f"               {name:<10} {bucket.get('sample_count', 0):>8} "
                             f"{bucket.get('boundary', 0.0):>9.3f} {bucket.get('adaptations', 0):>11} "
                             f"{'-' if share is None else f'{100 * share:.1f}%':>7} "
                             f"{'-' if quality is None else f'{quality:.3f}':>8}")
    egress = status.egress
    lines.append(f"egress         NO_NET_MODE={str(egress['no_net_mode']).lower()} "
                 f"PROVIDER_ALLOWLIST={','.join(egress['provider_allowlist'])} "
                 f"EGRESS_ALLOWLIST={','.join(egress['egress_allowlist'])}")
    return "\n".join(lines)
