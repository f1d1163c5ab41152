"""Configuration and health for the sidebar and Settings: which provider answers, the model config
and settings (secrets redacted), data paths, the kill switch, the raw adaptive state, the recipe
bandit's arms and the HTTP gateway's health."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

import pandas as pd

from dashboard.services.cache import cached, settings
from engine import analysis, api
from engine.errors import EngineError
from engine.settings import Settings, load_model_config

ARM_COLUMNS = ["assistant", "category", "recipe_id", "pulls", "exploit_pulls", "explored_pulls", "explored_share",
               "mean_reward", "rewards", "epsilon"]


def _load_provider_info(current: Settings) -> dict[str, Any]:
    try:
        models = load_model_config(current)
        choice = api.resolve_providers(current, models)
    except EngineError as exc:
        return {"mode": "error", "simulated": False, "reason": exc.message, "main": None, "embedder": None}
    return {"mode": choice.mode, "simulated": choice.simulated, "reason": choice.reason,
            "main": models.main.name, "embedder": models.embedder.name}


def provider_info() -> dict[str, Any]:
    """Which provider answers (sim or a server) and why; cached 30 s since `auto` probes HTTP."""
    return cached(_load_provider_info, settings(), ttl=30, max_entries=8)


def adaptive_state() -> tuple[dict[str, Any] | None, str | None]:
    """(state, error message): the raw adaptive state file, read fresh each time (it is small)."""
    try:
        return analysis.load_adaptive_state(settings().paths.adaptive_state), None
    except EngineError as exc:
        return None, exc.message


def model_config() -> tuple[dict[str, Any] | None, str | None]:
    try:
        config = load_model_config(settings())
    except EngineError as exc:
        return None, exc.message
    # safe_url: an endpoint written as http://user:key@host must not show its key.
    return {key: {**asdict(spec), "api_endpoint": api.safe_url(spec.api_endpoint)}
            for key, spec in (("main_model", config.main), ("embedder_llm", config.embedder))}, None


def settings_view() -> dict[str, Any]:
    """Settings with every secret replaced by a marker (and no credentials inside endpoint URLs)."""
    return {key: api.safe_url(value) if key.endswith("_ENDPOINT") and isinstance(value, str) else value
            for key, value in settings().redacted().items()}


def data_paths() -> dict[str, str]:
    paths = settings().paths
    return {"data dir": str(paths.root), "provenance log": str(paths.log),
            "adaptive state": str(paths.adaptive_state), "model config": str(paths.model_config),
            "goldens": str(paths.goldens_dir)}


def kill_switch() -> dict[str, Any]:
    enabled = settings().aios_adaptive_enabled
    return {"adaptive_enabled": enabled,
            "text": "adaptive routing ON" if enabled else "adaptive routing OFF (AIOS_ADAPTIVE_ENABLED=0)"}


# ---- the recipe bandit and the HTTP gateway -------------------------------------------------

def _db_stamp(path: str) -> tuple:
    # WAL mode: recent writes live in the -wal file until a checkpoint, so key on both.
    key: list[Any] = [path]
    for name in (path, path + "-wal"):
        try:
            st_ = os.stat(name)
            key += [st_.st_size, st_.st_mtime_ns]
        except FileNotFoundError:
            key += [None, None]
    return tuple(key)


def _load_bandit_arms(current: Settings) -> tuple[pd.DataFrame, dict[str, Any]]:
    stats = api.load_bandit_stats(current)
    frame = pd.DataFrame(api.compute_arm_table(stats), columns=ARM_COLUMNS)
    summary = {"enabled": stats["enabled"], "epsilon": stats["epsilon"], **stats["totals"],
               "min_initial_samples": stats["min_initial_samples"],
               "optimistic_initial_value": stats["optimistic_initial_value"]}
    return frame, summary


def bandit_arms() -> tuple[pd.DataFrame, dict[str, Any]]:
    """(one row per arm, {enabled, epsilon, selections, explored, explored_share, ...})."""
    current = settings()
    return cached(_load_bandit_arms, current, ttl=10, max_entries=8,
                  key=_db_stamp(str(current.paths.bandit_db)))


def _load_gateway_health(current: Settings) -> dict[str, Any]:
    return api.probe_gateway(current).to_dict()


def gateway_health() -> dict[str, Any]:
    """{url, up, detail, latency_ms, health} of AIOS_GATEWAY_URL's /health (cached 5 s)."""
    return cached(_load_gateway_health, settings(), ttl=5, max_entries=4)
