# Runbook 004's "Launch Quality Dashboard" on Windows: set up .venv on first run, then serve the
# Streamlit dashboard on http://localhost:8501 ($env:AIOS_DASHBOARD_PORT overrides). Ctrl-C stops it.
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
& $Py -c @"
from engine.providers import resolve_providers
from engine.settings import get_settings, load_model_config
settings = get_settings()
choice = resolve_providers(settings, load_model_config(settings))
print(('provider: SIMULATED (built-in simulator) - ' if choice.simulated else f'provider: {choice.mode} - ') + choice.reason)
print(f'data dir: {settings.paths.root}')
"@
Write-Host "dashboard: http://localhost:$Port"
& $Py -m streamlit run dashboard/app.py --server.port $Port --server.headless true --browser.gatherUsageStats false
exit $LASTEXITCODE
