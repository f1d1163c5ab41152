"""`python -m engine score [--router NAME [--model PATH]] [--explain] | --quality`: score questions (or
answers) from stdin.

Input: one question per line, or JSONL with a `question` field (and `trait`); with --quality,
JSONL with `question` and `answer` (optional `complexity`, and `reference`: a known-good answer,
which makes quality reference-based: agreement of the final answers). One JSON line out per input line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from engine.errors import InputError
from engine.loop.quality import score_answer
from engine.routing.adaptive import AdaptiveConfig
from engine.routing.learned import LearnedRouter, load_router
from engine.routing.routers import ROUTERS, TRAIT_PRIOR, Router, get_router

NAME = "score"
HELP = "print the router's score and route (or with --quality an answer's quality) per stdin line"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--router", default="complexity", choices=sorted(ROUTERS), help="router to use")
    parser.add_argument("--model", default=None, help="the learned router's model (train-router --out)")
    parser.add_argument("--explain", action="store_true",
                        help="show the features behind each score (a small table; with --json in the JSON line)")
    parser.add_argument("--json", action="store_true", help="with --explain: JSON lines instead of tables")
    parser.add_argument("--quality", action="store_true",
                        help="read JSONL question+answer and print quality and its components")
    parser.add_argument("--boundary", type=float, default=AdaptiveConfig().control_boundary,
                        help="boundary for the route column (default: the control boundary 0.5)")


def parse_line(raw: str, number: int, need_answer: bool) -> dict[str, Any] | None:
    """One input line as a dict with `question` (and `answer`); None for a blank line."""
    text = raw.strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"stdin line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(item, dict):
            raise InputError(f"stdin line {number}: expected a JSON object")
    elif need_answer:
        raise InputError(f"stdin line {number}: --quality needs JSONL with fields question and answer")
    else:
        item = {"question": text}
    for name in ("question",) + (("answer",) if need_answer else ()):
        if not isinstance(item.get(name), str) or (name == "question" and not item[name].strip()):
            raise InputError(f"stdin line {number}: field {name} is missing or not a non-empty string")
    trait = item.get("trait", "general")
    if trait not in TRAIT_PRIOR:
        raise InputError(f"stdin line {number}: field trait: unknown trait {trait!r}")
    return item


def resolve_router(args: argparse.Namespace) -> Router:
    """The router asked for. The learned one with a missing, corrupt or other-version model warns and
    scores with the default router (each row names the router that scored it), as the loop does."""
    if args.model and args.router != LearnedRouter.name:
        raise InputError("option --model: only --router learned takes a model")
    return load_router(args.router, args.model)


def score_stream(args: argparse.Namespace, stream: TextIO, out: TextIO) -> int:
    router = resolve_router(args)
    for number, raw in enumerate(stream, start=1):
        item = parse_line(raw, number, args.quality)
        if item is None:
            continue
        trait = item.get("trait", "general")
        if args.quality:
            complexity = item.get("complexity")
            if complexity is None:
                complexity = get_router("complexity").score(item["question"], trait)
            reference = item.get("reference")
            if reference is not None and not isinstance(reference, str):
                raise InputError(f"stdin line {number}: field reference must be a string")
            result = score_answer(item["question"], item["answer"], float(complexity), reference=reference)
            row = {"line": number, "question": item["question"], "quality": result.quality,
                   "quality_method": result.method, "components": result.components, "complexity": complexity,
                   **result.detail}
        else:
            decision = router.decide(item["question"], trait, args.boundary)
            row = {"line": number, "question": item["question"], "trait": trait, "router": router.name,
                   "score": round(decision.score, 4), "boundary": args.boundary, "route": decision.route}
            if router.version:
                row["router_version"] = router.version
            if args.explain:
                row["explain"] = router.explain(item["question"], trait)
                if not args.json:
                    out.write(render_explain(row) + "\n")
                    continue
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


def render_explain(row: dict[str, Any]) -> str:
    """One question's score as a person reads it: the decision, then each feature and what it added."""
    explain = row["explain"]
    lines = [f"line {row['line']}: {row['question'][:90]}",
             f"  {row['router']} score {row['score']:.3f} vs boundary {row['boundary']:.3f} -> {row['route']}"]
    features, contributions = explain.get("features", {}), explain.get("contributions", {})
    if contributions:
        lines.append(f"  {'feature':<12} {'value':>8} {'adds':>8}")
        for name, added in contributions.items():
            value = features.get(name)
            shown = "" if value is None else f"{value:>8.3f}"
            lines.append(f"  {name:<12} {shown:>8} {added:>+8.3f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    return score_stream(args, sys.stdin, sys.stdout)
