"""Where recipes come from and when they are reloaded: the data dir's recipes/ (else the shipped
set), read into a RecipeSet, and the per-process RecipeStore that follows RECIPES_RELOAD_MODE."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from engine.prompts.recipes import RecipeSet, ValidationIssue, compute_field_lines, compute_recipe_text
from engine.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

SHIPPED_RECIPES_DIR = REPO_ROOT / "data_core" / "recipes"


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
    """Read and validate every *.json recipe of the active folder (see `recipes_source`), in name order."""
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
        recipe, issues = compute_recipe_text(text, shown, settings)
        result.issues.extend(issues)
        if recipe is None:
            result.excluded.append(shown)
        elif recipe.id in result.recipes:
            result.issues.append(ValidationIssue(
                shown, f"duplicate recipe id {recipe.id!r} (first defined in {result.recipes[recipe.id].path})",
                "schema_validation", "error", recipe.id, compute_field_lines(text).get("id"), "id"))
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
        current = self._current = load_recipes(self.settings)
        self._loaded_mono = self._clock()
        self._pending = None
        self.reloads += 1
        errors = sum(1 for i in current.issues if i.severity == "error")
        log.info("recipes loaded from %s: %d recipes, %d issues (%d errors)", current.directory,
                 len(current.recipes), len(current.issues), errors)
        return current

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
