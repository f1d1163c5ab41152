"""engine.analysis is the read side's one door: every public name resolves, the surface is exactly what
it declares, and a command that needs only statistics or the state does not import pandas or DuckDB."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from engine import analysis

INIT = Path(analysis.__file__)


def declared_imports() -> set[str]:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    guarded = next(node for node in tree.body if isinstance(node, ast.If))  # `if TYPE_CHECKING:`
    return {alias.name for node in guarded.body if isinstance(node, ast.ImportFrom) for alias in node.names}


def test_the_public_surface_is_exactly_the_declared_imports():
    assert set(analysis.__all__) == declared_imports() and len(analysis.__all__) == len(set(analysis.__all__))


@pytest.mark.parametrize("name", analysis.__all__)
def test_every_public_name_resolves_to_the_read_sides_own_definition(name):
    value = getattr(analysis, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__.startswith(("engine.analysis.", "engine.routing.state")), (name, value.__module__)
    assert name in dir(analysis)


def test_the_dashboards_names_keep_their_signatures():
    for name in ("compute_headline", "compute_bucket_split", "compute_hypothesis_pass_rates"):
        assert list(inspect.signature(getattr(analysis, name)).parameters) == ["store", "filters"]
    assert list(inspect.signature(analysis.load_event_page).parameters)[:2] == ["path", "filters"]
    assert "since" in inspect.signature(analysis.load_hypothesis_summary).parameters
    with pytest.raises(AttributeError, match="no attribute 'no_such_figure'"):
        analysis.no_such_figure  # noqa: B018


def test_statistics_and_state_readers_do_not_import_pandas_or_duckdb():
    code = ("import sys\n"
            "from engine import analysis\n"
            "analysis.compute_welch, analysis.compute_boundary_drift, analysis.read_state, analysis.compute_status\n"
            "import engine.golden.slo, engine.commands.quality_alert, engine.commands.status\n"
            "print(sorted(m for m in ('pandas', 'duckdb') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=INIT.parents[2], check=True)
    assert done.stdout.strip() == "[]"
