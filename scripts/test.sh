#!/usr/bin/env bash
# The whole test suite on a fresh machine: creates .venv, installs, runs pytest.
# Extra arguments go to pytest (e.g. bash scripts/test.sh -k provider).
source "$(dirname "${BASH_SOURCE[0]}")/_bootstrap.sh"
ensure_venv requirements-test.txt
cd "$ROOT"
exec "$PY" -m pytest "$@"
