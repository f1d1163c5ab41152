"""Prompt recipes as pydantic models, and their validation: a file's text -> a Recipe and its issues.

Two layers, as in the legacy v1 rules. The schema (`RecipeFile`): a file that is not JSON, misses
id/assistant/category/system_prompt, has a wrong type or a duplicate id is excluded (severity error).
The semantics (unknown operator, pack, placeholder or field; bad operator parameters): a warning
that drops only the bad part, unless VALIDATION_STRICT=1 excludes the recipe (every recipe with
VALIDATION_STRICT_SCOPE=all, only law/medical ones with =critical). Every issue names its file,
line and field. Loading folders and hot reload live in `engine.prompts.store`.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import InputError
from engine.prompts.operators import CRITICAL_CATEGORIES, OPERATORS, PACKS
from engine.settings import Settings

TEMPLATE_FIELDS = frozenset({"assistant", "category"})
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
REQUIRED_FIELDS = ("id", "assistant", "category", "system_prompt")


class UnknownRecipeError(InputError):
    """A recipe id (or an assistant/category pair) that no loaded recipe has."""

    code = "UNKNOWN_RECIPE"


# --------------------------------------------------------------------------- the schema

class RecipeFile(BaseModel):
    """What a recipe file must hold. Strict JSON types; unknown fields are kept for a warning."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    id: str
    assistant: str
    category: str
    system_prompt: str
    operators: list[Any] = Field(default_factory=list)
    packs: list[Any] = Field(default_factory=list)
    default: bool = False
    description: str = ""

    @field_validator(*REQUIRED_FIELDS)
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("blank")
        return value

    @field_validator("id", "assistant", "category")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ID_PATTERN.fullmatch(value):
            raise ValueError("pattern")
        return value


# Messages of the legacy diagnostics, by field (the pydantic error only says which check failed).
TYPE_MESSAGES = {
    "operators": "field operators must be a list",
    "packs": "field packs must be a list of pack names",
    "default": "field default must be true or false",
    "description": "field description must be a string",
}
PATTERN_MESSAGES = {
    "id": "field id may hold letters, digits and _.:- only (max 128 chars)",
    "assistant": "field assistant may hold letters, digits and _.:- only",
    "category": "field category may hold letters, digits and _.:- only",
}


def compute_schema_problems(exc: ValidationError) -> list[tuple[str, str | None]]:
    """(message, field) for each field a RecipeFile refused, in field order."""
    problems: dict[str | None, str] = {}
    for err in exc.errors():
        loc = err.get("loc", ())
        name = str(loc[0]) if loc else None
        if name in problems:
            continue
        if name is None:
            problems[None] = "a recipe file must hold one JSON object"
        elif name in PATTERN_MESSAGES and err.get("type") == "value_error" \
                and str(err.get("ctx", {}).get("error")) == "pattern":
            problems[name] = PATTERN_MESSAGES[name]
        elif name in REQUIRED_FIELDS:
            problems[name] = f"field {name} is required and must be a non-empty string"
        else:
            problems[name] = TYPE_MESSAGES.get(name, f"field {name}: {err.get('msg', 'invalid')}")
    return [(message, name) for name, message in problems.items()]


# --------------------------------------------------------------------------- the recipe

class Recipe(BaseModel):
    """A loaded recipe: the schema's fields with the semantically bad parts dropped."""

    model_config = ConfigDict(frozen=True)

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


# --------------------------------------------------------------------------- validation

def _strict_applies(category: str, settings: Settings) -> bool:
    if not settings.validation_strict:
        return False
    return settings.validation_strict_scope == "all" or category in CRITICAL_CATEGORIES


def _operator_entry(entry: Any) -> tuple[str, dict[str, Any]] | None:
    """A recipe's operator entry: a name, or an object with an "op" name and its parameters."""
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict) and isinstance(entry.get("op"), str):
        return entry["op"], {k: v for k, v in entry.items() if k != "op"}
    return None


