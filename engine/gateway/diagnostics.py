"""What /diagnostics reports: recipe validation issues plus recent runtime errors from the log
(`error` events and responses that carry an error_code), counted by code."""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine.logging_setup import redact
from engine.prompts.recipes import RecipeSet
from engine.provenance import tail_events
from engine.settings import Settings

RECENT_EVENTS = 5000
MAX_LISTED = 50


def compute_diagnostics(recipes: RecipeSet, events: list[dict[str, Any]], unreadable: int,
                        settings: Settings) -> dict[str, Any]:
    """Pure: aggregate recipe issues and the runtime errors among `events` (oldest first)."""
    runtime: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event_type")
        if kind == "error":
            runtime.append({"ts": event.get("ts"), "code": event.get("code"), "message": event.get("message"),
                            "where": event.get("where"), "message_id": event.get("message_id")})
        elif kind == "response" and event.get("error_code"):
            runtime.append({"ts": event.get("ts"), "code": event.get("error_code"),
                            "message": event.get("error_message") or event.get("error_code"),
                            "where": f"loop route={event.get('route')} origin={event.get('origin', 'ask')}",
                            "message_id": event.get("message_id")})
        elif kind == "response" and event.get("quality_fallback_reason"):
            runtime.append({"ts": event.get("ts"), "code": event.get("quality_fallback_reason"),
                            "message": "quality judge fell back to the heuristic",
                            "where": "quality judge", "message_id": event.get("message_id")})
    # Events written before masking existed (or by another process's settings) may still quote a key.
    for item in runtime:
        if isinstance(item.get("message"), str):
            item["message"] = redact(item["message"], settings)
    issues = [issue.to_dict() for issue in recipes.issues]
    errors = sum(1 for i in recipes.issues if i.severity == "error")
    status = "error" if errors or runtime else ("warning" if issues else "ok")
    return {
        "status": status,
        "recipes": {
            "directory": str(recipes.directory), "source": recipes.source, "loaded": len(recipes.recipes),
            "excluded": recipes.excluded, "errors": errors, "warnings": len(issues) - errors,
            "issues": issues, "reload_mode": settings.recipes_reload_mode,
            "validation_strict": settings.validation_strict,
            "validation_strict_scope": settings.validation_strict_scope,
        },
        "runtime": {
            "window_events": len(events), "errors": len(runtime),
            "by_code": dict(Counter(item["code"] for item in runtime).most_common()),
            "recent": runtime[-MAX_LISTED:][::-1],
            "unreadable_lines": unreadable,
        },
    }


def load_diagnostics(settings: Settings, recipes: RecipeSet, window: int = RECENT_EVENTS) -> dict[str, Any]:
    """Diagnostics over the last `window` events of the provenance log."""
    tail = tail_events(settings.paths.log, window)
    return compute_diagnostics(recipes, tail.events, tail.unreadable, settings)
