"""Faults really injected: processes killed under load, a server stopped with turns still
running, PostgreSQL dropping every connection or refusing new ones, a model that trickles.
Each test states what must hold afterwards; the README's reliability table reports them."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from agent_core.errors import StoreUnavailableError
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.postgres import PostgresStore, upgrade_postgres
from agent_core.testing.environment import unconfigured_environment
from agent_core.testing.net import TcpProxy, free_port, wait_for_http
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer, booking_responder
from tests.conftest import POSTGRES_ADMIN_URL, ROOT, eventually, fresh_database, service_missing
from tests.http.conftest import RunningApi

DEMO = str(DEMO_TENANT_ID)


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A database of its own, migrated, dropped afterwards."""
    with fresh_database("vam_fault") as url:
        upgrade_postgres(url)
        yield url


class Database:
    """Raw reads of one store's database, to check what a crash left behind."""

    def __init__(self, settings: dict[str, str]) -> None:
        self._settings = settings

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if "DATABASE_URL" in self._settings:
            with psycopg.connect(self._settings["DATABASE_URL"]) as connection:
                return connection.execute(sql.encode()).fetchall()
        with sqlite3.connect(self._settings["SQLITE_PATH"]) as connection:
            return connection.execute(sql).fetchall()

    def count(self, sql: str) -> int:
        return int(self.rows(sql)[0][0])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {"SQLITE_PATH": str(tmp_path / "faults.sqlite3")}
    return {"DATABASE_URL": request.getfixturevalue("fresh_postgres")}


