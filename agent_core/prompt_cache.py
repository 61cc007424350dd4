"""Tenant system prompts behind a two-level read-through cache.

Level 1 is a dict in this process: a hit costs a dict lookup and a clock read. Level 2,
when `REDIS_URL` is set, is Redis, shared by every process. Edits write the store first,
then refresh Redis and publish an invalidation that every process's subscriber applies
to its level 1, so the next turn anywhere reads the new prompt. The level-1 TTL bounds
staleness should an invalidation be missed (no Redis, or a reconnect); and every turn
compares the prompt it got with the tenant row it reads from the store anyway, so an edit
that never reached Redis (its editor cut off, Redis restored from an old file) is corrected
by the first turn that notices, in every process (`seen_in_store`).

A Redis outage never fails a turn: reads fall back to the store, the outage is logged
once, and Redis is not retried for a few seconds so a dead server costs nothing per turn.
An edit is different: it always tries Redis, and one that cannot reach it is retried every
half second until it lands; meanwhile this process reads that tenant from the store. So an
edit reaches every process within seconds whatever Redis did, never a TTL later.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

import redis

from agent_core.domain import Tenant

log = logging.getLogger(__name__)

CHANNEL = "vam:prompt-invalidations"
_RETRY_AFTER_SECONDS = 5.0


class TenantLookup(Protocol):
    """The store methods the cache reads through to."""

    def get_tenant(self, tenant_id: UUID) -> Tenant | None:
        """The tenant, or None."""
        ...


def _key(tenant_id: UUID) -> str:
    return f"vam:prompt:{tenant_id}"


class PromptCache:
    """Read-through cache of tenant prompts; implements the agent's PromptSource."""

    def __init__(
        self,
        store: TenantLookup,
        *,
        redis_client: redis.Redis | None = None,
        ttl_seconds: float = 300.0,
        local_ttl_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._redis = redis_client
        self._ttl = ttl_seconds
        self._local_ttl = local_ttl_seconds
        self._now = monotonic
        self._local: dict[UUID, tuple[str, float]] = {}
        # Edits Redis has not taken yet: tenant -> new prompt (None: just forget it).
        self._pending: dict[UUID, str | None] = {}
        self._pending_lock = threading.Lock()
        self._redis_down_until = 0.0
        self._redis_reported_down = False
        self._stop = threading.Event()
        self._subscriber: threading.Thread | None = None
        self.stats = {"local_hits": 0, "redis_hits": 0, "store_reads": 0, "redis_errors": 0}

    @property
    def backend(self) -> str:
        """'redis' or 'in-process'."""
        return "redis" if self._redis is not None else "in-process"

    def start(self) -> None:
        """Listen for invalidations from other processes (no-op without Redis)."""
        if self._redis is not None and self._subscriber is None:
            self._subscriber = threading.Thread(target=self._listen, name="prompt-invalidations", daemon=True)
            self._subscriber.start()

    def close(self) -> None:
        """Stop the subscriber."""
        self._stop.set()
        if self._subscriber is not None:
            self._subscriber.join(timeout=3)

    def system_prompt(self, tenant_id: UUID) -> str | None:
        """The tenant's prompt, or None when there is no such tenant."""
        entry = self._local.get(tenant_id)
        if entry is not None and entry[1] > self._now():
            self.stats["local_hits"] += 1
            return entry[0]
        prompt = self._from_redis(tenant_id)
        if prompt is None:
            prompt = self._from_store(tenant_id)
            if prompt is None:
                return None
            self._to_redis(tenant_id, prompt)
        self._local[tenant_id] = (prompt, self._now() + self._local_ttl)
        return prompt

    def seen_in_store(self, tenant_id: UUID, prompt: str) -> None:
        """A turn read `prompt` from the store while this cache gave another: an edit this
        cache missed. Corrected here, in Redis and in every process, as an edit is."""
        log.warning("tenant %s: the cached prompt missed an edit; corrected from the store", tenant_id)
        self.invalidate(tenant_id, prompt)

    def invalidate(self, tenant_id: UUID, new_prompt: str | None = None) -> None:
        """Forget (or replace) a tenant's prompt here, in Redis, and in every subscriber.

        Redis is tried even while it is considered down; if it cannot be reached, the edit is
        kept and retried until it lands."""
        self._local.pop(tenant_id, None)
        if self._redis is None:
            return
        with self._pending_lock:
            self._pending[tenant_id] = new_prompt
        self.flush_pending()

    @property
    def pending_invalidations(self) -> int:
        """Edits Redis has not taken yet."""
        with self._pending_lock:
            return len(self._pending)

    def flush_pending(self) -> None:
        """Send the edits Redis has not taken yet; keep the ones it still refuses."""
        assert self._redis is not None
        with self._pending_lock:
            pending = dict(self._pending)
        for tenant_id, new_prompt in pending.items():
            try:
                if new_prompt is None:
                    self._redis.delete(_key(tenant_id))
                else:
                    self._redis.set(_key(tenant_id), json.dumps({"prompt": new_prompt}), ex=int(self._ttl))
                self._redis.publish(CHANNEL, str(tenant_id))
            except redis.RedisError as exc:
                self._redis_failed(exc)
                return
            with self._pending_lock:
                if self._pending.get(tenant_id, new_prompt) == new_prompt:
                    self._pending.pop(tenant_id, None)
            self._local.pop(tenant_id, None)
            self._redis_up()

    def _from_store(self, tenant_id: UUID) -> str | None:
        self.stats["store_reads"] += 1
        tenant = self._store.get_tenant(tenant_id)
        return None if tenant is None else tenant.system_prompt

    def _from_redis(self, tenant_id: UUID) -> str | None:
        if not self._redis_usable() or tenant_id in self._pending:
            return None  # an edit Redis has not taken yet: its copy may be the old prompt
        assert self._redis is not None
        try:
            raw = self._redis.get(_key(tenant_id))
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return None
        self._redis_up()
        if raw is None:
            return None
        self.stats["redis_hits"] += 1
        value = json.loads(raw)
        return value["prompt"] if isinstance(value, dict) else None

    def _to_redis(self, tenant_id: UUID, prompt: str) -> None:
        if not self._redis_usable() or tenant_id in self._pending:
            return
        assert self._redis is not None
        try:
            self._redis.set(_key(tenant_id), json.dumps({"prompt": prompt}), ex=int(self._ttl))
        except redis.RedisError as exc:
            self._redis_failed(exc)

    def _redis_usable(self) -> bool:
        return self._redis is not None and self._now() >= self._redis_down_until

    def _redis_failed(self, error: Exception) -> None:
        self.stats["redis_errors"] += 1
        self._redis_down_until = self._now() + _RETRY_AFTER_SECONDS
        if not self._redis_reported_down:
            self._redis_reported_down = True
            log.warning("Redis prompt cache unavailable, reading prompts from the store: %s", error)

    def _redis_up(self) -> None:
        if self._redis_reported_down:
            self._redis_reported_down = False
            log.warning("Redis prompt cache reachable again")

    def _listen(self) -> None:
        assert self._redis is not None
        while not self._stop.is_set():
            # Typed from redis 8.2 on, untyped before: either passes the type check.
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call, unused-ignore]
            try:
                pubsub.subscribe(CHANNEL)
                # Invalidations may have been missed while unsubscribed.
                self._local.clear()
                while not self._stop.is_set():
                    if self._pending:
                        self.flush_pending()
                    message = pubsub.get_message(timeout=0.5)
                    if message and message.get("type") == "message":
                        data = message["data"]
                        self._local.pop(UUID(data.decode() if isinstance(data, bytes) else str(data)), None)
            except (redis.RedisError, ValueError) as exc:
                self._redis_failed(exc)
                self._local.clear()
                self._stop.wait(0.5)
                if self._pending:
                    self.flush_pending()
            finally:
                with contextlib.suppress(redis.RedisError):
                    pubsub.close()
