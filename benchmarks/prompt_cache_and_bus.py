"""Prompt fetch latency per cache configuration, and the cost of `emit` on the turn's path.

Run: `.venv/bin/python -m benchmarks.prompt_cache_and_bus` (needs Redis on 127.0.0.1:6379
for the Redis rows; set BENCH_REDIS_URL to use another).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import redis

from agent_core.domain import EventName
from agent_core.events.bus import EventBus
from agent_core.events.listeners import default_listeners
from agent_core.prompt_cache import PromptCache, _key
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from benchmarks.timing import HEADER, Timing, measure

RUNS = 5000


def main() -> None:
    rows: list[Timing] = []
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "bench.sqlite3")
        local = PromptCache(store, local_ttl_seconds=3600)
        rows.append(measure("in-process cache: hit", lambda: local.system_prompt(DEMO_TENANT_ID), RUNS))
        no_cache = PromptCache(store, local_ttl_seconds=0)
        rows.append(
            measure("no cache: SQLite read (miss)", lambda: no_cache.system_prompt(DEMO_TENANT_ID), RUNS)
        )

        client = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
        try:
            client.ping()
        except redis.RedisError as exc:
            print(f"(Redis rows skipped: {exc})")
        else:
            two_level = PromptCache(store, redis_client=client, local_ttl_seconds=3600)
            rows.append(
                measure("Redis two-level: L1 hit", lambda: two_level.system_prompt(DEMO_TENANT_ID), RUNS)
            )
            redis_only = PromptCache(store, redis_client=client, local_ttl_seconds=0)
            rows.append(
                measure(
                    "Redis two-level: L2 (Redis) hit", lambda: redis_only.system_prompt(DEMO_TENANT_ID), RUNS
                )
            )

            def miss() -> None:
                client.delete(_key(DEMO_TENANT_ID))
                redis_only.system_prompt(DEMO_TENANT_ID)

            rows.append(measure("Redis two-level: miss (DEL + GET + store + SET)", miss, RUNS // 5))
            client.flushdb()

        bus = EventBus(store, default_listeners(store))
        bus.start()
        payload = {"conversation_id": "c", "turn_id": "t", "message": "hello"}
        rows.append(
            measure(
                "bus.emit on the turn's path",
                lambda: bus.emit(EventName.NOTE_TAKEN, DEMO_TENANT_ID, payload),
                RUNS,
            )
        )
        bus.close(timeout=30)
        store.close()
    print(HEADER)
    for row in rows:
        print(row.row())


if __name__ == "__main__":
    main()
