"""Goldens and the judge on a real local model (llama.cpp's server, SmolLM2-135M from requirements-realmodel.txt):

1. `golden record` once, then `golden compare` N times (default 20) of the unchanged model: how many of the
   N x 10 case-runs were flagged (aim: at most 1 of 200);
2. N compares through a proxy that cuts every answer to 4 tokens: every run must exit 1 and name every case
   whose answer was actually cut (the proxy sees the server stop at the limit);
3. the judge on 40 answers (the ten sample goldens, four answers each): how many verdicts were valid and
   which response format the server took (aim: at least 95 %).
With --noisy, also the issue's old setting (temperature 0.2, no seed): compares against one recorded
answer per case and against three, to show what the recorded spread buys when a server samples.

    .venv/bin/python bench/bench_realmodel.py [--compares 20] [--samples 3] [--max-tokens 128] [--noisy 5]

Runs the real CLI (`python -m engine golden ...`) in a temporary data dir; prints the figures and exits 0
when the aims hold, 1 otherwise. Takes minutes: every answer is a real model call on this machine's CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.golden.cases import load_golden_set  # noqa: E402
from engine.loop.quality import score_answer  # noqa: E402
from engine.providers.select import http_provider  # noqa: E402
from engine.settings import REPO_ROOT, ModelSpec, build_settings, reset_settings  # noqa: E402
from tests.realmodel.llama import (  # noqa: E402
    MODEL_ALIAS,
    TruncatingProxy,
    engine_env,
    missing_packages,
    start_llama_server,
)

SET = REPO_ROOT / "data_core" / "goldens" / "sample_set.json"
MAX_FLAGGED, MIN_VALID_VERDICTS = 1, 0.95


def golden(args: list[str], env: dict[str, str]) -> tuple[int, dict[str, Any] | None, float, str]:
    """(exit code, the report for compare --json, seconds, stderr) of one CLI golden command."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "engine", "golden", *args, "--set", str(SET), "--no-progress"],
                          cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=3600)
    report = json.loads(done.stdout) if "--json" in args and done.stdout.strip().startswith("{") else None
    return done.returncode, report, time.perf_counter() - started, done.stderr


