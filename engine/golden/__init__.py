"""Golden regression tests: sets and baselines, similarity, runner, comparison report, JUnit XML."""

from engine.golden.cases import Baseline, GoldenCase, GoldenSet, load_baseline, load_golden_set
from engine.golden.report import CaseRun, compute_report, compute_run_check, render_report_text
from engine.golden.runner import backup_baseline, compare_to_baseline, record_baseline, run_cases
from engine.golden.similarity import get_similarity

__all__ = ["Baseline", "GoldenCase", "GoldenSet", "load_baseline", "load_golden_set", "CaseRun",
           "compute_report", "compute_run_check", "render_report_text", "backup_baseline",
           "compare_to_baseline", "record_baseline", "run_cases", "get_similarity"]
