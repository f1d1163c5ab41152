"""Which backend a path of the experiment uses: with AIOS_STORE_URL set, the settings' event log,
adaptive state and bandit database live in PostgreSQL; any other path (a golden run's own log, a
test's file) and everything when the URL is unset stay files. Imports nothing but settings, so the
sink, the state writer and the bandit store can ask it without breaking the layering; PostgreSQL's
client is imported only when a URL is set."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from engine.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreTarget:
    """The PostgreSQL store a path maps to: its URL, pool size and the experiment (the state's row)."""

    url: str
    pool_size: int
    experiment: str


def store_target(settings: Settings | None = None) -> StoreTarget | None:
    """The configured PostgreSQL store, or None when AIOS_STORE_URL is unset (files)."""
    if settings is None:
        try:
            settings = get_settings()
        except Exception:  # settings that do not validate are reported by whoever needs them; files here
            return None
    if settings.aios_store_url is None or not settings.aios_store_url.get_secret_value().strip():
        return None
    return StoreTarget(settings.aios_store_url.get_secret_value().strip(), settings.aios_store_pool_size,
                       settings.aios_experiment_seed)


def _same(path: Path | str, expected: Path) -> bool:
    try:
        return Path(path).expanduser().resolve() == expected
    except (OSError, RuntimeError):
        return False


def _target_for(path: Path | str, which: str) -> StoreTarget | None:
    try:
        settings = get_settings()
    except Exception:
        return None
    target = store_target(settings)
    if target is None:
        return None
    return target if _same(path, getattr(settings.paths, which)) else None


def log_target(path: Path | str) -> StoreTarget | None:
    """PostgreSQL when `path` is the settings' event log and a store URL is set."""
    return _target_for(path, "log")


def state_target(path: Path | str) -> StoreTarget | None:
    """PostgreSQL when `path` is the settings' adaptive state file and a store URL is set."""
    return _target_for(path, "adaptive_state")


def bandit_target(path: Path | str) -> StoreTarget | None:
    """PostgreSQL when `path` is the settings' bandit database and a store URL is set."""
    return _target_for(path, "bandit_db")
