"""Tenant prompts: cached per process and across processes, edits seen by the next turn."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from agent_core.clock import FixedClock
from agent_core.prompt_cache import PromptCache, _key
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID, DEMO_TENANTS
from agent_core.store.sqlite import SqliteStore
from agent_core.testing.net import free_port
from tests.conftest import ROOT, TEST_ADMIN, make_workspace, service_missing, whole_turn

DEMO_PROMPT = DEMO_TENANTS[0][2]


class CountingStore:
    """Wraps a store to count the reads the cache lets through."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.reads = 0

    def get_tenant(self, tenant_id: object) -> object:
        self.reads += 1
        return self.store.get_tenant(tenant_id)  # type: ignore[arg-type]


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "prompts.sqlite3")
    yield store
    store.close()


def test_in_process_hits_skip_the_store_until_the_ttl_passes(sqlite: SqliteStore) -> None:
    now = [0.0]
    counting = CountingStore(sqlite)
    cache = PromptCache(counting, local_ttl_seconds=5, monotonic=lambda: now[0])  # type: ignore[arg-type]
    assert cache.system_prompt(DEMO_TENANT_ID) == DEMO_PROMPT
    assert cache.system_prompt(DEMO_TENANT_ID) == DEMO_PROMPT
    assert counting.reads == 1
    now[0] = 5.1
    cache.system_prompt(DEMO_TENANT_ID)
    assert counting.reads == 2


def test_unknown_tenants_are_not_cached(sqlite: SqliteStore) -> None:
    from uuid import uuid4

    counting = CountingStore(sqlite)
    cache = PromptCache(counting)  # type: ignore[arg-type]
    unknown = uuid4()
    assert cache.system_prompt(unknown) is None
    assert cache.system_prompt(unknown) is None
    assert counting.reads == 2


@pytest.mark.redis
def test_a_miss_fills_redis_and_another_process_reads_it_from_there(
    sqlite: SqliteStore, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    first = PromptCache(CountingStore(sqlite), redis_client=client, ttl_seconds=120)  # type: ignore[arg-type]
    assert first.system_prompt(DEMO_TENANT_ID) == DEMO_PROMPT
    assert first.stats["store_reads"] == 1
    assert 0 < client.ttl(_key(DEMO_TENANT_ID)) <= 120
    counting = CountingStore(sqlite)
    second = PromptCache(counting, redis_client=client)  # type: ignore[arg-type]
    assert second.system_prompt(DEMO_TENANT_ID) == DEMO_PROMPT
    assert (counting.reads, second.stats["redis_hits"]) == (0, 1)


@pytest.mark.redis
def test_a_redis_entry_expires_after_its_ttl(sqlite: SqliteStore, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    cache = PromptCache(CountingStore(sqlite), redis_client=client, ttl_seconds=1, local_ttl_seconds=0)  # type: ignore[arg-type]
    cache.system_prompt(DEMO_TENANT_ID)
    assert client.exists(_key(DEMO_TENANT_ID))
    deadline = time.monotonic() + 10
    while client.exists(_key(DEMO_TENANT_ID)):
        assert time.monotonic() < deadline, "Redis kept the prompt past its TTL"
        time.sleep(0.1)
    cache.system_prompt(DEMO_TENANT_ID)
    assert cache.stats["store_reads"] == 2


CHILD = """
import sys
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.agent.steps import collect
from agent_core.store.demo_data import DEMO_TENANT_ID
settings = load_settings(sqlite_path=sys.argv[1], redis_url=sys.argv[2], prompt_cache_local_ttl_seconds=3600)
runtime = build_runtime(settings)
agent = runtime.agent
hello = agent.validate({"tenant_id": DEMO_TENANT_ID, "message": "Hello"})
print(collect(agent.stream(hello)).reply, flush=True)
sys.stdin.readline()
print(collect(agent.stream(hello)).reply, flush=True)
runtime.close()
"""


@pytest.mark.redis
def test_a_prompt_edit_reaches_the_next_turn_in_another_process(tmp_path: Path, redis_url: str) -> None:
    db = tmp_path / "shared.sqlite3"
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), redis_url],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        try:
            assert child.stdout.readline().startswith("Hello! I'm Ava, the booking assistant of Demo Tours")
            runtime = build_runtime(load_settings(sqlite_path=db, redis_url=redis_url))
            try:
                runtime.acting_as(TEST_ADMIN).prompts.publish(
                    DEMO_TENANT_ID, "You are Max, the night concierge of Demo Tours."
                )
            finally:
                runtime.close()
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline().startswith("Hello! I'm Max, the night concierge of Demo Tours.")
        finally:
            child.stdin.close()
            assert child.wait(timeout=60) == 0


@pytest.fixture
def private_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of this test's own, so it can be stopped mid-run."""
    binary = shutil.which("redis-server")
    if binary is None:
        service_missing("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "private redis-server did not start"
            time.sleep(0.05)
    yield url, server
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.redis
def test_turns_keep_working_when_redis_stops_and_the_outage_is_logged_once(
    tmp_path: Path,
    clock: FixedClock,
    private_redis: tuple[str, subprocess.Popen[bytes]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, server = private_redis
    settings = load_settings(
        sqlite_path=tmp_path / "db.sqlite3", redis_url=url, prompt_cache_local_ttl_seconds=0
    )
    runtime = build_runtime(settings, clock=clock)
    try:
        assert whole_turn(runtime.agent, DEMO_TENANT_ID, "Hello").reply.startswith("Hello! I'm Ava")
        assert runtime.prompts.stats["store_reads"] == 1
        server.terminate()
        server.wait(timeout=10)
        with caplog.at_level(logging.WARNING, logger="agent_core.prompt_cache"):
            replies = [whole_turn(runtime.agent, DEMO_TENANT_ID, "Hello").reply for _ in range(5)]
        assert all(r.startswith("Hello! I'm Ava") for r in replies)
        outage_logs = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert len(outage_logs) == 1
        cache_health = next(c for c in runtime.health() if c.name == "cache")
        assert not cache_health.ok
    finally:
        runtime.close()


@pytest.mark.redis
def test_an_edit_redis_could_not_take_reaches_every_process_once_it_can(
    tmp_path: Path, private_redis: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, _ = private_redis
    store = SqliteStore(tmp_path / "db.sqlite3")

    def process_cache() -> PromptCache:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        cache = PromptCache(store, redis_client=client, local_ttl_seconds=0)
        cache.start()
        return cache

    editor, reader = process_cache(), process_cache()
    try:
        old = reader.system_prompt(DEMO_TENANT_ID)
        assert old is not None  # and Redis now holds it for every process
        # Redis stops answering for 1.5 s, long enough for the edit's writes to time out.
        redis.Redis.from_url(url).client_pause(1500)
        make_workspace(store, prompts=editor).prompts.publish(
            DEMO_TENANT_ID, "You are Nova, the new assistant of Demo Tours."
        )
        assert editor.pending_invalidations == 1
        deadline = time.monotonic() + 15
        while editor.pending_invalidations or reader.system_prompt(DEMO_TENANT_ID) == old:
            assert time.monotonic() < deadline, "the edit never reached the other process"
            time.sleep(0.1)
        assert redis.Redis.from_url(url).get(_key(DEMO_TENANT_ID)) is not None
        assert reader.system_prompt(DEMO_TENANT_ID) == "You are Nova, the new assistant of Demo Tours."
    finally:
        editor.close()
        reader.close()
        store.close()
