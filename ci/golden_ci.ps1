# Runbook 004's quality gate for PowerShell: record the golden baseline if none exists, compare
# against it (threshold 0.25), then check the SLOs. Exit 0 pass, 1 regression or SLO violation,
# 2 bad input. Same optional environment as ci/golden_ci.sh: GOLDEN_SET, GOLDEN_BASELINE,
# GOLDEN_REPORT, GOLDEN_THRESHOLD, GOLDEN_JOBS, GOLDEN_JUNIT, GOLDEN_SLO=warn, AIOS_DATA_DIR, PYTHON.
# Continue: a native command writing to stderr must not abort the script (Windows PowerShell 5.1).
$ErrorActionPreference = "Continue"
$Root = Split-Path -Parent $PSScriptRoot

function Find-Python {
    $candidates = @($env:PYTHON, (Join-Path $Root ".venv\Scripts\python.exe"), (Join-Path $Root ".venv/bin/python"),
                    "py", "python", "python3") | Where-Object { $_ }
    foreach ($candidate in $candidates) {
        if (Get-Command $candidate -ErrorAction SilentlyContinue) {
            # Python 3.11+ that has the engine's requirements installed.
            & $candidate -c "import sys; assert sys.version_info >= (3, 11); import pydantic_settings, numpy, tqdm" 2>$null
            if ($LASTEXITCODE -eq 0) { return $candidate }
        }
    }
    return $null
}

$Py = Find-Python
if (-not $Py) {
    Write-Host "golden_ci: no Python 3.11+ with the engine's requirements (tried .venv, py, python, python3); run 'py -m pip install -r requirements.txt'"
    exit 2
}
$Runner = Join-Path $Root "scripts\golden_runner.py"
$Alert = Join-Path $Root "scripts\quality_alert.py"
$Threshold = if ($env:GOLDEN_THRESHOLD) { $env:GOLDEN_THRESHOLD } else { "0.25" }
$Jobs = if ($env:GOLDEN_JOBS) { $env:GOLDEN_JOBS } else { "1" }

$SetArgs = @(); if ($env:GOLDEN_SET) { $SetArgs = @("--set", $env:GOLDEN_SET) }
$OutArgs = @(); if ($env:GOLDEN_BASELINE) { $OutArgs = @("--out", $env:GOLDEN_BASELINE) }
$BaselineArgs = @(); if ($env:GOLDEN_BASELINE) { $BaselineArgs = @("--baseline", $env:GOLDEN_BASELINE) }
$ReportArgs = @(); if ($env:GOLDEN_REPORT) { $ReportArgs = @("--out", $env:GOLDEN_REPORT) }
$JunitArgs = @(); if ($env:GOLDEN_JUNIT) { $JunitArgs = @("--junit", $env:GOLDEN_JUNIT) }
$SloArgs = @(); if ($env:GOLDEN_REPORT) { $SloArgs = @("--report", $env:GOLDEN_REPORT) }

Write-Host "==> golden baseline (recorded only if missing) [$Py]"
& $Py $Runner record --skip-existing @SetArgs @OutArgs -j $Jobs
if ($LASTEXITCODE -ne 0) { Write-Host "golden_ci: FAIL - could not record the baseline"; exit $LASTEXITCODE }

Write-Host "==> golden compare (threshold $Threshold)"
& $Py $Runner compare @SetArgs @BaselineArgs --threshold $Threshold @ReportArgs @JunitArgs -j $Jobs
$CompareRc = $LASTEXITCODE
if ($CompareRc -eq 2) { Write-Host "golden_ci: FAIL - bad input (see the message above)"; exit 2 }

Write-Host "==> SLO check"
& $Py $Alert @SloArgs
$SloRc = $LASTEXITCODE

if ($CompareRc -ne 0) { Write-Host "golden_ci: FAIL - golden regression (details above and in the report)"; exit 1 }
if ($SloRc -ne 0) {
    if ($env:GOLDEN_SLO -eq "warn") { Write-Host "golden_ci: WARNING - SLO violation (GOLDEN_SLO=warn: not failing)" }
    else { Write-Host "golden_ci: FAIL - SLO violation"; exit 1 }
}
Write-Host "golden_ci: PASS"
exit 0
