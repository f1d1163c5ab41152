"""Prompt recipes: JSON files (id, assistant, category, system-prompt template, packs, operators),
validated on load, reloaded per RECIPES_RELOAD_MODE, planned and applied to a prompt.

Validation follows the legacy v1 rules: a file that is not JSON or breaks the schema is always
excluded; a semantic problem (unknown operator, pack or placeholder, bad operator parameter) is a
warning that drops the offending part, unless VALIDATION_STRICT=1 makes it exclude the recipe
(for every recipe with VALIDATION_STRICT_SCOPE=all, only law/medical ones with =critical).
"""

from __future__ import annotations

import json
import logging
import os
import re
import string
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

SHIPPED_RECIPES_DIR = REPO_ROOT / "data_core" / "recipes"
CRITICAL_CATEGORIES = frozenset({"law", "medical"})
TEMPLATE_FIELDS = frozenset({"assistant", "category"})
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
ASSIST_JSON_INVALID = "ASSIST_JSON_INVALID"
MAX_ASSIST_PROMPT_CHARS = 8000


class UnknownRecipeError(InputError):
    """A recipe id (or an assistant/category pair) that no loaded recipe has."""

    code = "UNKNOWN_RECIPE"


# --------------------------------------------------------------------------- operators

@dataclass
class PromptState:
    """What operators transform: the system-prompt parts and the user's prompt."""

    system: list[str]
    prompt: str

    @property
    def system_prompt(self) -> str:
        return "\n\n".join(part for part in self.system if part)


@dataclass(frozen=True)
class OperatorSpec:
    """A known operator: its parameter checker and whether it calls a model (assist)."""

    name: str
    check: Callable[[dict[str, Any]], str | None]  # returns a problem, or None when params are fine
    assist: bool = False
    doc: str = ""


def _no_params(params: dict[str, Any]) -> str | None:
    return f"takes no parameters (got {sorted(params)})" if params else None


def _check_constraints(params: dict[str, Any]) -> str | None:
    extra = set(params) - {"items"}
    if extra:
        return f"unknown parameters {sorted(extra)}"
    items = params.get("items")
    if items is not None and (not isinstance(items, list) or not all(isinstance(i, str) and i for i in items)):
        return "items must be a list of non-empty strings"
    return None


IO_FORMATS = {
    "markdown": "Format the answer in Markdown with short sections.",
    "bullets": "Answer as a short bulleted list.",
    "plain": "Answer in plain prose without Markdown.",
    "code": "Put code in fenced code blocks with the language named, then explain briefly.",
    "json": "Answer with a single JSON object and nothing else.",
}


def _check_io_format(params: dict[str, Any]) -> str | None:
    extra = set(params) - {"format"}
    if extra:
        return f"unknown parameters {sorted(extra)}"
    fmt = params.get("format", "markdown")
    return None if fmt in IO_FORMATS else f"format must be one of {sorted(IO_FORMATS)}"


def _check_max_chars(params: dict[str, Any]) -> str | None:
    extra = set(params) - {"limit"}
    if extra:
        return f"unknown parameters {sorted(extra)}"
    limit = params.get("limit", 4000)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 16 <= limit <= 100_000:
        return "limit must be an integer between 16 and 100000"
    return None


OPERATORS: dict[str, OperatorSpec] = {spec.name: spec for spec in (
    OperatorSpec("normalize_ws", _no_params, doc="collapse runs of whitespace in the prompt"),
    OperatorSpec("role_hdr", _no_params, doc="state the assistant's role in the system prompt"),
    OperatorSpec("constraints", _check_constraints, doc="add a constraints list to the system prompt"),
    OperatorSpec("io_format", _check_io_format, doc="ask for an output format"),
    OperatorSpec("quality_bar", _no_params, doc="ask the model to check its answer before sending"),
    OperatorSpec("max_prompt_chars", _check_max_chars, doc="truncate an overlong prompt"),
    OperatorSpec("assist_clarify", _no_params, assist=True,
                 doc="ask a model to rewrite the prompt more clearly; expects JSON {\"prompt\": ...}"),
)}

