"""Gateway memory under oversized input: the server's RSS (and peak RSS) at start, after chats whose
body is just under AIOS_GATEWAY_MAX_BODY_BYTES, and after requests over it (a declared 100 MB body,
refused before it is read, and chunked bodies with no Content-Length, refused as the limit passes),
with /health latency measured while the big requests are in flight.

    .venv/bin/python bench/bench_gateway_memory.py [--limit-mb 4] [--at-limit 5] [--over 20] [--over-mb 100]

Starts `python -m engine serve` on the simulator with a temporary AIOS_DATA_DIR and reads the
server's VmRSS/VmHWM from /proc. The target (issue 13) is a peak under about 300 MB.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.settings import DataPaths  # noqa: E402
from tests.support.serve import start_gateway  # noqa: E402
from tests.support.serve import stop as stop_gateway  # noqa: E402

CHAT = "/v1/chat/completions"


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def chat_body(size: int) -> bytes:
    """A chat request of exactly `size` bytes (one long user message)."""
    empty = json.dumps({"model": "router", "messages": [{"role": "user", "content": ""}]}).encode()
    return json.dumps({"model": "router", "messages": [
        {"role": "user", "content": "word " * ((size - len(empty)) // 5)}]}).encode()


def send_declared_over(port: int, declared: int) -> bytes:
    """Headers declaring `declared` bytes, then as much of the body as the server will take."""
    head = (f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {declared}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        block = b"x" * (1 << 20)
        try:
            for _ in range(declared // len(block)):
                sock.sendall(block)
        except OSError:
            pass  # the server answered 413 and closed: the rest is never sent
        try:
            return sock.recv(200)
        except OSError:
            return b""


def chunked_over(http: httpx.Client, total_mb: int) -> int:
    def chunks():
        block = b"x" * (1 << 20)
        for _ in range(total_mb):
            yield block

    try:
        return http.post(CHAT, content=chunks(), headers={"content-type": "application/json"}).status_code
    except httpx.HTTPError:
        return 413  # the server closed the upload after answering 413


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=float, default=4.0)
    parser.add_argument("--at-limit", type=int, default=5, help="chats with a body just under the limit")
    parser.add_argument("--over", type=int, default=20, help="requests over the limit (half declared, half chunked)")
    parser.add_argument("--over-mb", type=int, default=100, help="size of each oversized body")
    args = parser.parse_args()

    limit = int(args.limit_mb * 1024 * 1024)
    with tempfile.TemporaryDirectory() as data:
        base, server = start_gateway({"AIOS_DATA_DIR": data, "AIOS_PROVIDER": "sim", "AIOS_SIM_LATENCY_SCALE": "0",
                                      "AIOS_GATEWAY_MAX_BODY_BYTES": str(limit), "AIOS_SHADOW_RATE": "0"})
        port = int(base.rsplit(":", 1)[1])
        try:
            with httpx.Client(base_url=base, timeout=60) as http:
                http.post(CHAT, json={"model": "router", "messages": [{"role": "user", "content": "warm up"}]})
                rss, peak = memory_mb(server.pid)
                print(f"start                   RSS {rss:7.1f} MB  peak {peak:7.1f} MB  (limit {limit} bytes)")

                body = chat_body(limit - 1024)
                started = time.perf_counter()
                codes = [http.post(CHAT, content=body, headers={"content-type": "application/json"}).status_code
                         for _ in range(args.at_limit)]
                took = (time.perf_counter() - started) / max(1, args.at_limit)
                rss, peak = memory_mb(server.pid)
                print(f"{args.at_limit} at the limit ({len(body)} B) RSS {rss:7.1f} MB  peak {peak:7.1f} MB  "
                      f"status {sorted(set(codes))}  {took * 1000:.0f} ms each")

                health_ms: list[float] = []
                stop = threading.Event()

                def watch_health() -> None:
                    with httpx.Client(base_url=base, timeout=30) as probe:
                        while not stop.is_set():
                            t0 = time.perf_counter()
                            probe.get("/health")
                            health_ms.append((time.perf_counter() - t0) * 1000)
                            time.sleep(0.05)

                watcher = threading.Thread(target=watch_health, daemon=True)
                watcher.start()
                declared, chunked = [], []
                started = time.perf_counter()
                for i in range(args.over):
                    if i % 2 == 0:
                        declared.append(send_declared_over(port, args.over_mb << 20)[:12].decode(errors="replace"))
                    else:
                        chunked.append(chunked_over(http, args.over_mb))
                took = time.perf_counter() - started
                stop.set()
                watcher.join()
                rss, peak = memory_mb(server.pid)
                print(f"{args.over} over ({args.over_mb} MB each) RSS {rss:7.1f} MB  peak {peak:7.1f} MB  "
                      f"declared {sorted(set(declared))} chunked {sorted(set(chunked))}  {took:.1f} s in all")
                health_ms.sort()
                if health_ms:
                    print(f"/health during them     p50 {health_ms[len(health_ms) // 2]:.1f} ms  "
                          f"max {health_ms[-1]:.1f} ms  ({len(health_ms)} probes)")
                log = DataPaths.under(Path(data)).log
                if log.exists():
                    longest = max((len(line) for line in log.read_bytes().split(b"\n")), default=0)
                    print(f"longest log line        {longest} bytes")
                print(f"target: peak RSS under 300 MB -> {'OK' if peak < 300 else 'OVER'}")
        finally:
            stop_gateway(server)


if __name__ == "__main__":
    main()
