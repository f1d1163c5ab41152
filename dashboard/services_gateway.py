"""Cached loaders for the gateway's parts of the dashboard: the recipe bandit's arms and the HTTP
gateway's health. Nothing draws here; the numbers come from engine.prompts.bandit and engine.gateway.probe."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import services
from engine.gateway.probe import probe_gateway
from engine.prompts.bandit import compute_arm_table, load_bandit_stats

ARM_COLUMNS = ["assistant", "category", "recipe_id", "pulls", "exploit_pulls", "explored_pulls", "explored_share",
               "mean_reward", "rewards", "epsilon"]


def _db_key(path: str) -> tuple:
    # WAL mode: recent writes live in the -wal file until a checkpoint, so key on both.
    key = [path]
    for name in (path, path + "-wal"):
        try:
            st_ = os.stat(name)
            key += [st_.st_size, st_.st_mtime_ns]
        except FileNotFoundError:
            key += [None, None]
    return tuple(key)


@st.cache_data(ttl=10, max_entries=8, show_spinner=False)
def _cached_bandit(key: tuple, bandit_enabled: bool) -> tuple[pd.DataFrame, dict[str, Any]]:
    stats = load_bandit_stats(services.settings())
    frame = pd.DataFrame(compute_arm_table(stats), columns=ARM_COLUMNS)
    summary = {"enabled": stats["enabled"], "epsilon": stats["epsilon"], **stats["totals"],
               "min_initial_samples": stats["min_initial_samples"],
               "optimistic_initial_value": stats["optimistic_initial_value"]}
    return frame, summary


def bandit_arms() -> tuple[pd.DataFrame, dict[str, Any]]:
    """(one row per arm, {enabled, epsilon, selections, explored, explored_share, ...})."""
    settings = services.settings()
    key = _db_key(str(settings.paths.bandit_db)) + (str(settings.paths.recipes_dir),)
    if not services.cache_enabled():
        return _cached_bandit.__wrapped__(key, settings.bandit_enabled)
    return _cached_bandit(key, settings.bandit_enabled)


@st.cache_data(ttl=5, max_entries=4, show_spinner=False)
def _cached_health(url: str, no_net_mode: bool) -> dict[str, Any]:
    return probe_gateway(services.settings()).to_dict()


def gateway_health() -> dict[str, Any]:
    """{url, up, detail, latency_ms, health} of AIOS_GATEWAY_URL's /health (cached 5 s)."""
    settings = services.settings()
    if not services.cache_enabled():
        return probe_gateway(settings).to_dict()
    return _cached_health(settings.aios_gateway_url, settings.no_net_mode)
