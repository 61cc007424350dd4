"""Rows of the access tables to records, and records to the values every backend writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from agent_core.access.models import ApiKeyRecord, AuditEntry, PrincipalKind, User, UserRole
from agent_core.clock import utcnow
from agent_core.store.access_store import email_key
from agent_core.store.rows import Row, as_datetime, as_json, as_uuid


def _maybe_datetime(value: Any) -> Any:
    return as_datetime(value) if value is not None else None


def user_from_row(row: Row, tenants: Iterable[Any]) -> User:
    return User(
        id=as_uuid(row["id"]),
        email=row["email"],
        role=UserRole(row["role"]),
        tenants=frozenset(as_uuid(t) for t in tenants),
        password_hash=row["password_hash"],
        disabled=bool(row["disabled"]),
        created_at=as_datetime(row["created_at"]),
        password_changed_at=_maybe_datetime(row["password_changed_at"]),
    )


def user_values(user: User) -> dict[str, Any]:
    """A user's columns (tenants are rows of user_tenants)."""
    return {
        "id": user.id,
        "email": user.email,
        "email_key": email_key(user.email),
        "role": user.role.value,
        "password_hash": user.password_hash,
        "disabled": user.disabled,
        "created_at": user.created_at,
        "password_changed_at": user.password_changed_at,
    }


def api_key_from_row(row: Row) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=as_uuid(row["id"]),
        tenant_id=as_uuid(row["tenant_id"]) if row["tenant_id"] else None,
        name=row["name"],
        prefix=row["prefix"],
        secret_hash=row["secret_hash"],
        created_by=row["created_by"],
        created_at=as_datetime(row["created_at"]),
        revoked_at=_maybe_datetime(row["revoked_at"]),
        last_used_at=_maybe_datetime(row["last_used_at"]),
    )


def api_key_values(key: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": key.id,
        "tenant_id": key.tenant_id,
        "name": key.name,
        "prefix": key.prefix,
        "secret_hash": key.secret_hash,
        "created_by": key.created_by,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


def audit_from_row(row: Row) -> AuditEntry:
    return AuditEntry(
        actor=row["actor"],
        actor_kind=PrincipalKind(row["actor_kind"]),
        action=row["action"],
        target=row["target"],
        tenant_id=as_uuid(row["tenant_id"]) if row["tenant_id"] else None,
        before=as_json(row["before"]),
        after=as_json(row["after"]),
        id=as_uuid(row["id"]),
        created_at=as_datetime(row["created_at"]),
        seq=int(row["seq"]),
    )


def audit_values(entry: AuditEntry) -> dict[str, Any]:
    """An entry's columns; `before`/`after` still as Python values (each backend encodes JSON)."""
    return {
        "id": entry.id,
        "tenant_id": entry.tenant_id,
        "actor": entry.actor,
        "actor_kind": entry.actor_kind.value,
        "action": str(entry.action),
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
        "created_at": entry.created_at or utcnow(),
    }


def tenant_ids(values: Iterable[UUID]) -> list[str]:
    """Tenant ids as sorted strings (stable statements and REST filters)."""
    return sorted(str(v) for v in values)
