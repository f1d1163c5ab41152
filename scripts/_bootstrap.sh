# Sourced by the scripts: create .venv with Python 3.11+ and install a requirements file when it
# changed since the last install (a hash stamp inside .venv), so repeat runs start at once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AIOS_VENV:-$ROOT/.venv}"

find_python() {
  for cmd in python3.13 python3.12 python3.11 python3 python; do
    if command -v "$cmd" >/dev/null 2>&1 &&
       "$cmd" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$cmd"; return 0
    fi
  done
  echo "error: Python 3.11 or newer is needed (python3 --version)" >&2
  return 1
}

requirements_hash() {
  cat "$ROOT"/requirements*.txt "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1
}

ensure_venv() {  # ensure_venv REQUIREMENTS_FILE
  local req="$ROOT/$1" stamp hash
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtual environment in $VENV" >&2
    "$(find_python)" -m venv "$VENV"
  fi
  stamp="$VENV/.installed-$(basename "$1")"
  hash="$(requirements_hash)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    echo "==> installing $1 (first run takes about two minutes here; measured 68-168 s)" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    # The engine itself, editable: `python -m engine` and `aios` then work from any folder.
    "$VENV/bin/python" -m pip install -qq --disable-pip-version-check --no-deps -e "$ROOT"
    echo "$hash" > "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
  PY="$VENV/bin/python"
}

ensure_requirements() {  # ensure_requirements REQUIREMENTS_FILE [MESSAGE]: one more file into .venv, same stamp
  local req="$ROOT/$1" stamp hash
  stamp="$VENV/.installed-$(basename "$1")"
  hash="$(requirements_hash)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    echo "==> installing $1${2:+ ($2)}" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" || return 1
    echo "$hash" > "$stamp"
  fi
}
