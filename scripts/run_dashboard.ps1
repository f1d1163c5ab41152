# Runbook 004's "Launch Quality Dashboard" on Windows: set up .venv on first run, then serve the
# Streamlit dashboard on http://localhost:8501 ($env:AIOS_DASHBOARD_PORT overrides). Ctrl-C stops it.
# It listens on 127.0.0.1 only: the dashboard has no login and offers Ask, Reset adaptive state and
# Rotate log. $env:AIOS_DASHBOARD_ADDRESS = "0.0.0.0" (or one interface's address) opens it to the network.
$ErrorActionPreference = "Stop"
$Root = Split-Path -Parent $PSScriptRoot
Set-Location $Root
$Venv = if ($env:AIOS_VENV) { $env:AIOS_VENV } else { Join-Path $Root ".venv" }
$Py = Join-Path $Venv "Scripts\python.exe"

if (-not (Test-Path $Py)) {
    $Base = $null
    foreach ($candidate in @(@("py", "-3.13"), @("py", "-3.12"), @("py", "-3.11"), @("python"))) {
        $exe = $candidate[0]
        $rest = @($candidate | Select-Object -Skip 1)
        try {
            & $exe @rest -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)" 2>$null
            if ($LASTEXITCODE -eq 0) { $Base = $candidate; break }
        } catch { }
    }
    if (-not $Base) { Write-Error "Python 3.11 or newer is needed (py --version)"; exit 1 }
    Write-Host "==> creating virtual environment in $Venv"
    $exe = $Base[0]
    $rest = @($Base | Select-Object -Skip 1)
    & $exe @rest -m venv $Venv
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

# Reinstall only when a requirements file changed since the last install (a hash stamp inside .venv).
$Hash = (Get-FileHash -Algorithm SHA256 -InputStream ([IO.MemoryStream]::new(
    [Text.Encoding]::UTF8.GetBytes((Get-ChildItem requirements*.txt | Sort-Object Name | Get-Content -Raw) -join "")))).Hash
$Stamp = Join-Path $Venv ".installed-requirements-dashboard.txt"
if (-not (Test-Path $Stamp) -or (Get-Content $Stamp) -ne $Hash) {
    Write-Host "==> installing requirements-dashboard.txt (first run takes about a minute)"
    & $Py -m pip install --quiet --disable-pip-version-check -r requirements-dashboard.txt
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    Set-Content -Path $Stamp -Value $Hash
}

$Port = if ($env:AIOS_DASHBOARD_PORT) { $env:AIOS_DASHBOARD_PORT } else { "8501" }
$Address = if ($env:AIOS_DASHBOARD_ADDRESS) { $env:AIOS_DASHBOARD_ADDRESS } else { "127.0.0.1" }
# Settings and the provider are checked before streamlit starts: a bad setting is one line and exit 2.
& $Py -c @"
import sys
try:
    from engine.errors import EngineError
    from engine.providers import resolve_providers
    from engine.settings import get_settings, load_model_config
    settings = get_settings()
    choice = resolve_providers(settings, load_model_config(settings))
except EngineError as exc:
    print(f'error: {exc.message}', file=sys.stderr)
    sys.exit(2)
except Exception as exc:
    print(f'error: the dashboard cannot start: {type(exc).__name__}: {exc}', file=sys.stderr)
    sys.exit(2)
print(('provider: SIMULATED (built-in simulator) - ' if choice.simulated else f'provider: {choice.mode} - ') + choice.reason)
print(f'data dir: {settings.paths.root}')
"@
if ($LASTEXITCODE -ne 0) { exit 2 }
if ($Address -match '^(127\.|localhost$|::1$)') {
    Write-Host "dashboard: http://localhost:$Port"
} else {
    Write-Host "dashboard: http://${Address}:$Port"
    Write-Warning ("AIOS_DASHBOARD_ADDRESS=${Address}: anyone who can reach this address can ask questions, " +
                   "reset the adaptive state and rotate the log (the dashboard has no login)")
}
& $Py -m streamlit run dashboard/app.py --server.address $Address --server.port $Port --server.headless true --browser.gatherUsageStats false
exit $LASTEXITCODE