def compute_semantic_problems(spec: RecipeFile) -> tuple[list[tuple[str, str]], Recipe]:
    """(message, field) of each semantic problem, and the recipe without the bad parts. Pure."""
    problems: list[tuple[str, str]] = []
    for extra in sorted(spec.model_extra or {}):
        problems.append((f"unknown field {extra!r} (ignored)", extra))
    try:
        placeholders = {name for _, name, _, _ in string.Formatter().parse(spec.system_prompt) if name is not None}
    except ValueError as exc:
        placeholders = set()
        problems.append((f"system_prompt is not a valid template ({exc})", "system_prompt"))
    for name in sorted(placeholders - TEMPLATE_FIELDS):
        problems.append((f"system_prompt uses unknown placeholder {{{name}}} (allowed: "
                         f"{', '.join(sorted(TEMPLATE_FIELDS))})", "system_prompt"))

    operators: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(spec.operators):
        where = f"operators[{index}]"
        parsed = _operator_entry(entry)
        if parsed is None:
            problems.append(('an operator is a name or an object with an "op" name', where))
            continue
        op, params = parsed
        operator = OPERATORS.get(op)
        if operator is None:
            problems.append((f"unknown operator {op!r} (known: {', '.join(sorted(OPERATORS))})", where))
            continue
        problem = operator.check(params)
        if problem:
            problems.append((f"operator {op}: {problem}", where))
            continue
        operators.append((op, params))

    packs: list[str] = []
    for index, name in enumerate(spec.packs):
        if not isinstance(name, str) or name not in PACKS:
            problems.append((f"unknown pack {name!r} (known: {', '.join(sorted(PACKS))})", f"packs[{index}]"))
        elif name not in packs:
            packs.append(name)

    recipe = Recipe(id=spec.id, assistant=spec.assistant, category=spec.category,
                    system_prompt=spec.system_prompt, operators=tuple(operators), packs=tuple(packs),
                    default=spec.default, description=spec.description)
    return problems, recipe


def compute_recipe(data: Any, path: str, settings: Settings,
                   lines: dict[str, int] | None = None) -> tuple[Recipe | None, list[ValidationIssue]]:
    """Validate one decoded recipe file. Pure: returns the recipe (None if excluded) and its issues.
    `lines` maps a field ("id", "operators[2]") to its line in the file (see compute_field_lines)."""
    lines = lines or {}
    rid = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    try:
        spec = RecipeFile.model_validate(data)
    except ValidationError as exc:
        return None, [ValidationIssue(path, message, "schema_validation", "error", rid,
                                      lines.get(name) if name else None, name)
                      for message, name in compute_schema_problems(exc)]
    problems, recipe = compute_semantic_problems(spec)
    strict = _strict_applies(spec.category, settings)
    severity = "error" if strict else "warning"
    issues = [ValidationIssue(path, message, "semantic_validation", severity, spec.id, lines.get(name), name)
              for message, name in problems]
    if strict and problems:
        return None, issues
    return recipe.model_copy(update={"path": path}), issues


def compute_recipe_text(text: str, path: str, settings: Settings) -> tuple[Recipe | None, list[ValidationIssue]]:
    """Validate a recipe file's text: JSON first (an error names its line), then `compute_recipe`."""
    try:
        data = json.loads(text)
        return compute_recipe(data, path, settings, compute_field_lines(text))
    except json.JSONDecodeError as exc:
        return None, [ValidationIssue(path, f"not valid JSON: {exc.msg}", "json_parse", "error",
                                      line_number=exc.lineno)]
    except RecursionError:  # `[` x 100,000: no recipe is nested like that
        return None, [ValidationIssue(path, "nested too deeply to be a recipe", "json_parse", "error")]


_WS = re.compile(r"[ \t\n\r]*")


def compute_field_lines(text: str) -> dict[str, int]:
    """Line (1-based) of each top-level key of a JSON object text ("id") and of each item of a
    top-level list ("operators[2]"); a repeated key keeps its last line, as json.loads keeps the
    last value. Partial (possibly empty) for text that is not one JSON object."""
    decoder = json.JSONDecoder()
    lines: dict[str, int] = {}

    def skip(pos: int) -> int:
        match = _WS.match(text, pos)
        return match.end() if match else pos

    def line_at(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    try:
        pos = skip(0)
        if text[pos] != "{":
            return lines
        pos = skip(pos + 1)
        while text[pos] == '"':
            key_pos = pos
            key, pos = decoder.raw_decode(text, pos)  # a key is a JSON string
            pos = skip(pos)
            if text[pos] != ":":
                return lines
            pos = skip(pos + 1)
            lines[key] = line_at(key_pos)
            if text[pos] == "[":
                pos, index = skip(pos + 1), 0
                while text[pos] != "]":
                    lines[f"{key}[{index}]"] = line_at(pos)
                    _, pos = decoder.raw_decode(text, pos)
                    pos, index = skip(pos), index + 1
                    if text[pos] == ",":
                        pos = skip(pos + 1)
                pos += 1
            else:
                _, pos = decoder.raw_decode(text, pos)
            pos = skip(pos)
            if text[pos] != ",":
                return lines
            pos = skip(pos + 1)
    except (ValueError, IndexError):
        pass
    return lines
