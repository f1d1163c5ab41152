"""Every test runs against its own AIOS_DATA_DIR (a temporary folder) on the simulator, with no
secrets and no AIOS_* variables leaking in from the developer's shell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.settings import REPO_ROOT, reset_settings

LEAKY_PREFIXES = ("AIOS_", "HF_TOKEN", "OPENAI_API_KEY", "PROVIDER_ALLOWLIST", "EGRESS_ALLOWLIST",
                  "NO_NET_MODE", "BANDIT_ENABLED", "RECIPES_", "VALIDATION_STRICT")


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(LEAKY_PREFIXES):
            monkeypatch.delenv(name)
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("AIOS_DATA_DIR", str(folder))
    monkeypatch.setenv("AIOS_PROVIDER", "sim")
    monkeypatch.setenv("AIOS_SIM_LATENCY_SCALE", "0")
    # Routes follow the router exactly unless a test turns exploration on (AIOS_EXPLORE_RATE).
    monkeypatch.setenv("AIOS_EXPLORE_RATE", "0")
    reset_settings()
    yield folder
    reset_settings()


@pytest.fixture(scope="session", autouse=True)
def repo_data_untouched():
    """No test may write the repository's own data_core/analytics."""
    analytics = REPO_ROOT / "data_core" / "analytics"
    before = sorted(p.name for p in analytics.glob("*")) if analytics.exists() else []
    yield
    after = sorted(p.name for p in analytics.glob("*")) if analytics.exists() else []
    assert after == before, f"tests wrote into {analytics}: {sorted(set(after) - set(before))}"
