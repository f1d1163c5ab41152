"""Layering (dashboard -> engine -> data_core), checked by walking every module's AST.

engine/ and scripts/ never import streamlit or dashboard; scripts/ import nothing of the project
but engine; dashboard pages (dashboard/app_pages/*.py), and the components they draw with, do no
file I/O or aggregation themselves: only dashboard/services*.py load data, through the engine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
UI_PACKAGES = {"streamlit", "dashboard"}
# Calls a page must leave to dashboard/services.py and the engine.
PAGE_FORBIDDEN_CALLS = {"open", "json.load", "read_json", "groupby", "read_csv", "read_text",
                        "read_bytes"}
SKIP_DIRS = {".venv", "venv", ".git", "__pycache__", "node_modules", ".pytest_cache"}


def python_files(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*.py") if not SKIP_DIRS.intersection(p.parts))


def project_top_names(root: Path = REPO_ROOT) -> set[str]:
    """Importable names that belong to this repository: its top-level packages and modules."""
    names = {p.stem for p in root.glob("*.py")}
    for child in root.iterdir():
        if child.is_dir() and child.name not in SKIP_DIRS and not child.name.startswith("."):
            if any(child.glob("*.py")) or any(child.rglob("*/__init__.py")):
                names.add(child.name)
    return names


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted module) for every import, including importlib/__import__ with a literal name.
    Relative imports are reported as "." so the caller can decide."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, "." + (node.module or "")))
            else:
                found.append((node.lineno, node.module or ""))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            name = call_name(node.func)
            if name in {"importlib.import_module", "import_module", "__import__"}:
                found.append((node.lineno, node.args[0].value))
    return found


def call_name(func: ast.AST) -> str:
    """`open`, `json.load`, `df.groupby` -> "open", "json.load", "groupby" (attribute calls on
    arbitrary objects are reduced to their method name)."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name) and func.value.id in {"json", "importlib"}:
            return f"{func.value.id}.{func.attr}"
        return func.attr
    return ""


def compute_import_violations(source: str, layer: str, project: set[str]) -> list[str]:
    """Import rules for `layer` ("engine" or "scripts"); returns human-readable problems."""
    problems = []
    for line, module in imported_modules(ast.parse(source)):
        top = module.split(".")[0]
        if top in UI_PACKAGES:
            problems.append(f"line {line}: {layer}/ imports {module} (the UI layer)")
        elif layer == "scripts" and module.startswith("."):
            problems.append(f"line {line}: scripts/ use a relative import; import from engine instead")
        elif layer == "scripts" and top in project and top != "engine":
            problems.append(f"line {line}: scripts/ import {module}; scripts may only use engine")
        elif layer == "engine" and top in project - {"engine"}:
            problems.append(f"line {line}: engine/ imports {module} from outside the engine")
    return problems


def compute_page_violations(source: str) -> list[str]:
    """A page renders what the engine returns: no file I/O, JSON loading, aggregation or log paths."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = call_name(node.func)
            if name in PAGE_FORBIDDEN_CALLS:
                problems.append(f"line {node.lineno}: calls {name}() (belongs in dashboard/services.py "
                                "or the engine)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and ".ndjson" in node.value:
            problems.append(f"line {node.lineno}: mentions a .ndjson file (read events through the engine)")
    return problems


def relative(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


@pytest.mark.parametrize("layer", ["engine", "scripts"])
def test_engine_and_scripts_respect_their_imports(layer):
    project = project_top_names()
    problems = []
    for path in python_files(REPO_ROOT / layer):
        for problem in compute_import_violations(path.read_text(encoding="utf-8"), layer, project):
            problems.append(f"{relative(path)} {problem}")
    assert not problems, "\n".join(problems)


def dashboard_files_that_only_render() -> list[Path]:
    """Pages, and every other dashboard module they draw with; only services*.py may load data."""
    return [p for p in python_files(REPO_ROOT / "dashboard") if not p.name.startswith("services")]


def test_dashboard_pages_hold_no_business_logic():
    problems = []
    for path in dashboard_files_that_only_render():
        for problem in compute_page_violations(path.read_text(encoding="utf-8")):
            problems.append(f"{relative(path)} {problem}")
    assert not problems, "\n".join(problems)


def test_the_engine_is_actually_walked():
    # Guard against a walk that silently finds nothing (and so can never fail).
    engine_files = {relative(p) for p in python_files(REPO_ROOT / "engine")}
    assert {"engine/settings.py", "engine/provenance/sink.py", "engine/cli.py"} <= engine_files
    assert {"engine", "dashboard", "tests"} <= project_top_names()


# The checkers themselves must catch what they are meant to catch.
PROJECT = {"engine", "dashboard", "scripts", "tests", "bench"}


@pytest.mark.parametrize("source,layer", [
    ("import streamlit as st", "engine"),
    ("def f():\n    from streamlit import session_state", "engine"),
    ("from dashboard.services import load_overview", "engine"),
    ("import importlib\nimportlib.import_module('streamlit')", "engine"),
    ("from tests.support.fake_openai import FakeOpenAIServer", "engine"),
    ("import streamlit", "scripts"),
    ("from dashboard import services", "scripts"),
    ("from bench.bench_provenance import main", "scripts"),
    ("import tests", "scripts"),
    ("from . import helpers", "scripts"),
])
def test_the_import_checker_catches_wrong_way_imports(source, layer):
    assert compute_import_violations(source, layer, PROJECT)


@pytest.mark.parametrize("source,layer", [
    ("import json, requests\nfrom engine.settings import get_settings\nimport engine.api", "scripts"),
    ("from engine.provenance import EventSink\nfrom . import sink\nimport pandas as pd", "engine"),
])
def test_the_import_checker_accepts_the_right_direction(source, layer):
    assert compute_import_violations(source, layer, PROJECT) == []


@pytest.mark.parametrize("source", [
    "with open('x.json') as f:\n    pass",
    "import json\ndata = json.load(handle)",
    "import pandas as pd\ndf = pd.read_json(path, lines=True)",
    "summary = df.groupby(['bucket', 'route']).quality.mean()",
    "LOG = 'data_core/analytics/hypotheses.ndjson'",
    "text = Path('x').read_text()",
])
def test_the_page_checker_catches_logic_in_pages(source):
    assert compute_page_violations(source)


def test_the_page_checker_accepts_a_rendering_page():
    source = ("import streamlit as st\nfrom dashboard import services\n"
              "df = services.load_overview()\nst.metric('Pass rate', f\"{df.pass_rate:.0%}\")\n"
              "st.plotly_chart(services.routing_figure(df))\n")
    assert compute_page_violations(source) == []
