"""Gateway latency on loopback: /choose under 20 concurrent clients, and chat completions through
the gateway over a zero-latency fake OpenAI upstream compared with calling that upstream directly;
then streamed chats over an upstream writing a word every --chunk-ms: time to the first text chunk
vs the whole answer, through the gateway and directly.

    .venv/bin/python bench/bench_gateway.py [--choose 2000] [--clients 20] [--chats 1000] [--workers 1]
                                            [--streams 20] [--chunk-ms 10]

Starts `python -m engine serve` as a subprocess on a free port with a temporary AIOS_DATA_DIR,
BANDIT_ENABLED=1 and AIOS_PROVIDER=openai pointing at tests/support/fake_openai.py's server, so the
measured overhead is the gateway's own work (bandit pick, recipe, routing, quality, provenance,
adaptive state) plus one loopback hop. Prints p50/p99 (ms) and error counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tests.support.fake_openai as fake_openai  # noqa: E402
from tests.support.fake_openai import FakeOpenAIServer  # noqa: E402
from tests.support.serve import start_gateway, stop  # noqa: E402

# http.server writes headers and body in two send()s; with Nagle on, each answer then waits for
# the client's delayed ACK (~40 ms on Linux), which would swamp what this bench measures.
fake_openai._Handler.disable_nagle_algorithm = True

REPLY = ("A hash map stores keys in buckets chosen by a hash function, so a lookup checks one bucket; "
         "collisions are resolved by chaining or open addressing and resizing keeps buckets short.")
QUESTION = "How does a hash map resolve collisions and keep lookups fast?"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


async def _client(host: str, port: int, request: bytes, n: int, latencies: list[float], errors: list[int]) -> None:
    """One keep-alive HTTP/1.1 connection sending `request` n times (a minimal client, like wrk,
    so the load generator's own CPU cost stays small next to the server's)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(n):
            started = time.perf_counter()
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                await reader.readexactly(length)
                ok = status == 200
            except (OSError, asyncio.IncompleteReadError, AttributeError, ValueError):
                ok = False
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            latencies.append((time.perf_counter() - started) * 1000)
            errors[0] += 0 if ok else 1
    finally:
        writer.close()


def load(url: str, body: dict, total: int, clients: int) -> tuple[list[float], int, float]:
    """POST `body` to `url` `total` times from `clients` concurrent connections; (latencies ms, errors, wall s)."""
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    request = (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload
    latencies: list[float] = []
    errors = [0]
    per_client = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]

    async def run() -> None:
        await asyncio.gather(*(_client(parts.hostname, parts.port, request, n, latencies, errors)
                               for n in per_client if n))

    started = time.perf_counter()
    asyncio.run(run())
    return latencies, errors[0], time.perf_counter() - started


def loop_in_process(upstream: str, total: int) -> tuple[list[float], int, float]:
    """engine.api.ask in this process over the same upstream: the loop's own cost, no HTTP in front."""
    from engine.api import ask, clear_engines
    from engine.settings import build_settings

    latencies, errors = [], 0
    with tempfile.TemporaryDirectory() as data_dir:
        settings = build_settings(aios_data_dir=data_dir, aios_provider="openai", aios_main_endpoint=upstream,
                                  aios_embedder_endpoint=upstream, aios_max_retries=0)
        for _ in range(20):
            ask(QUESTION, session_id="bench", settings=settings)
        started = time.perf_counter()
        for _ in range(total):
            t0 = time.perf_counter()
            errors += 1 if ask(QUESTION, session_id="bench", settings=settings).error_code else 0
            latencies.append((time.perf_counter() - t0) * 1000)
        wall = time.perf_counter() - started
        clear_engines()
    return latencies, errors, wall


def has_text(line: str) -> bool:
    """Is this SSE line a chunk with answer text (not the role chunk, usage or [DONE])?"""
    if not line.startswith("data: {"):
        return False
    choices = json.loads(line[len("data: "):]).get("choices") or [{}]
    return bool((choices[0].get("delta") or {}).get("content"))


def stream_timings(url: str, body: dict, n: int) -> tuple[list[float], list[float], int]:
    """POST a streamed chat `n` times; (ms to the first non-empty text chunk, ms to the end, errors)."""
    first_ms, total_ms, errors = [], [], 0
    with httpx.Client(timeout=60) as client:
        for _ in range(n):
            started = time.perf_counter()
            first = None
            with client.stream("POST", url, json={**body, "stream": True}) as response:
                for line in response.iter_lines():
                    if first is None and has_text(line):
                        first = (time.perf_counter() - started) * 1000
            if response.status_code != 200 or first is None:
                errors += 1
                continue
            first_ms.append(first)
            total_ms.append((time.perf_counter() - started) * 1000)
    return first_ms, total_ms, errors


