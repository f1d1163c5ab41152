"""`python -m engine golden record|compare` (and scripts/golden_runner.py): golden regression tests.

Exit codes: 0 no regression (record: baseline written), 1 a case regressed (record: a case got no
answer, nothing written), 2 bad input naming the file and the case, 130 Ctrl-C (nothing half-written).
Record answers each case --samples times, sends --seed and --temperature, and keeps a baseline it
replaces as a dated copy; compare sends what the baseline recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from engine.errors import EXIT_FAILURE, EXIT_OK
from engine.golden.cases import load_baseline, load_golden_set
from engine.golden.report import render_report_text
from engine.golden.runner import (
    GOLDEN_SAMPLES,
    GOLDEN_SEED,
    GOLDEN_TEMPERATURE,
    compare_to_baseline,
    default_set_path,
    golden_sampling,
    record_baseline,
)
from engine.golden.similarity import MODES, get_similarity
from engine.runbook import GOLDEN_THRESHOLD
from engine.settings import get_settings

NAME = "golden"
HELP = "golden regression tests: record a baseline, compare a new run against it"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="set_path", type=Path, default=None,
                        help="golden set JSON (default: <data dir>/goldens/sample_set.json)")
    parser.add_argument("-j", "--jobs", type=int, default=1,
                        help="cases answered concurrently; also the bound on parallel provider calls (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


NO_SEED = "none"  # `--seed none`: send no seed (None means the option was not given)


def _seed(text: str) -> int | str:
    if text.strip().lower() == NO_SEED:
        return NO_SEED
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'none', got {text!r}") from None


def _sampling_options(parser: argparse.ArgumentParser, seed_default: str, temperature_default: str) -> None:
    parser.add_argument("--seed", type=_seed, default=None,
                        help=f"sampler seed sent with every question, or 'none' to send none ({seed_default})")
    parser.add_argument("--temperature", type=float, default=None,
                        help=f"sampling temperature sent with every question ({temperature_default})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="golden_mode", metavar="record|compare", required=True)
    record = sub.add_parser("record", help="answer every case once and write the baseline")
    _common(record)
    record.add_argument("--out", type=Path, default=None,
                        help="baseline to write (default: <data dir>/goldens/baseline_new.json)")
    record.add_argument("--skip-existing", action="store_true",
                        help="keep the baseline if the file already exists (CI: record only the first time)")
    record.add_argument("--allow-unanswered", action="store_true",
                        help="write the baseline even when some case got no answer (source unknown)")
    record.add_argument("--samples", type=int, default=GOLDEN_SAMPLES,
                        help="answers recorded per case; their run-to-run spread is what compare allows "
                             f"(default {GOLDEN_SAMPLES})")
    _sampling_options(record, f"default {GOLDEN_SEED}; a server that ignores it still answers",
                      f"default {GOLDEN_TEMPERATURE:g}")
    record.add_argument("--similarity", choices=MODES, default="auto",
                        help="how the samples' spread is measured (as for compare; default auto)")
    compare = sub.add_parser("compare", help="answer every case again and compare with the baseline")
    _common(compare)
    compare.add_argument("--baseline", type=Path, default=None,
                         help="baseline to compare with (default: <data dir>/goldens/baseline_new.json)")
    compare.add_argument("--threshold", type=float, default=GOLDEN_THRESHOLD,
                         help="a case regresses when its quality or similarity falls by more than this "
                              f"fraction (default {GOLDEN_THRESHOLD}) below the recorded answers' spread")
    compare.add_argument("--similarity-threshold", type=float, default=None,
                         help="allowed fall of the answer similarity alone (default: --threshold); loosen it when "
                              "a model's answers vary in wording from run to run")
    compare.add_argument("--out", type=Path, default=None,
                         help="report to write (default: <data dir>/goldens/last_report.json); a copy is kept "
                              "as comparison_<UTC time>.json beside it")
    compare.add_argument("--junit", type=Path, default=None, help="also write JUnit XML here")
    compare.add_argument("--repeat", type=int, default=1,
                         help="answer each case K times and report its pass rate (default 1)")
    compare.add_argument("--min-pass-fraction", type=float, default=1.0,
                         help="with --repeat: a case passes when at least this fraction of its runs pass "
                              "(default 1.0: all)")
    compare.add_argument("--similarity", choices=MODES, default="auto",
                         help="answer similarity: lexical (token cosine), semantic (needs "
                              "requirements-semantic.txt), auto = semantic when installed (default)")
    _sampling_options(compare, "default: what the baseline recorded", "default: what the baseline recorded")
    compare.add_argument("--json", action="store_true", help="print the whole report as JSON")


class _Progress:
    """A tqdm bar on stderr (shown on a terminal), fed by the runner's (done, total) callback."""

    def __init__(self, label: str, disabled: bool) -> None:
        self.label, self.disabled = label, disabled
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.label, unit="case", file=sys.stderr,
                            disable=True if self.disabled else None, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    set_path = args.set_path or default_set_path(settings)
    golden_set = load_golden_set(set_path)
    progress = _Progress(args.golden_mode, args.no_progress)
    try:
        if args.golden_mode == "record":
            return _record(args, settings, golden_set, progress)
        return _compare(args, settings, golden_set, progress)
    finally:
        progress.close()