def flagged_runs(env: dict[str, str], compares: int, label: str, sampling: list[str]) -> tuple[int, int, list[float]]:
    flagged = total = 0
    times = []
    for i in range(compares):
        code, report, seconds, err = golden(["compare", "--json", *sampling], env)
        if report is None:
            raise SystemExit(f"compare {i + 1} gave no report (exit {code}): {err[-2000:]}")
        times.append(seconds)
        total += report["summary"]["runs"]
        flagged += report["summary"]["runs"] - report["summary"]["runs_passed"]
        print(f"  {label} compare {i + 1:2d}: exit {code}, {report['summary']['label']} pass, {seconds:.0f} s"
              + (f", FAIL {report['summary']['regressed']}" if report["summary"]["regressed"] else ""), flush=True)
    return flagged, total, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compares", type=int, default=20, help="compares of the unchanged and of the cut model")
    parser.add_argument("--samples", type=int, default=3, help="golden record --samples")
    parser.add_argument("--max-tokens", type=int, default=128, help="AIOS_MAX_TOKENS for every answer")
    parser.add_argument("--judged", type=int, default=40, help="answers the judge grades")
    parser.add_argument("--noisy", type=int, default=0, metavar="N",
                        help="also N compares at temperature 0.2 without a seed, against 1 and 3 recorded answers")
    args = parser.parse_args()
    missing = missing_packages()
    if missing:
        print(f"needs {', '.join(missing)}: pip install -r requirements-realmodel.txt", file=sys.stderr)
        return 2

    ok = True
    with tempfile.TemporaryDirectory() as folder:
        server = start_llama_server(Path(folder))
        try:
            data = Path(folder) / "data"
            env = engine_env(server.chat_url, data, max_tokens=args.max_tokens, provider="openai")
            print(f"llama.cpp server pid {server.pid} at {server.base_url}; AIOS_MAX_TOKENS={args.max_tokens}")

            code, _, seconds, err = golden(["record", "--samples", str(args.samples)], env)
            if code != 0:
                print(f"record failed (exit {code}): {err[-2000:]}", file=sys.stderr)
                return 1
            baseline = json.loads((data / "goldens" / "baseline_new.json").read_text())
            floors = [e["spread"]["similarity_floor"] for e in baseline["cases"].values()]
            print(f"record: 10 cases x {args.samples} samples in {seconds:.0f} s, sent {baseline['sampling']}; "
                  f"similarity floors min {min(floors):.2f}, median {statistics.median(floors):.2f}")

            flagged, total, times = flagged_runs(env, args.compares, "unchanged", [])
            ok &= flagged <= MAX_FLAGGED
            print(f"1. unchanged model: {flagged} of {total} case-runs flagged over {args.compares} compares "
                  f"(aim <= {MAX_FLAGGED}); compare median {statistics.median(times):.0f} s")

            set_questions = {c.question: c.id for c in load_golden_set(SET).cases}
            failed_runs = named_all = 0
            for i in range(args.compares):
                with TruncatingProxy(server.base_url, max_tokens=4) as proxy:
                    cut_env = dict(env, AIOS_MAIN_ENDPOINT=proxy.chat_url, AIOS_EMBEDDER_ENDPOINT=proxy.chat_url)
                    code, report, seconds, err = golden(["compare", "--json"], cut_env)
                cut = sorted({set_questions[q] for q, was_cut in proxy.cut if was_cut and q in set_questions})
                regressed = report["summary"]["regressed"] if report else []
                failed_runs += code == 1
                named_all += set(cut) <= set(regressed)
                print(f"  cut compare {i + 1:2d}: exit {code}, cut {len(cut)} cases, named {len(regressed)}"
                      + ("" if set(cut) <= set(regressed) else f", MISSED {sorted(set(cut) - set(regressed))}"),
                      flush=True)
            ok &= failed_runs == named_all == args.compares
            print(f"2. answers cut to 4 tokens: {failed_runs}/{args.compares} runs exit 1, {named_all}/{args.compares} "
                  "name every cut case")

            for name, value in env.items():
                os.environ[name] = value
            reset_settings()
            settings = build_settings()
            judge = http_provider(settings, ModelSpec("main", MODEL_ALIAS, server.chat_url, "llamacpp"))
            answerer = http_provider(settings, ModelSpec("main", MODEL_ALIAS, server.chat_url, "llamacpp"))
            cases = load_golden_set(SET).cases
            valid, formats, judge_ms = 0, {}, []
            for i in range(args.judged):
                case = cases[i % len(cases)]
                attempt = i // len(cases)
                params = {"seed": 1234 + attempt, "temperature": 0.0 if attempt == 0 else 0.8}
                answer = answerer.chat([{"role": "user", "content": case.question}], params=params).text
                started = time.perf_counter()
                result = score_answer(case.question, answer, 0.5, judge=judge)
                judge_ms.append((time.perf_counter() - started) * 1000)
                valid += result.method == "judge"
                fmt = result.detail.get("judge_format", "?")
                formats[fmt] = formats.get(fmt, 0) + 1
            ok &= valid / args.judged >= MIN_VALID_VERDICTS
            print(f"3. judge: {valid}/{args.judged} valid verdicts ({valid / args.judged:.0%}, aim >= "
                  f"{MIN_VALID_VERDICTS:.0%}); formats {formats}; median {statistics.median(judge_ms):.0f} ms")

            if args.noisy:
                noisy = ["--seed", "none", "--temperature", "0.2"]
                for samples in (1, 3):
                    golden(["record", "--samples", str(samples), *noisy], env)
                    flagged, total, _ = flagged_runs(env, args.noisy, f"noisy K={samples}", [])
                    print(f"4. temperature 0.2, no seed, {samples} recorded answer(s) per case: {flagged} of {total} "
                          "case-runs of the unchanged model flagged")
        finally:
            server.stop()
    print("PASS" if ok else "FAIL: an aim was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
