#!/usr/bin/env bash
# Runbook 004's "Launch Quality Dashboard": set up .venv on first run, then serve the Streamlit
# dashboard on http://localhost:8501 (AIOS_DASHBOARD_PORT overrides). Ctrl-C stops it.
# It listens on 127.0.0.1 only: the dashboard has no login and offers Ask, Reset adaptive state and
# Rotate log. AIOS_DASHBOARD_ADDRESS=0.0.0.0 (or one interface's address) opens it to the network.
source "$(dirname "${BASH_SOURCE[0]}")/_bootstrap.sh"
ensure_venv requirements-dashboard.txt
cd "$ROOT"
PORT="${AIOS_DASHBOARD_PORT:-8501}"
ADDRESS="${AIOS_DASHBOARD_ADDRESS:-127.0.0.1}"
# Settings and the provider are checked before streamlit starts: a bad setting is one line and exit 2,
# not a traceback followed by a dashboard of exception boxes.
if ! "$PY" - <<'PYEOF'; then
import sys
try:
    from engine.errors import EngineError
    from engine.providers import resolve_providers
    from engine.settings import get_settings, load_model_config
    settings = get_settings()
    choice = resolve_providers(settings, load_model_config(settings))
except EngineError as exc:
    print(f"error: {exc.message}", file=sys.stderr)
    sys.exit(2)
except Exception as exc:  # anything else: still one line, and no dashboard
    print(f"error: the dashboard cannot start: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(2)
print(("provider: SIMULATED (built-in simulator) - " if choice.simulated else f"provider: {choice.mode} - ")
      + choice.reason)
print(f"data dir: {settings.paths.root}")
PYEOF
  exit 2
fi
case "$ADDRESS" in
  127.*|localhost|::1)
    echo "dashboard: http://localhost:${PORT}" ;;
  *)
    echo "dashboard: http://${ADDRESS}:${PORT}"
    echo "warning: AIOS_DASHBOARD_ADDRESS=${ADDRESS}: anyone who can reach this address can ask questions," \
         "reset the adaptive state and rotate the log (the dashboard has no login)" >&2 ;;
esac
exec "$PY" -m streamlit run dashboard/app.py \
  --server.address "$ADDRESS" --server.port "$PORT" --server.headless true --browser.gatherUsageStats false
