"""A published prompt answers every turn, in every process, whatever happened to Redis: the
editing process loses its network to Redis as it publishes (so Redis keeps the old prompt
for minutes), then Redis comes back from an old copy of its data. Two runtimes share one
database and one real Redis; the editor reaches Redis through a TCP proxy that is cut."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from agent_core.clock import FixedClock
from agent_core.prompt_cache import _key
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.testing.net import TcpProxy
from tests.conftest import TEST_ADMIN, whole_turn

pytestmark = pytest.mark.redis
OLD = "Hello! I'm Ava, the booking assistant of Demo Tours"
NEW_PROMPT = "You are Max, the night concierge of Demo Tours."
NEW = "Hello! I'm Max, the night concierge of Demo Tours."


def cached(url: str) -> str:
    raw = redis.Redis.from_url(url).get(_key(DEMO_TENANT_ID))
    assert raw is not None
    prompt: str = json.loads(raw)["prompt"]
    return prompt


def test_a_prompt_published_by_a_process_cut_off_from_redis_answers_everywhere(
    tmp_path: Path, redis_url: str, clock: FixedClock, unconfigured: None
) -> None:
    address = urlsplit(redis_url)
    proxy = TcpProxy(address.hostname or "127.0.0.1", address.port or 6379)
    database = tmp_path / "shared.sqlite3"
    editor = build_runtime(
        load_settings(sqlite_path=database, redis_url=f"redis://127.0.0.1:{proxy.port}{address.path}"),
        clock=clock,
    )
    # Every turn of the other process asks Redis (no in-process copy), as a new process would.
    other = build_runtime(
        load_settings(sqlite_path=database, redis_url=redis_url, prompt_cache_local_ttl_seconds=0),
        clock=clock,
    )
    try:
        assert whole_turn(other.agent, DEMO_TENANT_ID, "Hello").reply.startswith(OLD)
        assert NEW_PROMPT not in cached(redis_url)  # Redis holds the old prompt, for 300 s
        proxy.cut()
        editor.acting_as(TEST_ADMIN).prompts.publish(DEMO_TENANT_ID, NEW_PROMPT)
        assert editor.prompts.pending_invalidations == 1  # the edit could not reach Redis

        replies = [whole_turn(other.agent, DEMO_TENANT_ID, "Hello").reply for _ in range(5)]
        assert all(reply.startswith(NEW) for reply in replies), replies
        assert cached(redis_url) == NEW_PROMPT  # the first turn that noticed corrected Redis

        # Redis restarted from an old append-only file: the old prompt is back in it.
        old_prompt = editor.store.list_prompt_versions(DEMO_TENANT_ID)[-1].prompt
        redis.Redis.from_url(redis_url).set(_key(DEMO_TENANT_ID), json.dumps({"prompt": old_prompt}), ex=300)
        assert whole_turn(other.agent, DEMO_TENANT_ID, "Hello").reply.startswith(NEW)
        assert cached(redis_url) == NEW_PROMPT
    finally:
        editor.close()
        other.close()
        proxy.cut()
