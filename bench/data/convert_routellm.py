"""Convert rows copied from RouteLLM's published per-question correctness CSVs into routing_benchmark.jsonl.

    .venv/bin/python bench/data/convert_routellm.py RAW_DIR [--out bench/data/routing_benchmark.jsonl]

RAW_DIR holds CSV files with RouteLLM's header (prompt, mixtral-8x7b-instruct-v0.1,
gpt-4-1106-preview), named `gsm8k_*.csv` or `mmlu_<subject>.csv`. Each row becomes one JSON line:
source ("gsm8k" | "mmlu:<subject>"), question, strong_correct (gpt-4), weak_correct (mixtral).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

STRONG = "gpt-4-1106-preview"
WEAK = "mixtral-8x7b-instruct-v0.1"
HEADER = ["prompt", WEAK, STRONG]
BOOLS = {"True": True, "False": False}


class ConvertError(Exception):
    """A raw file does not look like RouteLLM's CSV; the message names the file and line."""


def source_of(path: Path) -> str:
    """'gsm8k' for gsm8k_*.csv, 'mmlu:<subject>' for mmlu_<subject>.csv."""
    stem = path.stem
    if stem.startswith("gsm8k"):
        return "gsm8k"
    if stem.startswith("mmlu_"):
        return "mmlu:" + stem[len("mmlu_"):]
    raise ConvertError(f"{path}: file name must start with gsm8k or mmlu_<subject>")


def load_rows(path: Path) -> list[dict]:
    """The file's rows as benchmark records; raises ConvertError naming the file and line."""
    source = source_of(path)
    records = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != HEADER:
            raise ConvertError(f"{path}:1: header {header!r}, expected {HEADER!r}")
        for row in reader:
            line = reader.line_num
            if len(row) != 3:
                raise ConvertError(f"{path}:{line}: expected 3 fields, got {len(row)}")
            prompt, weak, strong = row
            if weak not in BOOLS or strong not in BOOLS:
                raise ConvertError(f"{path}:{line}: correctness must be True/False, got {weak!r}, {strong!r}")
            # Surrounding whitespace (some MMLU prompts start with a space) carries no meaning.
            question = prompt.strip()
            if not question:
                raise ConvertError(f"{path}:{line}: empty prompt")
            records.append({"source": source, "question": question,
                            "strong_correct": BOOLS[strong], "weak_correct": BOOLS[weak]})
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("routing_benchmark.jsonl"))
    args = parser.parse_args(argv)
    files = sorted(args.raw_dir.glob("*.csv"))
    if not files:
        print(f"no *.csv files in {args.raw_dir}", file=sys.stderr)
        return 2
    # GSM8K first, then MMLU subjects alphabetically; within a file RouteLLM's row order is kept.
    files.sort(key=lambda p: (not p.stem.startswith("gsm8k"), p.stem))
    try:
        records = [record for path in files for record in load_rows(path)]
    except ConvertError as exc:
        print(exc, file=sys.stderr)
        return 2
    with args.out.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    counts: dict[str, int] = {}
    for record in records:
        counts[record["source"]] = counts.get(record["source"], 0) + 1
    for source, count in counts.items():
        print(f"{source:32s} {count:5d}")
    print(f"{'total':32s} {len(records):5d} -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
