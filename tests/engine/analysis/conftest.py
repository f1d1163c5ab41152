"""Fixtures of the read-side tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.analysis.helpers import write_odd_log


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A fixture log with garbage, a JSON array, an empty object and a line of odd values inside."""
    return write_odd_log(tmp_path / "hypotheses.ndjson")
