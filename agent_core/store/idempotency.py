"""Idempotency-Keys: a request sent again with its key gets the answer the first one got, and
two at once run once. A store role of its own (`store.idempotency`), so the rest of the store
is untouched by it: SQLite in SQL, the PostgreSQL family claiming through its function
(`app_claim_idempotency_key`, which takes over a key whose holder's lease ran out in one
statement) and the rest as plain statements or PostgREST requests.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from agent_core.clock import utcnow
from agent_core.domain import IdempotencyClaim, JsonDict, KeyState
from agent_core.store.rows import as_json
from agent_core.store.sql_backend import SqlSession
from agent_core.store.supabase_access import SupabaseAccess
from agent_core.store.voice_turns import Rpc


class IdempotencyStore(Protocol):
    """Every tenant's keys, always read and written per tenant."""

    def claim(self, tenant_id: UUID, key: str, fingerprint: str, lease_seconds: float) -> IdempotencyClaim:
        """Present a request's key: CLAIMED (run it; a key whose holder's lease ran out is
        taken over), RUNNING, DONE with the stored answer, or MISMATCH (another request)."""
        ...

    def renew(self, tenant_id: UUID, key: str, lease_seconds: float) -> bool:
        """Extend the lease of a key still running (its holder is alive); False when it is not."""
        ...

    def finish(self, tenant_id: UUID, key: str, status: int, response: JsonDict) -> None:
        """Store the answer a claimed key's request got, for every repeat."""
        ...

    def release(self, tenant_id: UUID, key: str) -> None:
        """Forget a claimed key whose request failed in a way a retry may fix."""
        ...


def claim_by_function(
    rpc: Rpc, tenant_id: UUID, key: str, fingerprint: str, lease_seconds: float
) -> IdempotencyClaim:
    """`claim` as the PostgreSQL family does it: one function."""
    outcome = rpc(
        "app_claim_idempotency_key",
        {
            "p_tenant": str(tenant_id),
            "p_key": key,
            "p_fingerprint": fingerprint,
            "p_lease_seconds": lease_seconds,
        },
    )
    status = outcome.get("status")
    return IdempotencyClaim(
        KeyState(outcome["state"]), None if status is None else int(status), outcome.get("response")
    )


_RENEW = (
    "UPDATE idempotency_keys SET lease_expires_at = :lease WHERE tenant_id = :tenant_id"
    " AND key = :key AND status = 'running'"
)


class SqlIdempotency:
    """Keys on SQLite or PostgreSQL (`rpc`: PostgreSQL's way to call its functions, which
    claims there)."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[SqlSession]],
        one_statement: Callable[[], AbstractContextManager[SqlSession]],
        json_param: Callable[[object], object],
        rpc: Rpc | None = None,
    ) -> None:
        self._transaction = transaction
        self._one_statement = one_statement
        self._json_param = json_param
        self._rpc = rpc

    def claim(self, tenant_id: UUID, key: str, fingerprint: str, lease_seconds: float) -> IdempotencyClaim:
        if self._rpc is not None:
            return claim_by_function(self._rpc, tenant_id, key, fingerprint, lease_seconds)
        now = utcnow()
        params = {
            "tenant_id": tenant_id,
            "key": key,
            "fingerprint": fingerprint,
            "now": now,
            "lease": now + timedelta(seconds=lease_seconds),
        }
        with self._transaction() as session:
            if session.execute(
                "INSERT INTO idempotency_keys (tenant_id, key, fingerprint, status, lease_expires_at,"
                " created_at) VALUES (:tenant_id, :key, :fingerprint, 'running', :lease, :now)"
                " ON CONFLICT (tenant_id, key) DO NOTHING",
                params,
            ):
                return IdempotencyClaim(KeyState.CLAIMED)
            row = session.query(
                "SELECT * FROM idempotency_keys WHERE tenant_id = :tenant_id AND key = :key", params
            )[0]
            if row["fingerprint"] != fingerprint:
                return IdempotencyClaim(KeyState.MISMATCH)
            if row["status"] == "done":
                return IdempotencyClaim(KeyState.DONE, int(row["response_status"]), as_json(row["response"]))
            if session.execute(f"{_RENEW} AND lease_expires_at < :now", params):
                return IdempotencyClaim(KeyState.CLAIMED)  # its holder died: take it over
        return IdempotencyClaim(KeyState.RUNNING)

    def renew(self, tenant_id: UUID, key: str, lease_seconds: float) -> bool:
        lease = utcnow() + timedelta(seconds=lease_seconds)
        with self._one_statement() as session:
            return bool(session.execute(_RENEW, {"tenant_id": tenant_id, "key": key, "lease": lease}))

    def finish(self, tenant_id: UUID, key: str, status: int, response: JsonDict) -> None:
        with self._one_statement() as session:
            session.execute(
                "UPDATE idempotency_keys SET status = 'done', response_status = :status,"
                " response = :response WHERE tenant_id = :tenant_id AND key = :key",
                {
                    "tenant_id": tenant_id,
                    "key": key,
                    "status": status,
                    "response": self._json_param(response),
                },
            )

    def release(self, tenant_id: UUID, key: str) -> None:
        with self._one_statement() as session:
            session.execute(
                "DELETE FROM idempotency_keys WHERE tenant_id = :tenant_id AND key = :key"
                " AND status = 'running'",
                {"tenant_id": tenant_id, "key": key},
            )


class SupabaseIdempotency:
    """Keys through PostgREST: the claim is the function, the rest plain table requests
    filtered by the tenant, run by the Supabase store (its error translation)."""

    def __init__(self, client: SupabaseAccess) -> None:
        self._client = client

    def claim(self, tenant_id: UUID, key: str, fingerprint: str, lease_seconds: float) -> IdempotencyClaim:
        return claim_by_function(self._client._rpc, tenant_id, key, fingerprint, lease_seconds)

    def renew(self, tenant_id: UUID, key: str, lease_seconds: float) -> bool:
        lease = utcnow() + timedelta(seconds=lease_seconds)
        return bool(
            self._client._rows(
                self._client._table("idempotency_keys")
                .update({"lease_expires_at": lease.isoformat()})
                .eq("tenant_id", str(tenant_id))
                .eq("key", key)
                .eq("status", "running")
            )
        )

    def finish(self, tenant_id: UUID, key: str, status: int, response: JsonDict) -> None:
        self._client._rows(
            self._client._table("idempotency_keys")
            .update({"status": "done", "response_status": status, "response": response})
            .eq("tenant_id", str(tenant_id))
            .eq("key", key)
        )

    def release(self, tenant_id: UUID, key: str) -> None:
        self._client._rows(
            self._client._table("idempotency_keys")
            .delete()
            .eq("tenant_id", str(tenant_id))
            .eq("key", key)
            .eq("status", "running")
        )