DEFAULT_CONSTRAINTS = ["Be accurate; say so when you are unsure.",
                       "Stay on the question; do not pad the answer."]


def _add_system(state: PromptState, text: str, *, first: bool = False) -> None:
    # A pack may repeat what the recipe already asked for; say it once.
    if text in state.system:
        return
    if first:
        state.system.insert(0, text)
    else:
        state.system.append(text)


def _apply_local(op: str, params: dict[str, Any], state: PromptState, recipe: Recipe) -> None:
    """Apply a non-assist operator in place."""
    if op == "normalize_ws":
        state.prompt = " ".join(state.prompt.split())
    elif op == "role_hdr":
        _add_system(state, f"You are an expert {recipe.category} assistant.", first=True)
    elif op == "constraints":
        items = params.get("items") or DEFAULT_CONSTRAINTS
        _add_system(state, "Constraints:\n" + "\n".join(f"- {item}" for item in items))
    elif op == "io_format":
        _add_system(state, IO_FORMATS[params.get("format", "markdown")])
    elif op == "quality_bar":
        _add_system(state, "Before answering, check that the answer is complete, correct and "
                           "addresses every part of the question.")
    elif op == "max_prompt_chars":
        limit = int(params.get("limit", 4000))
        if len(state.prompt) > limit:
            state.prompt = state.prompt[:limit]
    else:  # validated on load, so this is a programming error
        raise KeyError(op)


# --------------------------------------------------------------------------- packs

@dataclass(frozen=True)
class Pack:
    """A named bundle of operators applied only when its condition matches the prompt/recipe."""

    name: str
    operators: tuple[tuple[str, dict[str, Any]], ...]
    when: Callable[[str, Recipe], bool]
    doc: str


CODE_HINT = re.compile(r"```|\bdef |\bclass |\b(function|traceback|exception|stack trace|compile|"
                       r"python|javascript|sql|regex|bug)\b", re.I)

PACKS: dict[str, Pack] = {pack.name: pack for pack in (
    Pack("code_fence", (("io_format", {"format": "code"}),),
         lambda prompt, recipe: bool(CODE_HINT.search(prompt)),
         "the prompt mentions code: ask for fenced code blocks"),
    Pack("concise", (("constraints", {"items": ["Answer in at most three sentences."]}),),
         lambda prompt, recipe: len(prompt.split()) <= 12,
         "a short question gets a short answer"),
    Pack("safety_disclaimer",
         (("constraints", {"items": ["Give general information only, not professional advice, "
                                     "and say when to consult a professional."]}),),
         lambda prompt, recipe: recipe.category in CRITICAL_CATEGORIES,
         "law and medical recipes add a disclaimer"),
)}


# --------------------------------------------------------------------------- recipes

