"""Layering (dashboard -> engine -> data_core), checked by walking every module's AST.

engine/ and scripts/ never import streamlit or dashboard; scripts/ import nothing of the project
but engine. Inside the engine: routing imports neither providers nor provenance, analysis never
imports the loop, provenance imports no routing policy. The dashboard is app.py, app_pages/,
components/ and services/: pages import only streamlit, dashboard.services and
dashboard.components; components reach the engine only through services (runbook constants
aside); services call engine.api, engine.analysis and engine.golden (plus settings, runbook,
errors); only components/charts.py builds Plotly figures; pages and components do no file I/O or
aggregation: only dashboard/services/ loads data, through the engine.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
UI_PACKAGES = {"streamlit", "dashboard"}
# Calls a page must leave to dashboard/services/ and the engine.
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
                problems.append(f"line {node.lineno}: calls {name}() (belongs in dashboard/services/ "
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
    """Pages, and every other dashboard module they draw with; only dashboard/services/ may load data."""
    services = REPO_ROOT / "dashboard" / "services"
    return [p for p in python_files(REPO_ROOT / "dashboard") if services not in p.parents]


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


# ---- absolute import names, for the rules between packages ------------------------------------

def module_name(path: Path, root: Path = REPO_ROOT) -> str:
    """engine/routing/state.py -> engine.routing.state; a package's __init__.py -> the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str = "", is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute dotted name) for every import. `from a import b` gives "a.b" (b may be a
    submodule or an attribute: both count as reaching into a), relative imports are resolved
    against `module`, importlib/__import__ with a literal name count too."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".") if package else []
                anchor = anchor[:len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join([*anchor, *([base] if base else [])])
            found += [(node.lineno, f"{base}.{alias.name}" if base else alias.name) for alias in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) \
                and call_name(node.func) in {"importlib.import_module", "import_module", "__import__"}:
            found.append((node.lineno, node.args[0].value))
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


# Inside the engine: (importing package, package it must not import, why).
ENGINE_RULES = [
    ("engine.routing", "engine.providers", "routing decides who answers without knowing the providers"),
    ("engine.routing", "engine.provenance", "routing needs no event log (ids and times come from engine.ids)"),
    ("engine.analysis", "engine.loop", "the read side never runs the write path"),
    ("engine.provenance", "engine.routing", "the event log holds no routing policy"),
]


def compute_engine_rule_violations(source: str, module: str, is_package: bool = False) -> list[str]:
    problems = []
    for line, name in imported_names(source, module, is_package):
        for importer, forbidden, why in ENGINE_RULES:
            if within(module, importer) and within(name, forbidden):
                problems.append(f"line {line}: {module} imports {name} ({why})")
    return problems


STDLIB = set(sys.stdlib_module_names)
PAGE_IMPORTS = ("streamlit", "pandas", "plotly", "dashboard.services", "dashboard.components")
SERVICE_ENGINE_IMPORTS = ("engine.api", "engine.analysis", "engine.golden", "engine.settings", "engine.runbook",
                          "engine.errors")
COMPONENT_ENGINE_IMPORTS = ("engine.runbook",)


def compute_dashboard_import_violations(source: str, part: str, module: str = "") -> list[str]:
    """Import rules for a dashboard `part`: "pages" (app.py and app_pages/), "components" or
    "services"."""
    problems = []
    for line, name in imported_names(source, module):
        top = name.split(".")[0]
        if part == "pages":
            if top not in STDLIB and not any(within(name, allowed) for allowed in PAGE_IMPORTS):
                problems.append(f"line {line}: a page imports {name}; pages use only streamlit, "
                                "dashboard.services and dashboard.components")
        elif top == "engine":
            allowed = SERVICE_ENGINE_IMPORTS if part == "services" else COMPONENT_ENGINE_IMPORTS
            if not any(within(name, prefix) for prefix in allowed):
                problems.append(f"line {line}: dashboard {part} import {name}; they may reach only "
                                + ", ".join(allowed))
        elif part == "services" and (within(name, "dashboard.components") or within(name, "dashboard.app_pages")):
            problems.append(f"line {line}: services import {name}; services draw nothing")
    return problems


def compute_plotly_violations(source: str) -> list[str]:
    """Figures are built only in components/charts.py: elsewhere a plotly name may be imported
    (for type hints) but never called."""
    tree = ast.parse(source)
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound |= {alias.asname or alias.name.split(".")[0] for alias in node.names
                      if within(alias.name, "plotly")}
        elif isinstance(node, ast.ImportFrom) and node.module and within(node.module, "plotly"):
            bound |= {alias.asname or alias.name for alias in node.names}
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            root = node.func
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                problems.append(f"line {node.lineno}: builds a Plotly figure (belongs in components/charts.py)")
    return problems


def dashboard_part(path: Path) -> str:
    relative_parts = path.relative_to(REPO_ROOT / "dashboard").parts
    if relative_parts[0] in {"app.py", "app_pages"}:
        return "pages"
    return relative_parts[0] if relative_parts[0] in {"components", "services"} else "other"


def test_engine_packages_respect_the_rules_between_them():
    problems = []
    for path in python_files(REPO_ROOT / "engine"):
        source = path.read_text(encoding="utf-8")
        for problem in compute_engine_rule_violations(source, module_name(path), path.name == "__init__.py"):
            problems.append(f"{relative(path)} {problem}")
    assert not problems, "\n".join(problems)


def test_the_dashboard_is_app_pages_components_and_services():
    dashboard = REPO_ROOT / "dashboard"
    entries = {p.name for p in dashboard.iterdir() if p.name not in SKIP_DIRS}
    assert entries == {"__init__.py", "app.py", "app_pages", "components", "services"}
    assert {p.name for p in (dashboard / "app_pages").glob("*.py")} >= {"overview.py", "routing.py", "goldens.py"}
    assert (dashboard / "services" / "__init__.py").exists() and (dashboard / "components" / "charts.py").exists()


def test_dashboard_layers_import_only_what_they_may():
    problems = []
    for path in python_files(REPO_ROOT / "dashboard"):
        part = dashboard_part(path)
        source = path.read_text(encoding="utf-8")
        found = compute_dashboard_import_violations(source, part, module_name(path)) if part != "other" else []
        if path != REPO_ROOT / "dashboard" / "components" / "charts.py":
            found += compute_plotly_violations(source)
        problems += [f"{relative(path)} {problem}" for problem in found]
    assert not problems, "\n".join(problems)


# The new checkers catch what they are meant to catch, and accept the right direction.
@pytest.mark.parametrize("source,module", [
    ("from engine.providers import resolve_providers", "engine.routing.routers"),
    ("import engine.provenance.sink", "engine.routing.state"),
    ("from engine import provenance", "engine.routing.adaptive"),
    ("from ..providers.egress import safe_url", "engine.routing.routers"),
    ("from engine.loop.engine import Engine", "engine.analysis.figures"),
    ("def f():\n    from engine import loop", "engine.analysis.status"),
    ("from engine.routing.routers import TRAITS", "engine.provenance.events"),
    ("import importlib\nimportlib.import_module('engine.routing.adaptive')", "engine.provenance.sink"),
])
def test_the_engine_rule_checker_catches_wrong_way_imports(source, module):
    assert compute_engine_rule_violations(source, module)


@pytest.mark.parametrize("source,module", [
    ("from engine.ids import new_id\nfrom engine import runbook\nfrom .bucketing import BUCKETS",
     "engine.routing.state"),
    ("from engine.provenance.reader import parse_lines\nfrom engine.routing.adaptive import AdaptiveConfig",
     "engine.analysis.figures"),
    ("from engine.loop.records import AskRequest\nfrom engine.providers import resolve_providers", "engine.api"),
    ("from engine.ids import utc_now_iso\nfrom . import sink", "engine.provenance"),
])
def test_the_engine_rule_checker_accepts_allowed_imports(source, module):
    assert compute_engine_rule_violations(source, module, module == "engine.provenance") == []


def test_relative_imports_are_resolved_against_their_package():
    assert imported_names("from . import sink", "engine.provenance", is_package=True) == [(1, "engine.provenance.sink")]
    assert imported_names("from ..loop import engine", "engine.analysis.figures") == [(1, "engine.loop.engine")]


@pytest.mark.parametrize("source,part", [
    ("from engine.analysis import compute_headline", "pages"),
    ("from engine import api", "pages"),
    ("import duckdb", "pages"),
    ("from dashboard.app_pages import overview", "pages"),
    ("from engine.errors import EngineError", "components"),
    ("from engine.analysis.figures import Filters", "components"),
    ("from engine.providers import resolve_providers", "services"),
    ("from engine.prompts.bandit import load_bandit_stats", "services"),
    ("from engine import loop", "services"),
    ("from dashboard.components.charts import bucket_split_chart", "services"),
])
def test_the_dashboard_import_checker_catches_wrong_imports(source, part):
    assert compute_dashboard_import_violations(source, part)


@pytest.mark.parametrize("source,part", [
    ("import json\nimport pandas as pd\nimport streamlit as st\nfrom dashboard import services\n"
     "from dashboard.components.format import fmt_count\nimport plotly.graph_objects as go", "pages"),
    ("import streamlit as st\nfrom dashboard import services\nfrom engine.runbook import CONTROL", "components"),
    ("from engine import analysis, api\nfrom engine.golden.runner import record_baseline\n"
     "from engine.settings import get_settings\nfrom engine.errors import EngineError\nimport streamlit", "services"),
])
def test_the_dashboard_import_checker_accepts_allowed_imports(source, part):
    assert compute_dashboard_import_violations(source, part) == []


@pytest.mark.parametrize("source", [
    "import plotly.express as px\nfig = px.bar(df, x='bucket')",
    "import plotly.graph_objects as go\nfig = go.Figure()\nfig.add_hline(y=0.95)",
    "from plotly import graph_objects as go\nst.plotly_chart(go.Figure(go.Scatter(x=[1])))",
    "from plotly.graph_objects import Figure\nfig = Figure()",
])
def test_the_plotly_checker_catches_figures_outside_charts(source):
    assert compute_plotly_violations(source)


def test_the_plotly_checker_accepts_drawing_a_figure_from_charts():
    source = ("import plotly.graph_objects as go\nimport streamlit as st\nfrom dashboard.components import charts\n"
              "def render(series) -> go.Figure:\n    st.plotly_chart(charts.pass_rate_chart(series))\n")
    assert compute_plotly_violations(source) == []
