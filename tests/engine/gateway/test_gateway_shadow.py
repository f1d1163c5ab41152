"""Shadow comparisons through the real gateway: the answer goes out first, the comparison (the other
model asked the same question) is logged afterwards, plain and streamed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support.fake_openai import FakeOpenAIServer

DELAY_S = 0.2


@pytest.fixture
def upstreams():
    with FakeOpenAIServer(models=["fake-7b"], reply="The answer is 42.", delay_s=DELAY_S) as main, \
            FakeOpenAIServer(models=["fake-1b"], reply="I think the answer is 41.", delay_s=DELAY_S) as embedder:
        yield main, embedder


def comparisons(data_dir: Path, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    log = data_dir / "analytics" / "hypotheses.ndjson"
    while time.monotonic() < deadline:
        if log.exists():
            found = [e for e in (json.loads(line) for line in log.read_text().splitlines() if line)
                     if e["event_type"] == "comparison"]
            if found:
                return found
        time.sleep(0.05)
    return []


@pytest.mark.parametrize("stream", [False, True])
def test_the_answer_is_served_first_and_the_comparison_arrives_after(live_gateway, upstreams, data_dir, stream):
    main, embedder = upstreams
    base = live_gateway(AIOS_PROVIDER="openai", AIOS_SHADOW_RATE="1",
                        AIOS_MAIN_ENDPOINT=main.chat_url, AIOS_MAIN_MODEL="fake-7b",
                        AIOS_EMBEDDER_ENDPOINT=embedder.chat_url, AIOS_EMBEDDER_MODEL="fake-1b")
    body = {"model": "router", "messages": [{"role": "user", "content": "What is 6 times 7?"}], "stream": stream}
    started = time.monotonic()
    with httpx.stream("POST", base + "/v1/chat/completions", json=body, timeout=30) as response:
        assert response.status_code == 200
        text = response.read().decode()
    served_s = time.monotonic() - started
    assert "42" in text or "41" in text
    found = comparisons(data_dir)
    assert len(found) == 1
    comparison = found[0]
    assert {comparison["served_route"], comparison["shadow_route"]} == {"main", "embedder"}
    assert comparison["agreement"] == 0.0 and comparison["sampling_probability"] == 1.0
    assert {comparison["served_final_answer"], comparison["shadow_final_answer"]} == {"42", "41"}
    # The served answer did not wait for the shadow call (one upstream delay, not two).
    assert served_s < 2 * DELAY_S + 1.0
    assert len(main.requests) + len(embedder.requests) == 2