@dataclass(frozen=True)
class Recipe:
    id: str
    assistant: str
    category: str
    system_prompt: str
    operators: tuple[tuple[str, dict[str, Any]], ...] = ()
    packs: tuple[str, ...] = ()
    default: bool = False
    description: str = ""
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "assistant": self.assistant, "category": self.category,
                "default": self.default, "description": self.description,
                "system_prompt": self.system_prompt, "packs": list(self.packs),
                "operators": [{"op": op, **params} for op, params in self.operators],
                "path": self.path}

    def render_system(self) -> str:
        """The system-prompt template with {assistant} and {category} filled in."""
        return _safe_format(self.system_prompt, {"assistant": self.assistant, "category": self.category})


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _safe_format(template: str, values: dict[str, str]) -> str:
    try:
        return string.Formatter().vformat(template, (), _KeepMissing(values))
    except (ValueError, IndexError, KeyError, AttributeError):
        return template


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found while loading recipes (shape of the legacy diagnostics taxonomy)."""

    file_path: str
    error: str
    error_type: str  # json_parse | schema_validation | semantic_validation | io_error
    severity: str  # error (recipe excluded) | warning (recipe loaded without the bad part)
    recipe_id: str | None = None
    line_number: int | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RecipeSet:
    """The recipes loaded from one folder, and what was wrong with the rest."""

    directory: Path
    source: str  # "data" (the data dir's recipes/) or "shipped" (the repository defaults)
    recipes: dict[str, Recipe] = field(default_factory=dict)
    issues: list[ValidationIssue] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # file paths not loaded
    loaded_at: float = 0.0
    signature: tuple = ()

    def for_pair(self, assistant: str, category: str) -> list[Recipe]:
        """Recipes of one (assistant, category), default first, then by id."""
        found = [r for r in self.recipes.values() if r.assistant == assistant and r.category == category]
        return sorted(found, key=lambda r: (not r.default, r.id))

    def pairs(self) -> list[tuple[str, str]]:
        return sorted({(r.assistant, r.category) for r in self.recipes.values()})

    def default_for(self, assistant: str, category: str) -> Recipe | None:
        found = self.for_pair(assistant, category)
        return found[0] if found else None

    def get(self, recipe_id: str) -> Recipe:
        try:
            return self.recipes[recipe_id]
        except KeyError:
            raise UnknownRecipeError(f"unknown recipe_id {recipe_id!r}; loaded: "
                                     f"{', '.join(sorted(self.recipes)) or 'none'}") from None


def _strict_applies(category: str, settings: Settings) -> bool:
    if not settings.validation_strict:
        return False
    return settings.validation_strict_scope == "all" or category in CRITICAL_CATEGORIES


def compute_recipe(data: Any, path: str, settings: Settings) -> tuple[Recipe | None, list[ValidationIssue]]:
    """Validate one decoded recipe file. Pure: returns the recipe (None if excluded) and issues."""
    issues: list[ValidationIssue] = []

    def schema(message: str, field_name: str | None) -> tuple[None, list[ValidationIssue]]:
        rid = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
        issues.append(ValidationIssue(path, message, "schema_validation", "error", rid, field=field_name))
        return None, issues

    if not isinstance(data, dict):
        return schema("a recipe file must hold one JSON object", None)
    for name in ("id", "assistant", "category", "system_prompt"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            return schema(f"field {name} is required and must be a non-empty string", name)
    if not ID_PATTERN.match(data["id"]):
        return schema("field id may hold letters, digits and _.:- only (max 128 chars)", "id")
    for name in ("assistant", "category"):
        if not ID_PATTERN.match(data[name]):
            return schema(f"field {name} may hold letters, digits and _.:- only", name)
    if not isinstance(data.get("operators", []), list):
        return schema("field operators must be a list", "operators")
    if not isinstance(data.get("packs", []), list):
        return schema("field packs must be a list of pack names", "packs")
    if not isinstance(data.get("default", False), bool):
        return schema("field default must be true or false", "default")
    if not isinstance(data.get("description", ""), str):
        return schema("field description must be a string", "description")

    rid, category = data["id"], data["category"]
    strict = _strict_applies(category, settings)
    semantic: list[tuple[str, str]] = []  # (message, field)

    known_fields = {"id", "assistant", "category", "system_prompt", "operators", "packs", "default",
                    "description"}
    for extra in sorted(set(data) - known_fields):
        semantic.append((f"unknown field {extra!r} (ignored)", extra))
    try:
        placeholders = {name for _, name, _, _ in string.Formatter().parse(data["system_prompt"]) if name is not None}
    except ValueError as exc:
        placeholders = set()
        semantic.append((f"system_prompt is not a valid template ({exc})", "system_prompt"))
    for name in sorted(placeholders - TEMPLATE_FIELDS):
        semantic.append((f"system_prompt uses unknown placeholder {{{name}}} (allowed: "
                         f"{', '.join(sorted(TEMPLATE_FIELDS))})", "system_prompt"))

    operators: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(data.get("operators", [])):
        where = f"operators[{index}]"
        if isinstance(entry, str):
            op, params = entry, {}
        elif isinstance(entry, dict) and isinstance(entry.get("op"), str):
            op, params = entry["op"], {k: v for k, v in entry.items() if k != "op"}
        else:
            semantic.append(("an operator is a name or an object with an \"op\" name", where))
            continue
        spec = OPERATORS.get(op)
        if spec is None:
            semantic.append((f"unknown operator {op!r} (known: {', '.join(sorted(OPERATORS))})", where))
            continue
        problem = spec.check(params)
        if problem:
            semantic.append((f"operator {op}: {problem}", where))
            continue
        operators.append((op, params))

    packs: list[str] = []
    for index, name in enumerate(data.get("packs", [])):
        if not isinstance(name, str) or name not in PACKS:
            semantic.append((f"unknown pack {name!r} (known: {', '.join(sorted(PACKS))})", f"packs[{index}]"))
        elif name not in packs:
            packs.append(name)

    severity = "error" if strict else "warning"
    for message, field_name in semantic:
        issues.append(ValidationIssue(path, message, "semantic_validation", severity, rid, field=field_name))
    if strict and semantic:
        return None, issues
    recipe = Recipe(id=rid, assistant=data["assistant"], category=category,
                    system_prompt=data["system_prompt"], operators=tuple(operators), packs=tuple(packs),
                    default=data.get("default", False), description=data.get("description", ""), path=path)
    return recipe, issues


def recipes_source(settings: Settings) -> tuple[Path, str]:
    """The folder to load: the data dir's recipes/ when it holds any *.json, else the shipped set."""
    folder = settings.paths.recipes_dir
    try:
        if any(p.suffix == ".json" for p in folder.iterdir()):
            return folder, "data"
    except (FileNotFoundError, NotADirectoryError):
        pass
    return SHIPPED_RECIPES_DIR, "shipped"


