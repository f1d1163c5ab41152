"""The engine against a real local model (llama.cpp's server, SmolLM2-135M): ask, status and auto
provider detection, streaming through the gateway with the official openai client, goldens recording
and comparing (an unchanged model passes; answers cut to 4 tokens fail, naming the cases) and the judge
with a JSON schema. Answers are capped at TEST_MAX_TOKENS so the tier stays within a few minutes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from engine.loop.quality import score_answer
from engine.provenance import read_events
from engine.providers.select import http_provider
from engine.settings import REPO_ROOT, ModelSpec, build_settings, reset_settings
from tests.realmodel.llama import MODEL_ALIAS, LlamaServer, TruncatingProxy, engine_env, free_port

pytestmark = pytest.mark.slow

GOLDEN_IDS = ("capital_france", "greeting_smalltalk", "define_photosynthesis")


def run_cli(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO_ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout)


def log_of(data_dir: Path) -> list[dict]:
    return read_events(data_dir / "analytics" / "hypotheses.ndjson").events


def test_ask_answers_with_the_real_model(llama_server: LlamaServer, data_dir: Path) -> None:
    done = run_cli(["ask", "What is the capital of France?"], engine_env(llama_server.chat_url, data_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"model {MODEL_ALIAS} via llamacpp" in done.stdout
    response = [e for e in log_of(data_dir) if e["event_type"] == "response"]
    assert len(response) == 1 and response[0]["source"] == MODEL_ALIAS
    assert response[0]["simulated"] is False and response[0]["answer"].strip()
    assert response[0]["tokens"]["completion"] > 0


def test_status_detects_the_server_and_falls_back_without_it(llama_server: LlamaServer, data_dir: Path) -> None:
    env = engine_env(llama_server.chat_url, data_dir)
    found = run_cli(["status"], env, timeout=120)
    assert found.returncode == 0, found.stderr
    assert f"AIOS_PROVIDER=auto: model server answers at {llama_server.base_url}/models" in found.stdout
    assert f"{MODEL_ALIAS} loaded" in found.stdout
    gone = f"http://127.0.0.1:{free_port()}/v1/chat/completions"
    fallback = run_cli(["status"], dict(env, AIOS_MAIN_ENDPOINT=gone, AIOS_EMBEDDER_ENDPOINT=gone), timeout=120)
    assert "using the built-in simulator" in fallback.stdout, fallback.stdout + fallback.stderr


def test_streaming_through_the_gateway_with_the_openai_client(llama_server: LlamaServer, data_dir: Path) -> None:
    port = free_port()
    gateway = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--port", str(port)], cwd=REPO_ROOT,
                               env={**os.environ, **engine_env(llama_server.chat_url, data_dir)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert gateway.poll() is None, f"gateway exited with {gateway.returncode}"
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        client = OpenAI(base_url=base + "/v1", api_key="not-needed", max_retries=0, timeout=300)
        stream = client.chat.completions.create(
            model="router", user="carol", stream=True, stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "Name three primary colours."}])
        chunks = list(stream)
    finally:
        gateway.terminate()
        gateway.wait(15)
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    text = "".join(deltas)
    assert len(deltas) > 1 and text.strip()  # the model's own deltas, not one block
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    assert final.model_extra["aios"]["simulated"] is False
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    logged = [e for e in log_of(data_dir) if e["event_type"] == "response"]
    assert [e["answer"] for e in logged] == [text] and logged[0]["source"] == MODEL_ALIAS


def test_goldens_pass_on_the_unchanged_model_and_fail_on_answers_cut_short(
        llama_server: LlamaServer, data_dir: Path, tmp_path: Path) -> None:
    cases = [c for c in json.loads((REPO_ROOT / "data_core" / "goldens" / "sample_set.json").read_text())
             if c["id"] in GOLDEN_IDS]
    golden_set = tmp_path / "set.json"
    golden_set.write_text(json.dumps(cases))
    env = engine_env(llama_server.chat_url, data_dir)
    common = ["--set", str(golden_set), "--no-progress"]

    record = run_cli(["golden", "record", *common, "--samples", "2"], env)
    assert record.returncode == 0, record.stdout + record.stderr
    assert "2 sample(s) per case, sent seed 1234, temperature 0.0" in record.stdout
    baseline = json.loads((data_dir / "goldens" / "baseline_new.json").read_text())
    assert baseline["sampling"] == {"seed": 1234, "temperature": 0.0} and baseline["simulated"] is False
    assert all(len(entry["samples"]) == 2 for entry in baseline["cases"].values())

    same = run_cli(["golden", "compare", *common], env)
    assert same.returncode == 0, same.stdout + same.stderr
    assert f"Status: PASS ({len(cases)}/{len(cases)} cases pass" in same.stdout

    with TruncatingProxy(llama_server.base_url, max_tokens=4) as proxy:
        cut = run_cli(["golden", "compare", *common],
                      dict(env, AIOS_MAIN_ENDPOINT=proxy.chat_url, AIOS_EMBEDDER_ENDPOINT=proxy.chat_url))
        assert proxy.calls == len(cases)
    assert cut.returncode == 1, cut.stdout + cut.stderr
    for case_id in GOLDEN_IDS:
        assert f"FAIL {case_id}: " in cut.stdout
    report = json.loads((data_dir / "goldens" / "last_report.json").read_text())
    assert report["sampling"] == {"seed": 1234, "temperature": 0.0}
    assert all("recorded" in row["why"] for row in report["cases"])


def test_the_judge_returns_schema_constrained_verdicts(llama_server: LlamaServer, data_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in engine_env(llama_server.chat_url, data_dir).items():
        monkeypatch.setenv(name, value)
    reset_settings()
    judge = http_provider(build_settings(), ModelSpec("main", MODEL_ALIAS, llama_server.chat_url, "llamacpp"))
    answers = [("What is the capital of France?", "The capital of France is Paris."),
               ("What is 2 + 2?", "2 + 2 = 5."),
               ("Define photosynthesis in one sentence.", "Plants turn light, water and CO2 into sugar.")]
    results = [score_answer(q, a, 0.3, judge=judge) for q, a in answers]
    # llama-cpp-python's server refuses OpenAI's json_schema form and takes json_object + schema.
    assert [r.detail["judge_format"] for r in results] == ["json_object"] * len(answers)
    assert [r.method for r in results] == ["judge"] * len(answers), [r.fallback_reason for r in results]
    assert all(0.0 <= r.quality <= 1.0 and "judge" in r.components for r in results)
