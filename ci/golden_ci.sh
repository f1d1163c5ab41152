#!/usr/bin/env bash
# Runbook 004's quality gate: record the golden baseline if none exists, compare against it
# (threshold 0.25), then check the SLOs. Exit 0 pass, 1 regression or SLO violation, 2 bad input.
#
# Optional environment: GOLDEN_SET, GOLDEN_BASELINE, GOLDEN_REPORT (default: the data dir's
# goldens/ files), GOLDEN_THRESHOLD (0.25), GOLDEN_JOBS (1), GOLDEN_JUNIT (JUnit XML path),
# GOLDEN_SLO=warn to report SLO violations without failing, AIOS_DATA_DIR, PYTHON (the interpreter).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The python command, auto-detected as the runbook promises: the project's venv first, then the
# first Python 3.11+ on PATH that has the engine's requirements installed.
find_python() {
  local candidate
  for candidate in "${PYTHON:-}" "$ROOT/.venv/bin/python" "$ROOT/.venv/Scripts/python.exe" python3 python py; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; assert sys.version_info >= (3, 11); import pydantic_settings, numpy, tqdm' \
         >/dev/null 2>&1; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}
if ! PY="$(find_python)"; then
  # A fresh clone: create .venv with the engine's requirements, as scripts/test.sh would.
  if [ -f "$ROOT/scripts/_bootstrap.sh" ] && ( source "$ROOT/scripts/_bootstrap.sh" && ensure_venv requirements.txt ); then
    PY="$ROOT/.venv/bin/python"
  else
    echo "golden_ci: no Python 3.11+ with the engine's requirements (tried .venv, python3, python, py);" \
         "run 'pip install -r requirements.txt'" >&2
    exit 2
  fi
fi

# Arrays are expanded as ${a[@]+"${a[@]}"} so an empty one is fine under `set -u` on bash 3.2 (macOS).
set_args=(); baseline_args=(); report_args=(); junit_args=()
[ -n "${GOLDEN_SET:-}" ] && set_args=(--set "$GOLDEN_SET")
[ -n "${GOLDEN_BASELINE:-}" ] && baseline_args=(--baseline "$GOLDEN_BASELINE")
[ -n "${GOLDEN_REPORT:-}" ] && report_args=(--out "$GOLDEN_REPORT")
[ -n "${GOLDEN_JUNIT:-}" ] && junit_args=(--junit "$GOLDEN_JUNIT")
jobs=(-j "${GOLDEN_JOBS:-1}")

echo "==> golden baseline (recorded only if missing) [$PY]"
out_args=()
[ -n "${GOLDEN_BASELINE:-}" ] && out_args=(--out "$GOLDEN_BASELINE")
"$PY" "$ROOT/scripts/golden_runner.py" record --skip-existing ${set_args[@]+"${set_args[@]}"} ${out_args[@]+"${out_args[@]}"} "${jobs[@]}"
rc=$?
if [ $rc -ne 0 ]; then
  echo "golden_ci: FAIL - could not record the baseline (exit $rc)" >&2
  exit $rc
fi

echo "==> golden compare (threshold ${GOLDEN_THRESHOLD:-0.25})"
"$PY" "$ROOT/scripts/golden_runner.py" compare ${set_args[@]+"${set_args[@]}"} ${baseline_args[@]+"${baseline_args[@]}"} \
  --threshold "${GOLDEN_THRESHOLD:-0.25}" ${report_args[@]+"${report_args[@]}"} ${junit_args[@]+"${junit_args[@]}"} "${jobs[@]}"
compare_rc=$?
if [ $compare_rc -eq 2 ]; then
  echo "golden_ci: FAIL - bad input (see the message above)" >&2
  exit 2
fi

echo "==> SLO check"
slo_args=()
[ -n "${GOLDEN_REPORT:-}" ] && slo_args=(--report "$GOLDEN_REPORT")
"$PY" "$ROOT/scripts/quality_alert.py" ${slo_args[@]+"${slo_args[@]}"}
slo_rc=$?

if [ $compare_rc -ne 0 ]; then
  echo "golden_ci: FAIL - golden regression (details above and in the report)" >&2
  exit 1
fi
if [ $slo_rc -ne 0 ]; then
  if [ "${GOLDEN_SLO:-fail}" = "warn" ]; then
    echo "golden_ci: WARNING - SLO violation (GOLDEN_SLO=warn: not failing)" >&2
  else
    echo "golden_ci: FAIL - SLO violation" >&2
    exit 1
  fi
fi
echo "golden_ci: PASS"
exit 0