def compute_signature(folder: Path) -> tuple:
    """(name, mtime_ns, size) of every *.json in a folder: a cheap change detector."""
    try:
        entries = []
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.endswith(".json") and entry.is_file():
                    st = entry.stat()
                    entries.append((entry.name, st.st_mtime_ns, st.st_size))
    except (FileNotFoundError, NotADirectoryError):
        return ()
    return tuple(sorted(entries))


def load_recipes(settings: Settings) -> RecipeSet:
    """Read and validate every *.json recipe of the active folder (see `recipes_source`)."""
    folder, source = recipes_source(settings)
    result = RecipeSet(directory=folder, source=source, loaded_at=time.time(),
                       signature=compute_signature(folder))
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    for path in files:
        shown = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.issues.append(ValidationIssue(shown, f"cannot read: {type(exc).__name__}", "io_error", "error"))
            result.excluded.append(shown)
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            result.issues.append(ValidationIssue(shown, f"not valid JSON: {exc.msg}", "json_parse", "error",
                                                 line_number=exc.lineno))
            result.excluded.append(shown)
            continue
        recipe, issues = compute_recipe(data, shown, settings)
        result.issues.extend(issues)
        if recipe is None:
            result.excluded.append(shown)
        elif recipe.id in result.recipes:
            result.issues.append(ValidationIssue(
                shown, f"duplicate recipe id {recipe.id!r} (first defined in {result.recipes[recipe.id].path})",
                "schema_validation", "error", recipe.id, field="id"))
            result.excluded.append(shown)
        else:
            result.recipes[recipe.id] = recipe
    if not files:
        result.issues.append(ValidationIssue(str(folder), "no recipe files (*.json) found", "io_error", "warning"))
    return result


