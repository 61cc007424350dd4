"""Users, sessions, API keys and the audit log on Supabase: reads and single writes over REST,
a change and its audit entry in one SQL function (schema.sql) so they commit together."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from agent_core.access.models import ApiKeyRecord, AuditEntry, AuditQuery, User
from agent_core.store.access_rows import (
    api_key_from_row,
    audit_from_row,
    tenant_ids,
    user_from_row,
)
from agent_core.store.access_store import email_key
from agent_core.store.function_access import FunctionAccess
from agent_core.store.rows import Row

_ID_CHUNK = 100


def id_chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    """Ids in groups small enough for one `in.(...)` filter in a URL."""
    for start in range(0, len(ids), _ID_CHUNK):
        yield list(ids[start : start + _ID_CHUNK])


def ilike_pattern(search: str) -> str:
    """A PostgREST `ilike` pattern matching `search` anywhere (PostgREST turns * into %; LIKE's
    own wildcards are escaped to match literally)."""
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"*{escaped}*"


class SupabaseAccess(FunctionAccess):
    """The access half of the Supabase store."""

    @abstractmethod
    def _table(self, name: str) -> Any: ...

    @abstractmethod
    def _rows(self, builder: Any) -> list[Row]: ...

    @abstractmethod
    def _all(self, builder: Any, *, limit: int | None = None) -> list[Row]: ...

    def _users(self, rows: list[Row]) -> list[User]:
        if not rows:
            return []
        tenants: dict[str, list[Any]] = {str(r["id"]): [] for r in rows}
        for chunk in id_chunks(list(tenants)):
            links = self._all(
                self._table("user_tenants")
                .select("user_id, tenant_id")
                .in_("user_id", chunk)
                .order("user_id")
                .order("tenant_id")
            )
            for link in links:
                tenants[str(link["user_id"])].append(link["tenant_id"])
        return [user_from_row(r, tenants[str(r["id"])]) for r in rows]

    def count_users(self) -> int:
        return len(self._rows(self._table("app_users").select("id").limit(1)))

    def get_user(self, user_id: UUID) -> User | None:
        found = self._users(self._rows(self._table("app_users").select("*").eq("id", str(user_id))))
        return found[0] if found else None

    def find_user(self, email: str) -> User | None:
        found = self._users(
            self._rows(self._table("app_users").select("*").eq("email_key", email_key(email)))
        )
        return found[0] if found else None

    def list_users(self) -> list[User]:
        return self._users(self._all(self._table("app_users").select("*").order("email_key")))

    def add_session(self, token_hash: str, user_id: UUID, expires_at: datetime) -> None:
        self._rows(
            self._table("user_sessions").insert(
                {"token_hash": token_hash, "user_id": str(user_id), "expires_at": expires_at.isoformat()}
            )
        )

    def session_user(self, token_hash: str, now: datetime) -> User | None:
        rows = self._rows(
            self._table("user_sessions")
            .select("user_id")
            .eq("token_hash", token_hash)
            .gt("expires_at", now.isoformat())
        )
        return self.get_user(UUID(str(rows[0]["user_id"]))) if rows else None

    def end_session(self, token_hash: str) -> None:
        self._rows(self._table("user_sessions").delete().eq("token_hash", token_hash))

    def clear_sign_in_attempts(self, key: str) -> None:
        self._rows(self._table("sign_in_attempts").delete().eq("key", key))

    def find_api_key(self, secret_hash: str) -> ApiKeyRecord | None:
        rows = self._rows(self._table("api_keys").select("*").eq("secret_hash", secret_hash))
        return api_key_from_row(rows[0]) if rows else None

    def list_api_keys(self, tenants: frozenset[UUID] | None = None) -> list[ApiKeyRecord]:
        request = self._table("api_keys").select("*").order("created_at", desc=True).order("name")
        if tenants is not None:
            request = request.in_("tenant_id", tenant_ids(tenants))
        return [api_key_from_row(r) for r in self._all(request.order("id"))]

    def touch_api_key(self, key_id: UUID, used_at: datetime) -> None:
        self._rows(
            self._table("api_keys").update({"last_used_at": used_at.isoformat()}).eq("id", str(key_id))
        )

    def list_audit(self, query: AuditQuery) -> list[AuditEntry]:
        request = self._table("audit_log").select("*").order("seq", desc=True)
        if query.tenants is not None:
            request = request.in_("tenant_id", tenant_ids(query.tenants))
        if query.actions:
            request = request.in_("action", list(query.actions))
        if query.actor.strip():
            request = request.ilike("actor", ilike_pattern(query.actor.strip()))
        if query.since is not None:
            request = request.gte("created_at", query.since.isoformat())
        return [audit_from_row(r) for r in self._all(request, limit=query.limit)]