def row(name: str, latencies: list[float], errors: int, wall: float) -> str:
    return (f"{name:<34}{len(latencies):>7}{errors:>7}{percentile(latencies, 50):>9.2f}"
            f"{percentile(latencies, 99):>9.2f}{len(latencies) / wall:>9.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--choose", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--chat-clients", type=int, default=1, help="concurrency of the chat comparison")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--streams", type=int, default=20, help="streamed chats per path")
    parser.add_argument("--chunk-ms", type=float, default=10.0,
                        help="the upstream's pause between streamed words (plain answers are immediate)")
    args = parser.parse_args()

    chat_body = {"model": "router", "messages": [{"role": "user", "content": QUESTION}], "user": "bench"}
    with tempfile.TemporaryDirectory() as data_dir, \
            FakeOpenAIServer(models=["fake-7b"], reply=REPLY, chunk_delay_s=args.chunk_ms / 1000) as fake:
        base, proc = start_gateway({"AIOS_DATA_DIR": data_dir, "BANDIT_ENABLED": "1", "AIOS_PROVIDER": "openai",
                                    "AIOS_MAIN_ENDPOINT": fake.chat_url, "AIOS_EMBEDDER_ENDPOINT": fake.chat_url,
                                    "AIOS_MAX_RETRIES": "0"}, "--workers", str(args.workers))
        try:
            # Warm-up: connection pools, first-import costs, SQLite and log files created.
            load(base + "/choose", {"assistant": "chatgpt", "category": "coding"}, 50, 5)
            load(base + "/v1/chat/completions", chat_body, 20, 1)
            load(fake.chat_url, {"model": "fake-7b", "messages": chat_body["messages"]}, 20, 1)

            results = [
                ("/choose", *load(base + "/choose", {"assistant": "chatgpt", "category": "coding"},
                                  args.choose, args.clients)),
                ("upstream directly", *load(fake.chat_url, {"model": "fake-7b", "messages": chat_body["messages"]},
                                            args.chats, args.chat_clients)),
                ("chat via gateway (router)", *load(base + "/v1/chat/completions", chat_body,
                                                    args.chats, args.chat_clients)),
                ("loop in-process (engine.api.ask)", *loop_in_process(fake.chat_url, args.chats)),
            ]
            direct_body = {"model": "fake-7b", "messages": chat_body["messages"]}
            streams = [("stream upstream directly", *stream_timings(fake.chat_url, direct_body, args.streams)),
                       ("stream via gateway (router)",
                        *stream_timings(base + "/v1/chat/completions", chat_body, args.streams))]
        finally:
            stop(proc, timeout_s=15)
    print(f"gateway workers={args.workers}; /choose from {args.clients} concurrent clients; chats from "
          f"{args.chat_clients} client(s) over a zero-latency loopback upstream (ms)")
    print(f"{'measure':<34}{'n':>7}{'errors':>7}{'p50':>9}{'p99':>9}{'req/s':>9}")
    for name, latencies, errors, wall in results:
        print(row(name, latencies, errors, wall))
    direct, via, loop = results[1][1], results[2][1], results[3][1]
    print()
    overhead = percentile(via, 50) - percentile(direct, 50)
    print(f"gateway overhead p50 (via gateway - upstream directly): {overhead:.2f} ms "
          f"(aim < 3 ms); p99: {percentile(via, 99) - percentile(direct, 99):.2f} ms; "
          f"mean {statistics.mean(via) - statistics.mean(direct):.2f} ms")
    print(f"  of which the loop itself (ask in-process - upstream directly), p50: "
          f"{percentile(loop, 50) - percentile(direct, 50):.2f} ms")
    print(f"  and the HTTP layer + bandit pick + recipe (via gateway - ask in-process), p50: "
          f"{percentile(via, 50) - percentile(loop, 50):.2f} ms")
    print(f"/choose p99: {percentile(results[0][1], 99):.2f} ms (aim < 20 ms)")
    print()
    print(f"streamed chats: upstream writes {len(REPLY.split())} words {args.chunk_ms:g} ms apart (ms)")
    print(f"{'measure':<34}{'n':>7}{'errors':>7}{'first p50':>11}{'whole p50':>11}")
    for name, first, whole, errors in streams:
        print(f"{name:<34}{len(first):>7}{errors:>7}{percentile(first, 50):>11.2f}{percentile(whole, 50):>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