class RecipeStore:
    """The current RecipeSet of one process, reloaded per RECIPES_RELOAD_MODE on access.

    events: an access compares the folder's (name, mtime, size) signature (one scandir, tens of
    microseconds), at most every CHECK_INTERVAL_S; a change is loaded once the folder has been
    quiet for RECIPES_DEBOUNCE_MS, so a file caught half-written by an editor is not loaded.
    poll: reload when the last load is older than RECIPES_RELOAD_INTERVAL_SECONDS. off: load once.
    """

    CHECK_INTERVAL_S = 0.05

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._current: RecipeSet | None = None
        self._loaded_mono = 0.0
        self._pending: tuple[tuple, float] | None = None  # (signature seen, first seen at)
        self._checked_mono = float("-inf")
        self.reloads = 0

    def reload(self) -> RecipeSet:
        with self._lock:
            return self._reload_locked()

    def _reload_locked(self) -> RecipeSet:
        self._current = load_recipes(self.settings)
        self._loaded_mono = self._clock()
        self._pending = None
        self.reloads += 1
        errors = sum(1 for i in self._current.issues if i.severity == "error")
        log.info("recipes loaded from %s: %d recipes, %d issues (%d errors)", self._current.directory,
                 len(self._current.recipes), len(self._current.issues), errors)
        return self._current

    def get(self) -> RecipeSet:
        current = self._current
        if current is None:
            return self.reload()
        mode = self.settings.recipes_reload_mode
        if mode == "off":
            return current
        now = self._clock()
        if mode == "poll":
            if now - self._loaded_mono >= self.settings.recipes_reload_interval_seconds:
                return self.reload()
            return current
        if now - self._checked_mono < self.CHECK_INTERVAL_S:
            return current
        self._checked_mono = now
        folder, _ = recipes_source(self.settings)
        signature = compute_signature(folder)
        if folder == current.directory and signature == current.signature:
            self._pending = None
            return current
        with self._lock:
            if self._pending is None or self._pending[0] != signature:
                self._pending = (signature, now)
            if (now - self._pending[1]) * 1000 >= self.settings.recipes_debounce_ms:
                return self._reload_locked()
            return self._current or current


# --------------------------------------------------------------------------- plan and transform

@dataclass
class PlannedOperator:
    op: str
    params: dict[str, Any]
    source: str  # "recipe" or "pack:<name>"
    assist: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    recipe: Recipe
    packs_applied: list[str]
    operator_plan: list[PlannedOperator]

    def to_dict(self) -> dict[str, Any]:
        return {"recipe": self.recipe.to_dict(), "packs_applied": self.packs_applied,
                "operator_plan": [op.to_dict() for op in self.operator_plan]}


def compute_plan(recipe: Recipe, prompt: str) -> Plan:
    """Which packs apply to this prompt and the ordered operators to run. Calls no model."""
    packs_applied = [name for name in recipe.packs if PACKS[name].when(prompt, recipe)]
    plan = [PlannedOperator(op, dict(params), "recipe", OPERATORS[op].assist) for op, params in recipe.operators]
    for name in packs_applied:
        plan += [PlannedOperator(op, dict(params), f"pack:{name}", OPERATORS[op].assist)
                 for op, params in PACKS[name].operators]
    return Plan(recipe, packs_applied, plan)


AssistCall = Callable[[list[dict[str, str]]], tuple[str | None, str | None, str | None]]
"""An assist model call: messages -> (text, error_code, error_message)."""

ASSIST_INSTRUCTIONS = ('Rewrite the user\'s prompt so that it is clear and self-contained, keeping its '
                       'meaning. Reply with JSON only: {"prompt": "<the rewritten prompt>"}')


def compute_assist_reply(text: str) -> str:
    """The rewritten prompt from an assist model's reply; raises ValueError when it is not the JSON asked for."""
    cleaned = text.strip()
    if cleaned.startswith("```"):
        cleaned = cleaned.strip("`").removeprefix("json").strip()
    data = json.loads(cleaned)
    if not isinstance(data, dict) or not isinstance(data.get("prompt"), str) or not data["prompt"].strip():
        raise ValueError('expected a JSON object with a non-empty string "prompt"')
    return data["prompt"].strip()[:MAX_ASSIST_PROMPT_CHARS]


