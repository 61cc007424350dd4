"""Load on the HTTP API: N concurrent conversations running tool turns against one server
process, with a local OpenAI-compatible model that takes a fixed time per call. CPU per turn
is the API process's own (user and system, from /proc) over the level, divided by its turns.

Run: `.venv/bin/python -m benchmarks.api_load` (about a minute). Each tool turn makes two
model calls, so the model's own time per turn is 2 × MODEL_DELAY.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.testing.processes import cpu_seconds
from benchmarks.model_stand_in import api_server, model_stand_in
from benchmarks.timing import sized

MODEL_DELAY = 0.3
DURATION = float(os.environ.get("LOAD_SECONDS", sized(15, 1)))
ROOT = Path(__file__).resolve().parent.parent


async def run_load(url: str, concurrency: int) -> tuple[int, list[float], int]:
    """Every client loops turns until DURATION is over; returns turns, latencies, errors."""
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    stop_at = time.monotonic() + DURATION
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def conversation(i: int) -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/api/chat",
                        json={"tenantId": str(DEMO_TENANT_ID), "message": f"Book Ana Silva ({i})"},
                    )
                except httpx.TransportError as exc:
                    errors += 1
                    kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
                    continue
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1
                    kinds[str(response.status_code)] = kinds.get(str(response.status_code), 0) + 1

        await asyncio.gather(*(conversation(i) for i in range(concurrency)))
    if kinds:
        print(f"errors by kind at {concurrency}: {kinds}")
    return len(latencies), latencies, errors


def main() -> None:
    database = os.environ.get("BENCH_DATABASE_URL")
    with (
        tempfile.TemporaryDirectory() as folder,
        model_stand_in(MODEL_DELAY) as model_url,
        api_server(
            model_url,
            {"DATABASE_URL": database} if database else {"SQLITE_PATH": str(Path(folder) / "load.sqlite3")},
            threads=512,
        ) as (url, api_pid),
    ):
        print(
            f"model: {MODEL_DELAY * 1000:.0f} ms per call, 2 calls per tool turn; {DURATION:.0f} s per level"
        )
        print(
            "| concurrent conversations | turns/s | p50 ms | p95 ms | p95 / model time"
            " | API CPU ms/turn | errors |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for concurrency in (20, 50, 200):
            cpu_before = cpu_seconds({api_pid})
            turns, latencies, errors = asyncio.run(run_load(url, concurrency))
            cpu_ms = (cpu_seconds({api_pid}) - cpu_before) / max(turns, 1) * 1000
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p95 = latencies[int(len(latencies) * 0.95)] * 1000
            model_ms = 2 * MODEL_DELAY * 1000
            print(
                f"| {concurrency} | {turns / DURATION:.0f} | {p50:.0f} | {p95:.0f}"
                f" | {p95 / model_ms:.2f}× | {cpu_ms:.1f} | {errors} |"
            )


if __name__ == "__main__":
    main()
