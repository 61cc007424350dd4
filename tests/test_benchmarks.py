"""Every benchmark still runs: each once at a sliver of its size (BENCH_QUICK=1), in a
process of its own, as `make bench-quick` runs them. Their numbers are not looked at: no
test has a wall-clock limit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from benchmarks import ALL
from tests.conftest import POSTGRES_ADMIN_URL, service_missing

ROOT = Path(__file__).resolve().parent.parent
NEEDS_POSTGRES = {"api_scale"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.postgres) if n in NEEDS_POSTGRES else n for n in ALL]
)
def test_the_benchmark_runs_to_its_table(name: str) -> None:
    if name in NEEDS_POSTGRES:
        try:
            psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
        except psycopg.OperationalError as exc:
            service_missing(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    env = {**os.environ, "BENCH_QUICK": "1", "BENCH_POSTGRES_ADMIN_URL": POSTGRES_ADMIN_URL}
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "|---" in done.stdout, done.stdout[-3000:]  # it printed its table