@dataclass
class TransformResult:
    plan: Plan
    system_prompt: str
    prompt: str
    operator_trace: list[dict[str, Any]]
    assist_outcomes: list[dict[str, Any]]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [{"code": o["code"], "op": o["op"], "message": o["message"]}
                for o in self.assist_outcomes if not o["ok"]]


def compute_transform(plan: Plan, prompt: str, assist: AssistCall | None = None) -> TransformResult:
    """Run the plan's operators in order. An assist operator never raises: a model failure or a
    reply that is not the JSON asked for (ASSIST_JSON_INVALID) leaves the prompt unchanged and is
    reported in the trace and in assist_outcomes. Without `assist`, assist operators are skipped."""
    state = PromptState(system=[plan.recipe.render_system()], prompt=prompt)
    trace: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    for step in plan.operator_plan:
        started = time.perf_counter()
        before_system, before_prompt = state.system_prompt, state.prompt
        outcome, detail = "ok", ""
        if step.assist:
            if assist is None:
                outcome, detail = "skipped", "no assist model available"
            else:
                messages = [{"role": "system", "content": ASSIST_INSTRUCTIONS},
                            {"role": "user", "content": state.prompt}]
                text, code, message = assist(messages)
                if code:
                    outcome, detail = code, message or code
                else:
                    try:
                        state.prompt = compute_assist_reply(text or "")
                    except ValueError as exc:
                        outcome = ASSIST_JSON_INVALID
                        detail = f"the assist model did not answer the JSON asked for ({str(exc)[:120]})"
            outcomes.append({"op": step.op, "source": step.source, "ok": outcome == "ok", "code":
                             None if outcome == "ok" else outcome, "message": detail or "prompt rewritten"})
        else:
            _apply_local(step.op, step.params, state, plan.recipe)
        trace.append({"op": step.op, "params": step.params, "source": step.source, "assist": step.assist,
                      "outcome": outcome, "detail": detail,
                      "changed_system": state.system_prompt != before_system,
                      "changed_prompt": state.prompt != before_prompt,
                      "prompt_chars": len(state.prompt), "system_chars": len(state.system_prompt),
                      "duration_ms": round((time.perf_counter() - started) * 1000, 3)})
    return TransformResult(plan, state.system_prompt, state.prompt, trace, outcomes)


def compute_local_transform(recipe: Recipe, prompt: str) -> tuple[str, str]:
    """(system prompt, prompt) after the recipe's local operators, for the chat path: assist
    operators are skipped there so that a chat answer costs one model call."""
    plan = compute_plan(recipe, prompt)
    plan = replace(plan, operator_plan=[step for step in plan.operator_plan if not step.assist])
    result = compute_transform(plan, prompt)
    return result.system_prompt, result.prompt


def compute_prompt_quality(system_prompt: str, prompt: str) -> dict[str, Any]:
    """A heuristic score in [0, 1] of the engineered prompt (not of an answer): does the system
    prompt state a role, constraints and an output format, and is the prompt itself usable."""
    lower = system_prompt.lower()
    words = len(prompt.split())
    components = {
        "role": 1.0 if re.search(r"\byou are\b", lower) else 0.0,
        "constraints": 1.0 if "constraints:" in lower or re.search(r"\b(do not|don't|never|only)\b", lower) else 0.0,
        "output_format": 1.0 if any(hint.lower() in lower for hint in IO_FORMATS.values())
        or re.search(r"\b(format|markdown|list|json)\b", lower) else 0.0,
        "prompt_length": 1.0 if 3 <= words <= 400 else (0.5 if 0 < words else 0.0),
        "system_length": 1.0 if len(system_prompt) <= 2000 else 0.5,
    }
    return {"score": round(sum(components.values()) / len(components), 4), "components": components,
            "method": "prompt_heuristic"}
