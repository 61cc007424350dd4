"""Scale-out: 1, 2 and 4 API processes (`vam api --workers N`) on one PostgreSQL, each
conversation on its own connection, then a correctness check of what was written.

Run: `.venv/bin/python -m benchmarks.api_scale` (about two minutes; PostgreSQL on
127.0.0.1:5432, or BENCH_POSTGRES_ADMIN_URL). A fresh database per level. The model is the
local OpenAI-compatible stand-in (MODEL_DELAY per call, two calls per tool turn), in its own
process. CPU per turn is read from /proc: the API processes' own, and the database's (every
`postgres` process). On a 2-core machine the load generator (`benchmarks/load.py`, ~1 ms of
CPU per turn), the model stand-in and the database share the cores with the API processes:
the turns/s stop growing where the cores run out.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import psycopg

from agent_core.store.postgres import upgrade_postgres
from agent_core.testing.processes import cpu_seconds, processes
from benchmarks.load import Conversations
from benchmarks.model_stand_in import api_server, model_stand_in
from benchmarks.timing import QUICK, sized

MODEL_DELAY = float(os.environ.get("MODEL_DELAY", "0.3"))
DURATION = float(os.environ.get("LOAD_SECONDS", sized(15, 1)))
CONVERSATIONS = int(os.environ.get("CONVERSATIONS", sized(200, 10)))
ADMIN_URL = os.environ.get("BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Level:
    workers: int
    turns: int
    latencies: list[float]
    errors: int
    api_cpu_s: float
    db_cpu_s: float

    def row(self) -> str:
        self.latencies.sort()
        p50 = statistics.median(self.latencies) * 1000
        p95 = self.latencies[int(len(self.latencies) * 0.95)] * 1000
        model_ms = 2 * MODEL_DELAY * 1000
        api_ms, db_ms = self.api_cpu_s / self.turns * 1000, self.db_cpu_s / self.turns * 1000
        return (
            f"| {self.workers} | {self.turns / DURATION:.0f} | {p50:.0f} | {p95:.0f} | {p95 / model_ms:.2f}×"
            f" | {api_ms:.1f} | {db_ms:.1f} | {self.errors} |"
        )


def _processes(parent: int | None = None, name: str | None = None) -> set[int]:
    """`parent` and its children, or every process called `name`."""
    return {
        p.pid
        for p in processes()
        if (parent is not None and parent in (p.pid, p.parent)) or (name is not None and p.name == name)
    }


@contextmanager
def _database() -> Iterator[str]:
    name = f"vam_scale_{uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade_postgres(url)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _load(workers: int, url: str, api_pids: set[int], database_pids: set[int]) -> Level:
    """One level of load; what it got and the CPU the API and the database spent on it."""
    async with Conversations(url, CONVERSATIONS, lambda i: f"Book a tour ({i})", follow=True) as load:
        before = cpu_seconds(api_pids), cpu_seconds(database_pids)
        result = await load.run(DURATION)
        after = cpu_seconds(api_pids), cpu_seconds(database_pids | _processes(name="postgres"))
    errors = sum(result.errors.values())
    return Level(workers, result.turns, result.latencies, errors, after[0] - before[0], after[1] - before[1])


def _check(database: str, turns: int) -> str:
    """Every turn finished, every listener run delivered once, no booking twice; waits for
    the listeners to catch up first."""
    with psycopg.connect(database, autocommit=True) as connection:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT count(*) FROM listener_runs WHERE status <> 'succeeded'"
            ).fetchone()
            if row == (0,):
                break
            time.sleep(0.5)

        def one(sql: str) -> int:
            row = connection.execute(sql).fetchone()
            assert row is not None
            return int(row[0])

        running = one("SELECT count(*) FROM turns WHERE status <> 'succeeded'")
        unsettled = one("SELECT count(*) FROM listener_runs WHERE status <> 'succeeded' OR attempts <> 1")
        doubled = one(
            "SELECT count(*) FROM (SELECT 1 FROM tours WHERE status = 'booked'"
            " GROUP BY tenant_id, name_key, tour_date, location HAVING count(*) > 1) d"
        )
        tours = one("SELECT count(*) FROM tours")
    verdict = "ok" if (running, unsettled, doubled) == (0, 0, 0) and tours >= turns else "WRONG"
    return (
        f"{verdict}: {turns} turns answered, {tours} bookings, {running} turns not succeeded,"
        f" {unsettled} listener runs not delivered exactly once, {doubled} bookings doubled"
    )


def _level(workers: int, model_url: str) -> tuple[Level, str]:
    with (
        _database() as database,
        api_server(model_url, {"DATABASE_URL": database}, threads=256, workers=workers) as (url, api_pid),
    ):
        level = asyncio.run(_load(workers, url, _processes(parent=api_pid), _processes(name="postgres")))
        return level, _check(database, level.turns)


def main() -> None:
    with model_stand_in(MODEL_DELAY) as (model_url, _):
        print(
            f"{CONVERSATIONS} conversations, one connection each; model {MODEL_DELAY * 1000:.0f} ms per call,"
            f" 2 calls per tool turn; {DURATION:.0f} s per level; {os.cpu_count()} cores"
        )
        print(
            "| API processes | turns/s | p50 ms | p95 ms | p95 / model time | API CPU ms/turn"
            " | DB CPU ms/turn | errors |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        checks = []
        for workers in [int(n) for n in os.environ.get("WORKERS", "1" if QUICK else "1,2,4").split(",")]:
            level, check = _level(workers, model_url)
            print(level.row(), flush=True)
            checks.append(f"{workers} process(es): {check}")
        print()
        print("\n".join(checks))


if __name__ == "__main__":
    main()