def _record(args, settings, golden_set, progress) -> int:
    out = args.out or settings.paths.baseline
    if args.skip_existing and out.exists():
        print(f"Baseline {out} exists; keeping it (--skip-existing)")
        return EXIT_OK
    seed = GOLDEN_SEED if args.seed is None else (None if args.seed == NO_SEED else args.seed)
    sampling = golden_sampling(seed, GOLDEN_TEMPERATURE if args.temperature is None else args.temperature)
    result = record_baseline(golden_set, out, settings=settings, jobs=args.jobs, progress=progress,
                             allow_unanswered=args.allow_unanswered, samples=args.samples, sampling=sampling,
                             similarity=get_similarity(args.similarity))
    progress.close()
    s = result.summary
    line = (f"{s['answered']}/{s['cases']} answered; routing {s['routing']['main_pct']:.0%} main, "
            f"{s['routing']['embedder_pct']:.0%} embedder; latency p50 {s['latency_ms']['p50']:.0f} ms, "
            f"p95 {s['latency_ms']['p95']:.0f} ms; mean quality {s['quality_mean']}")
    if not result.written:
        print(f"Baseline NOT written: no answer for {', '.join(result.unanswered)} (source unknown). "
              f"Is the model server running? {line}", file=sys.stderr)
        return EXIT_FAILURE
    if result.previous is not None:
        print(f"Kept the previous baseline as {result.previous} (not overwritten)")
    print(f"Recorded {s['cases']} cases of {golden_set.path} (set hash {result.set_hash}) to {result.path}")
    sent = ", ".join(f"{k} {v}" for k, v in result.sampling.items()) or "the engine's defaults"
    print(f"{line}; {result.samples} sample(s) per case, sent {sent}")
    for case_id, reasons in result.failing_expectations.items():
        print(f"  warning {case_id}: fails its expected answer now ({'; '.join(reasons)}); "
              "compare will flag it until the model gets it right")
    return EXIT_OK


def _compare(args, settings, golden_set, progress) -> int:
    baseline = load_baseline(args.baseline or settings.paths.baseline, golden_set)
    similarity = get_similarity(args.similarity)
    sampling = None  # what the baseline recorded, unless overridden here
    if args.seed is not None or args.temperature is not None:
        sampling = dict(baseline.sampling or {})
        if args.seed == NO_SEED:
            sampling.pop("seed", None)
        elif args.seed is not None:
            sampling["seed"] = args.seed
        if args.temperature is not None:
            sampling.update(golden_sampling(None, args.temperature))
    result = compare_to_baseline(golden_set, baseline, args.out or settings.paths.last_report,
                                 settings=settings, similarity=similarity, threshold=args.threshold,
                                 jobs=args.jobs, repeat=args.repeat, min_pass_fraction=args.min_pass_fraction,
                                 progress=progress, junit=args.junit,
                                 similarity_threshold=args.similarity_threshold, sampling=sampling)
    progress.close()
    if args.json:
        print(json.dumps(result.report, indent=2))
    else:
        print(render_report_text(result.report))
        print(f"Report: {result.report_path} (history: {result.history_path.name})"
              + (f", JUnit: {result.junit_path}" if result.junit_path else ""))
    return EXIT_FAILURE if result.regressed else EXIT_OK
