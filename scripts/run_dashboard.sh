#!/usr/bin/env bash
# Runbook 004's "Launch Quality Dashboard": set up .venv on first run, then serve the Streamlit
# dashboard on http://localhost:8501 (AIOS_DASHBOARD_PORT overrides). Ctrl-C stops it.
source "$(dirname "${BASH_SOURCE[0]}")/_bootstrap.sh"
ensure_venv requirements-dashboard.txt
cd "$ROOT"
PORT="${AIOS_DASHBOARD_PORT:-8501}"
"$PY" - <<'PYEOF' || true
from engine.providers import resolve_providers
from engine.settings import get_settings, load_model_config
settings = get_settings()
choice = resolve_providers(settings, load_model_config(settings))
print(("provider: SIMULATED (built-in simulator) - " if choice.simulated else f"provider: {choice.mode} - ")
      + choice.reason)
print(f"data dir: {settings.paths.root}")
PYEOF
echo "dashboard: http://localhost:${PORT}"
exec "$PY" -m streamlit run dashboard/app.py \
  --server.port "$PORT" --server.headless true --browser.gatherUsageStats false
