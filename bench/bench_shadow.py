"""Does a shadow comparison delay the served answer? The real gateway (`python -m engine serve`) over two
loopback upstreams that answer after 200 ms; sequential chats with AIOS_SHADOW_RATE=0 and =1 (every
answer compared, in the background after the response), medians and their ratio; then the comparison
events counted. Usage: .venv/bin/python bench/bench_shadow.py [--n 40] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.fake_openai import FakeOpenAIServer  # noqa: E402
from tests.support.serve import start_gateway, stop  # noqa: E402

DELAY_S = 0.2


def run(rate: str, n: int, main: FakeOpenAIServer, embedder: FakeOpenAIServer) -> tuple[list[float], int]:
    with tempfile.TemporaryDirectory() as folder:
        base, proc = start_gateway({"AIOS_DATA_DIR": folder, "AIOS_PROVIDER": "openai", "AIOS_SHADOW_RATE": rate,
                                    "AIOS_MAIN_ENDPOINT": main.chat_url, "AIOS_MAIN_MODEL": "fake-7b",
                                    "AIOS_EMBEDDER_ENDPOINT": embedder.chat_url, "AIOS_EMBEDDER_MODEL": "fake-1b"})
        try:
            latencies = []
            with httpx.Client(timeout=30) as client:
                for i in range(n):
                    body = {"model": "router", "user": f"s{i}",
                            "messages": [{"role": "user", "content": f"What is {i} times 7?"}]}
                    started = time.perf_counter()
                    assert client.post(base + "/v1/chat/completions", json=body).status_code == 200
                    latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(2 * DELAY_S + 0.5)  # the last background comparison
            log = Path(folder) / "analytics" / "hypotheses.ndjson"
            events = [json.loads(line) for line in log.read_text().splitlines() if line]
            return latencies, sum(e["event_type"] == "comparison" for e in events)
        finally:
            stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    medians: dict[str, list[float]] = {"0": [], "1": []}
    counts: dict[str, list[int]] = {"0": [], "1": []}
    with FakeOpenAIServer(models=["fake-7b"], reply="The answer is 42.", delay_s=DELAY_S) as main_up, \
            FakeOpenAIServer(models=["fake-1b"], reply="The answer is 42.", delay_s=DELAY_S) as emb_up:
        for _ in range(args.repeats):  # interleaved, so load on the machine hits both alike
            for rate in ("0", "1"):
                latencies, compared = run(rate, args.n, main_up, emb_up)
                medians[rate].append(statistics.median(latencies))
                counts[rate].append(compared)
    off, on = statistics.median(medians["0"]), statistics.median(medians["1"])
    print(f"served-answer latency over a {DELAY_S * 1000:.0f} ms upstream, {args.n} sequential chats x "
          f"{args.repeats} runs (median of run medians)")
    print(f"  shadow off: {off:.1f} ms  (runs {', '.join(f'{m:.1f}' for m in medians['0'])}); comparisons "
          f"{counts['0']}")
    print(f"  shadow on:  {on:.1f} ms  (runs {', '.join(f'{m:.1f}' for m in medians['1'])}); comparisons "
          f"{counts['1']} of {args.n} answers each")
    print(f"  on / off: {on / off:.3f} (aim: within 1.10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
