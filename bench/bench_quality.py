"""How well the engine's quality score separates right from wrong REAL model answers.

    .venv/bin/python bench/bench_quality.py            # tables (a few seconds)
    .venv/bin/python bench/bench_quality.py --json     # the same figures as JSON

Data: bench/data/routing_answers.jsonl, real answers of gpt-4-1106-preview ("strong") and
mixtral-8x7b-instruct-v0.1 ("weak") to public benchmark questions, each labelled right or wrong by
RouteLLM's grading (see bench/data/README.md). Three scores are measured by ROC AUC of "right"
against "wrong" (1.0 = every right answer scores above every wrong one, 0.5 = no separation):

  (a) heuristic   score_answer(question, answer).quality, without a reference;
  (b) reference   score_answer(question, answer, reference=<the other model's answer>).quality;
  (c) agreement   compare_final_answers of the two models' extracted final answers alone.

Each on the whole set and on a fixed question-level split (sha256 of the question text, first byte
even = "tune", odd = "held-out"; both answers to a question fall in the same half), per source and
overall, with counts. A threshold chosen on "tune" should be reported on "held-out".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.loop.final_answer import compare_final_answers, extract_final_answer  # noqa: E402
from engine.loop.quality import score_answer  # noqa: E402

DATA = REPO_ROOT / "bench" / "data" / "routing_answers.jsonl"
SOURCES = ("gsm8k", "mmlu")          # per-source rows, then "all"
SPLITS = ("all", "tune", "held-out")
# Final answers "agree" for the agreeing/disagreeing shares when compare_final_answers gives at least
# this (numbers, letters and yes/no score 0 or 1; only free-text spans fall in between).
AGREE_AT = 0.5

try:  # scikit-learn is not a dependency; use it when present, else the rank formula below
    from sklearn.metrics import roc_auc_score as _sk_auc
except ImportError:  # pragma: no cover - depends on the environment
    _sk_auc = None


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """ROC AUC of `scores` for `labels` (True = positive); None when a class is empty. Without
    scikit-learn: the Mann-Whitney rank formula, tied scores sharing their average rank (so a tie
    between a positive and a negative counts one half)."""
    positives = sum(1 for label in labels if label)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    if _sk_auc is not None:
        return float(_sk_auc([bool(x) for x in labels], list(scores)))
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average = (i + j) / 2 + 1  # ranks start at 1
        for k in range(i, j + 1):
            ranks[order[k]] = average
        i = j + 1
    positive_rank_sum = sum(rank for rank, label in zip(ranks, labels) if label)
    return (positive_rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def split_of(question: str) -> str:
    """'tune' when the first byte of sha256(question) is even, else 'held-out'. Fixed forever."""
    return "tune" if hashlib.sha256(question.encode("utf-8")).digest()[0] % 2 == 0 else "held-out"


def part_of(source: str) -> str:
    """'gsm8k' or 'mmlu' ('mmlu:<subject>' counts as mmlu)."""
    return source.split(":", 1)[0]


def load_answers(path: Path) -> list[dict]:
    """The answer records, each with `other` (the other model's answer to the same question, or None),
    `part` and `split`; exits naming the file and line of a malformed record."""
    records: list[dict] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line)
                for key in ("source", "question", "model", "answer", "correct"):
                    record[key]
            except (ValueError, KeyError) as exc:
                raise SystemExit(f"{path}:{number}: not an answer record ({exc})") from None
            records.append(record)
    by_question: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for record in records:
        by_question[(record["source"], record["question"])][record["model"]] = record["answer"]
    for record in records:
        answers = by_question[(record["source"], record["question"])]
        others = [text for model, text in answers.items() if model != record["model"]]
        record["other"] = others[0] if others else None
        record["part"] = part_of(record["source"])
        record["split"] = split_of(record["question"])
    return records


def reference_quality(record: dict) -> float:
    return score_answer(record["question"], record["answer"], reference=record["other"]).quality


def agreement(record: dict) -> float:
    question = record["question"]
    return compare_final_answers(extract_final_answer(record["answer"], question),
                                 extract_final_answer(record["other"], question))


def cell(rows: list[tuple[bool, float]], with_agreement: bool = False) -> dict:
    labels = [label for label, _ in rows]
    scores = [score for _, score in rows]
    out: dict = {"n": len(rows), "right": sum(labels), "wrong": len(rows) - sum(labels),
                 "auc": None if not rows else roc_auc(labels, scores)}
    if with_agreement:
        agreeing = [label for label, score in rows if score >= AGREE_AT]
        disagreeing = [label for label, score in rows if score < AGREE_AT]
        out["agree_n"] = len(agreeing)
        out["agree_right_share"] = sum(agreeing) / len(agreeing) if agreeing else None
        out["disagree_n"] = len(disagreeing)
        out["disagree_right_share"] = sum(disagreeing) / len(disagreeing) if disagreeing else None
    return out


def measure(records: list[dict], score: Callable[[dict], float], needs_other: bool,
            with_agreement: bool = False) -> dict:
    """{part: {split: cell}} for parts SOURCES + 'all'; records without the other answer are skipped
    (and counted) when the score needs it."""
    usable = [r for r in records if r["other"] is not None] if needs_other else records
    scored = [(r["part"], r["split"], bool(r["correct"]), float(score(r))) for r in usable]
    table: dict[str, dict[str, dict]] = {}
    for part in (*SOURCES, "all"):
        table[part] = {}
        for split in SPLITS:
            rows = [(label, value) for p, s, label, value in scored
                    if part in ("all", p) and split in ("all", s)]
            table[part][split] = cell(rows, with_agreement)
    return {"available": True, "skipped_no_other_answer": len(records) - len(usable), "table": table}


def run(path: Path) -> dict:
    records = load_answers(path)
    questions = {(r["source"], r["question"]) for r in records}
    result: dict = {
        "data": str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path),
        "answers": len(records),
        "questions": len(questions),
        "questions_per_split": {s: sum(1 for _, q in questions if split_of(q) == s) for s in SPLITS[1:]},
        "auc_method": "sklearn.metrics.roc_auc_score" if _sk_auc is not None else "rank (Mann-Whitney, ties averaged)",
        "agree_at": AGREE_AT,
        "scores": {},
    }
    result["scores"]["heuristic"] = measure(
        records, lambda r: score_answer(r["question"], r["answer"]).quality, needs_other=False)
    with_other = [r for r in records if r["other"] is not None]
    try:
        if with_other:
            reference_quality(with_other[0])
        result["scores"]["reference"] = measure(records, reference_quality, needs_other=True)
    except TypeError as exc:  # score_answer without the `reference` keyword
        result["scores"]["reference"] = {"available": False, "reason": f"not available yet ({exc})"}
    result["scores"]["agreement"] = measure(records, agreement, needs_other=True, with_agreement=True)
    return result


TITLES = {
    "heuristic": "(a) heuristic: score_answer(question, answer).quality",
    "reference": "(b) reference: score_answer(question, answer, reference=other model's answer).quality",
    "agreement": "(c) agreement: compare_final_answers(final answer, other model's final answer)",
}


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def print_text(result: dict) -> None:
    split_counts = ", ".join(f"{s} {n}" for s, n in result["questions_per_split"].items())
    print(f"Quality vs correctness on real answers: {result['data']}")
    print(f"{result['answers']} answers to {result['questions']} questions; question-level split by "
          f"sha256(question) first byte even/odd: {split_counts} questions")
    print(f"ROC AUC of right vs wrong answers ({result['auc_method']}); 0.5 = no separation, 1.0 = perfect")
    for name, title in TITLES.items():
        block = result["scores"][name]
        print()
        print(title)
        if not block["available"]:
            print(f"  {name}: {block['reason']}")
            continue
        if block["skipped_no_other_answer"]:
            print(f"  ({block['skipped_no_other_answer']} answers without the other model's answer skipped)")
        header = f"  {'part':<6} {'split':<9} {'n':>5} {'right':>6} {'wrong':>6} {'AUC':>6}"
        if name == "agreement":
            header += f"   {'agree':>5} {'right%':>6}   {'differ':>6} {'right%':>6}"
        print(header)
        for part, splits in block["table"].items():
            for split, c in splits.items():
                line = f"  {part:<6} {split:<9} {c['n']:>5} {c['right']:>6} {c['wrong']:>6} {_fmt(c['auc']):>6}"
                if name == "agreement":
                    line += (f"   {c['agree_n']:>5} {_pct(c['agree_right_share']):>6}"
                             f"   {c['disagree_n']:>6} {_pct(c['disagree_right_share']):>6}")
                print(line)
    print()
    print(f"(c) agree = compare_final_answers >= {result['agree_at']}; right% = share of right answers among "
          "the agreeing / differing ones. Parts with n = 0 have no answers in the data yet.")


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}"


def simulator_figures(n: int = 1500) -> dict:
    """The same AUCs on the simulator's own answers to its demo questions (its ground truth labels):
    reference quality against the demo question's reference answer, and the heuristic alone."""
    from engine.loop.quality import score_answer
    from engine.providers.sim import SimProvider
    from engine.providers.sim_world import generate_questions, truth_of
    from engine.routing.routers import get_router

    router = get_router("complexity")
    out = {}
    for role in ("main", "embedder"):
        sim = SimProvider(role, f"sim-{role}", seed=3, latency_scale=0)
        labels, reference, heuristic = [], [], []
        for item in generate_questions(n, seed=5):
            truth = truth_of(item.question)
            if truth is None:
                continue
            answer = sim.chat([{"role": "user", "content": item.question}])
            score = router.score(item.question, item.trait)
            labels.append(bool(answer.sim_correct))
            reference.append(score_answer(item.question, answer.text, score, reference=truth.reference).quality)
            heuristic.append(score_answer(item.question, answer.text, score).quality)
        out[role] = {"n": len(labels), "wrong": labels.count(False), "reference_auc": roc_auc(labels, reference),
                     "heuristic_auc": roc_auc(labels, heuristic)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--data", type=Path, default=DATA, help="answer records (JSON lines)")
    args = parser.parse_args(argv)
    result = run(args.data.resolve())
    result["simulator"] = simulator_figures()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_text(result)
        print("\nsimulator (its demo questions, its own ground truth): ROC AUC of quality, right vs wrong")
        for role, row in result["simulator"].items():
            print(f"  {role:<9} n={row['n']:>5} wrong={row['wrong']:>4}  reference {_fmt(row['reference_auc'])}  "
                  f"heuristic {_fmt(row['heuristic_auc'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
