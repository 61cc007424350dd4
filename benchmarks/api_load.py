"""Load on the HTTP API: N concurrent conversations running tool turns against one server
process, with a local OpenAI-compatible model that takes a fixed time per call. CPU per turn
is the API process's own (user and system, from /proc) over the level, divided by its turns.
With two cores or more the API runs apart from the load generator and the model.

Run: `.venv/bin/python -m benchmarks.api_load` (about a minute). Each tool turn makes two
model calls, so the model's own time per turn is 2 × MODEL_DELAY.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
from pathlib import Path

from agent_core.testing.processes import cpu_seconds
from benchmarks.load import Conversations, LoadResult, pin_apart
from benchmarks.model_stand_in import api_server, model_stand_in
from benchmarks.timing import sized

MODEL_DELAY = 0.3
DURATION = float(os.environ.get("LOAD_SECONDS", sized(15, 1)))
ROOT = Path(__file__).resolve().parent.parent


async def _level(url: str, concurrency: int, api_pid: int) -> tuple[LoadResult, float]:
    """One level of load; the result and the API's CPU seconds over it."""
    async with Conversations(url, concurrency, lambda i: f"Book Ana Silva ({i})", follow=False) as load:
        cpu_before = cpu_seconds({api_pid})
        result = await load.run(DURATION)
        return result, cpu_seconds({api_pid}) - cpu_before


def main() -> None:
    database = os.environ.get("BENCH_DATABASE_URL")
    with (
        tempfile.TemporaryDirectory() as folder,
        model_stand_in(MODEL_DELAY) as (model_url, model_pid),
        api_server(
            model_url,
            {"DATABASE_URL": database} if database else {"SQLITE_PATH": str(Path(folder) / "load.sqlite3")},
            threads=512,
        ) as (url, api_pid),
    ):
        placement = pin_apart([api_pid], [model_pid])
        print(
            f"model: {MODEL_DELAY * 1000:.0f} ms per call, 2 calls per tool turn; {DURATION:.0f} s per level;"
            f" {placement}"
        )
        print(
            "| concurrent conversations | turns/s | p50 ms | p95 ms | p95 / model time"
            " | API CPU ms/turn | errors |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for concurrency in (20, 50, 200):
            result, cpu_s = asyncio.run(_level(url, concurrency, api_pid))
            turns, latencies = result.turns, sorted(result.latencies)
            if result.errors:
                print(f"errors by kind at {concurrency}: {result.errors}")
            cpu_ms = cpu_s / max(turns, 1) * 1000
            p50 = statistics.median(latencies) * 1000
            p95 = latencies[int(len(latencies) * 0.95)] * 1000
            model_ms = 2 * MODEL_DELAY * 1000
            print(
                f"| {concurrency} | {turns / DURATION:.0f} | {p50:.0f} | {p95:.0f}"
                f" | {p95 / model_ms:.2f}× | {cpu_ms:.1f} | {sum(result.errors.values())} |"
            )


if __name__ == "__main__":
    main()
