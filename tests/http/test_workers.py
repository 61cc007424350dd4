"""`vam api --workers N`: several processes serve one port on a shared PostgreSQL, each
shutting down like one process does, and a worker that dies is replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.postgres import upgrade_postgres
from agent_core.testing.environment import unconfigured_environment
from agent_core.testing.net import free_port, wait_for_http
from agent_core.testing.openai_server import FakeOpenAIServer, booking_responder
from agent_core.testing.processes import processes
from tests.conftest import ROOT, fresh_database
from tests.http.conftest import booking_turn, sigterm_with_turns_in_flight

pytestmark = pytest.mark.postgres

TURNS = 12


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_database("vam_workers") as url:
        upgrade_postgres(url)
        yield url


def _workers_of(parent: int) -> set[int]:
    """The live worker processes `parent` started (not multiprocessing's helper)."""
    return {
        p.pid for p in processes() if p.parent == parent and p.state != "Z" and b"spawn_main" in p.command
    }


def _start_api(database: str, model_url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = unconfigured_environment(
        DATABASE_URL=database, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=model_url, OPENAI_MAX_RETRIES="0"
    )
    return subprocess.Popen(
        [sys.executable, "-m", "agent_core.cli", "api", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_two_workers_serve_one_port_and_sigterm_lets_every_in_flight_turn_finish(database: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with FakeOpenAIServer(booking_responder(delay=1.0)) as model:
        server = _start_api(database, model.base_url, port, workers=2)
        assert wait_for_http(f"{url}/api/health", timeout=60), "the API did not start"
        assert len(_workers_of(server.pid)) == 2
        responses = sigterm_with_turns_in_flight(server, url, model, TURNS)

    assert sorted(r.status_code for r in responses) == [200] * TURNS
    with psycopg.connect(database) as connection:
        tours = connection.execute("SELECT count(*) FROM tours WHERE tenant_id = %s", (DEMO_TENANT_ID,))
        finished = connection.execute(
            "SELECT status, count(*) FROM turns WHERE tenant_id = %s GROUP BY status", (DEMO_TENANT_ID,)
        )
        assert tours.fetchone() == (TURNS,)
        assert finished.fetchall() == [("succeeded", TURNS)]


def test_a_worker_that_dies_is_replaced_and_the_port_keeps_answering(database: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with FakeOpenAIServer(booking_responder(delay=0.0)) as model:
        server = _start_api(database, model.base_url, port, workers=2)
        try:
            assert wait_for_http(f"{url}/api/health", timeout=60), "the API did not start"
            killed = _workers_of(server.pid).pop()
            os.kill(killed, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while len(_workers_of(server.pid) - {killed}) < 2:
                assert time.monotonic() < deadline, "the dead worker was not replaced"
                time.sleep(0.1)
            assert all(booking_turn(url, i).status_code == 200 for i in range(4))
        finally:
            server.send_signal(signal.SIGTERM)
            output = server.communicate(timeout=60)[0].decode()
        assert server.returncode == 0, output
        assert f"worker {killed} died" in output


def test_several_workers_on_sqlite_are_refused_with_what_to_set(tmp_path: Path) -> None:
    env = unconfigured_environment(SQLITE_PATH=str(tmp_path / "one.sqlite3"))
    done = subprocess.run(
        [sys.executable, "-m", "agent_core.cli", "api", "--workers", "2"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers above 1 needs a database every process shares: set DATABASE_URL" in done.stderr


def test_workers_that_cannot_start_stop_the_server_instead_of_restarting_forever() -> None:
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    env = unconfigured_environment(DATABASE_URL=unreachable)
    done = subprocess.run(
        [sys.executable, "-m", "agent_core.cli", "api", "--port", str(free_port()), "--workers", "2"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "failed to start: stopping" in done.stderr