@contextlib.contextmanager
def api_process(
    settings: dict[str, str], model: FakeOpenAIServer, *extra: str, **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`vam api` in a process of its own and its URL; stopped at the end if still running,
    its output pipe closed."""
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "agent_core.cli", "api", "--port", str(port), *extra],
        cwd=ROOT,
        env=unconfigured_environment(
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=model.base_url,
            OPENAI_MAX_RETRIES="0",
            **settings,
            **env,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as process:
        url = f"http://127.0.0.1:{port}"
        if not wait_for_http(f"{url}/api/health", timeout=30):
            process.kill()
            pytest.fail(f"the API did not start: {process.communicate()[0].decode()}")
        try:
            yield process, url
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def send_turns(url: str, count: int, responses: list[httpx.Response | Exception]) -> list[threading.Thread]:
    def send(i: int) -> None:
        try:
            body = {"tenantId": DEMO, "message": f"Book a tour please, caller {i}"}
            responses.append(httpx.post(f"{url}/api/chat", json=body, timeout=60))
        except httpx.HTTPError as exc:
            responses.append(exc)

    senders = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for sender in senders:
        sender.start()
    return senders


def test_sigkill_under_load_then_restart_loses_and_leaves_nothing(store_settings: dict[str, str]) -> None:
    db = Database(store_settings)
    with (
        FakeOpenAIServer(booking_responder(delay=0.15)) as model,
        api_process(store_settings, model, LEASE_SECONDS="2") as (process, url),
    ):
        responses: list[httpx.Response | Exception] = []
        senders = send_turns(url, 40, responses)
        eventually(lambda: db.count("SELECT count(*) FROM tours") >= 8, "bookings committed under load")
        process.kill()  # SIGKILL: no shutdown code runs
        process.wait()
        for sender in senders:
            sender.join(timeout=60)
    assert db.count("SELECT count(*) FROM turns WHERE status = 'running'") > 0  # the crash left some

    runtime = build_runtime(
        load_settings(**{k.lower(): v for k, v in store_settings.items()}, lease_seconds=2)
    )
    try:
        eventually(
            lambda: db.count("SELECT count(*) FROM turns WHERE status = 'running'") == 0,
            "no turn left running",
        )
        eventually(
            lambda: db.count("SELECT count(*) FROM listener_runs WHERE status <> 'succeeded'") == 0,
            "every listener run completed",
        )
    finally:
        runtime.close()
    tours = db.count("SELECT count(*) FROM tours")
    # Every committed booking has its event, its confirmation run and its outbox message.
    assert db.count("SELECT count(*) FROM events WHERE name = 'tour.booked'") == tours
    assert db.count("SELECT count(*) FROM outbox WHERE kind = 'booking_confirmation'") == tours
    assert db.count("SELECT count(*) FROM tool_calls WHERE status = 'succeeded'") == tours
    # Every interrupted turn is closed as failed with its event; finished ones have theirs.
    failed = db.count("SELECT count(*) FROM turns WHERE status = 'failed'")
    assert failed > 0
    assert db.count("SELECT count(*) FROM events WHERE name = 'chat.turn.failed'") == failed
    assert db.count("SELECT count(*) FROM events WHERE name = 'chat.reply.sent'") == db.count(
        "SELECT count(*) FROM turns WHERE status = 'succeeded'"
    )


def test_sigterm_with_turns_longer_than_the_grace_records_every_turn_and_answers_no_500(
    tmp_path: Path,
) -> None:
    settings = {"SQLITE_PATH": str(tmp_path / "grace.sqlite3")}
    db = Database(settings)
    # Each model answer takes 1.5 s; a turn makes two, longer than the 2 s grace.
    with (
        FakeOpenAIServer(booking_responder(delay=1.5)) as model,
        api_process(settings, model, "--graceful-seconds", "2") as (process, url),
    ):
        responses: list[httpx.Response | Exception] = []
        senders = send_turns(url, 6, responses)
        eventually(lambda: len(model.requests) >= 6, "every turn reached the model")
        process.send_signal(signal.SIGTERM)
        for sender in senders:
            sender.join(timeout=60)
        output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, output
    statuses = [r.status_code if isinstance(r, httpx.Response) else repr(r) for r in responses]
    assert all(s in (200, 503) for s in statuses), statuses
    for response in responses:
        assert isinstance(response, httpx.Response)
        if response.status_code == 503:
            error = response.json()["error"]
            assert error["code"] == "shutting_down"
            assert {"conversationId", "turnId"} <= set(error)
    assert db.count("SELECT count(*) FROM turns WHERE status = 'running'") == 0
    assert db.count("SELECT count(*) FROM turns") == 6


@pytest.mark.postgres
def test_postgres_dropping_every_connection_fails_no_request(fresh_postgres: str) -> None:
    store = PostgresStore(fresh_postgres)
    try:
        assert store.list_tenants()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            dropped = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (fresh_postgres.rsplit("/", 1)[1],),
            ).fetchone()
        assert dropped is not None
        assert dropped[0] >= 1
        # As after a server restart: the pooled connections are dead, and no request fails.
        for _ in range(15):
            assert store.list_tenants()
    finally:
        store.close()


class PrivatePostgres:
    """A PostgreSQL server of the test's own (initdb in a temporary folder), so it can be
    restarted and stopped mid-run without touching the one the rest of the suite uses."""

    def __init__(self, folder: Path, port: int) -> None:
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self._data = folder / "data"
        self._options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"

    def _run(self, tool: str, *args: str) -> None:
        binary = _postgres_binary(tool)
        # PostgreSQL refuses to run as root; CI runs as root, a developer usually not.
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, binary, *args], check=True, capture_output=True)

    def init(self) -> None:
        self._run("initdb", "-D", str(self._data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self._data), "-o", self._options, "-l", str(self._data / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "stop")


def _postgres_binary(tool: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"), key=lambda p: int(p.parts[-3]))
    if not found:
        service_missing(f"PostgreSQL server binaries ({tool}) are not installed")
    return str(found[-1])


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    folder = Path(tempfile.mkdtemp(prefix="vam-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    server = PrivatePostgres(folder, free_port())
    server.init()
    server.start()
    upgrade_postgres(server.url)
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.postgres
def test_after_postgres_restarts_the_first_request_succeeds(private_postgres: PrivatePostgres) -> None:
    store = PostgresStore(private_postgres.url)
    try:
        assert store.list_tenants()
        private_postgres.stop()
        private_postgres.start()
        # Every pooled connection died with the server; none of these requests fails.
        for _ in range(15):
            assert store.list_tenants()
    finally:
        store.close()


@pytest.mark.postgres
def test_while_postgres_is_down_health_says_so_and_the_first_request_after_succeeds(
    private_postgres: PrivatePostgres,
) -> None:
    runtime = build_runtime(load_settings(database_url=private_postgres.url))
    try:
        private_postgres.stop()
        store_health = next(c for c in runtime.health() if c.name == "store")
        assert not store_health.ok
        # Health asks for a second at most: too short to wait for a refused connection's reason.
        assert store_health.detail == "PostgreSQL did not answer within 1 s"
        with pytest.raises(StoreUnavailableError):
            runtime.store.list_tenants()
        private_postgres.start()
        assert runtime.store.list_tenants()
        assert next(c for c in runtime.health() if c.name == "store").ok
    finally:
        runtime.close()


@pytest.mark.parametrize("trickle_bytes", [False, True], ids=["keep-alive lines", "bytes without a newline"])
def test_a_trickling_model_ends_at_its_deadline_and_health_keeps_answering(
    serve: Callable[..., RunningApi], trickle_bytes: bool
) -> None:
    with FakeOpenAIServer() as model:
        for _ in range(8):
            model.enqueue(
                FakeCompletion(text="never finishes", trickle_seconds=60.0, trickle_bytes=trickle_bytes)
            )
        api = serve(
            openai_api_key="sk-test",
            openai_base_url=model.base_url,
            openai_max_retries=0,
            openai_timeout_seconds=2,  # each keep-alive arrives well within it
            openai_first_token_seconds=2,
            openai_deadline_seconds=3,
            turn_deadline_seconds=30,  # the model's deadline, not the turn's, must end them
            api_threads=4,  # fewer worker threads than trickling turns: all of them busy
        )
        responses: list[httpx.Response | Exception] = []
        senders = send_turns(api.url, 8, responses)
        eventually(lambda: len(model.requests) >= 4, "the turns reached the model")
        # Health must not queue behind the turns (which hold every worker thread for 3 s):
        # the client's 3 s limit only turns such a wait into a failure.
        assert api.client.get("/api/health", timeout=3).status_code == 200
        for sender in senders:
            sender.join(timeout=60)
        # The deadline closed each connection: the model server sees its clients gone long
        # before it would have finished trickling (60 s).
        eventually(lambda: model.streaming == 0, "every trickling answer abandoned", within=5)
    assert [r.status_code for r in responses if isinstance(r, httpx.Response)] == [503] * 8
    assert all(
        isinstance(r, httpx.Response)
        and r.json()["error"]["message"] == "the model did not finish its answer in time"
        for r in responses
    )


def test_a_keyed_retry_after_its_process_died_runs_as_soon_as_the_lease_is_out(
    store_settings: dict[str, str],
) -> None:
    """The process holding an Idempotency-Key is killed mid-turn; the client's retry, to
    another process, is answered once the dead holder's lease (2 s here) has run out — not
    with a 409 after waiting for a fixed 300-second claim."""
    db = Database(store_settings)
    request = {"tenantId": DEMO, "message": "Book a tour please"}
    headers = {"Idempotency-Key": "order-after-crash"}
    with (
        FakeOpenAIServer(booking_responder(delay=30.0)) as hanging,
        api_process(store_settings, hanging, LEASE_SECONDS="2") as (first, url),
    ):
        lost: list[httpx.Response | Exception] = []
        sender = threading.Thread(
            target=lambda: lost.append(_post_quietly(f"{url}/api/chat", request, headers)), daemon=True
        )
        sender.start()
        eventually(lambda: len(hanging.requests) == 1, "the keyed turn reached the model")
        first.kill()  # SIGKILL: the claim is never released
        first.wait()
        sender.join(timeout=30)
    with (
        FakeOpenAIServer(booking_responder(delay=0.0)) as model,
        api_process(store_settings, model, LEASE_SECONDS="2") as (_, url),
    ):
        retry = httpx.post(f"{url}/api/chat", json=request, headers=headers, timeout=60)
        again = httpx.post(f"{url}/api/chat", json=request, headers=headers, timeout=60)
    assert retry.status_code == 200, retry.text
    assert again.json() == retry.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert db.count("SELECT count(*) FROM tours") == 1


def _post_quietly(url: str, body: dict[str, str], headers: dict[str, str]) -> httpx.Response | Exception:
    try:
        return httpx.post(url, json=body, headers=headers, timeout=60)
    except httpx.HTTPError as exc:
        return exc


@pytest.mark.postgres
def test_a_partitioned_postgres_fails_a_request_at_the_store_timeout_instead_of_hanging(
    fresh_postgres: str, serve: Callable[..., RunningApi]
) -> None:
    """The network to PostgreSQL goes silent — connections stay open, nothing comes back —
    with pooled connections in use: each request answers 503 once STORE_TIMEOUT_SECONDS (3 s
    here) has passed, health says the store is down, and the first request after the network
    heals succeeds. (Before, a request waited on the dead connection for as long as the
    client would.)"""
    address = urlsplit(fresh_postgres)
    proxy = TcpProxy(address.hostname or "127.0.0.1", address.port or 5432)
    through_proxy = fresh_postgres.replace(f":{address.port}/", f":{proxy.port}/")
    api = serve(database_url=through_proxy, store_timeout_seconds=3)
    body = {"tenantId": DEMO, "message": "Hello"}
    assert api.client.post("/api/chat", json=body).status_code == 200
    proxy.stall()
    answers = [api.client.post("/api/chat", json=body, timeout=30) for _ in range(2)]
    assert [a.status_code for a in answers] == [503] * 2
    assert answers[0].json()["error"]["message"] == "PostgreSQL did not answer within 3 s"
    health = api.client.get("/api/health", timeout=30)
    assert (health.status_code, health.json()["status"]) == (503, "down")
    proxy.heal()
    healed = api.client.post("/api/chat", json=body, timeout=30)
    assert healed.status_code == 200, healed.text
    proxy.cut()
