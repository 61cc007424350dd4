"""Users, sessions, API keys and the audit log on the SQL backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from agent_core.access.models import ApiKeyRecord, AuditEntry, AuditQuery, User
from agent_core.clock import utcnow
from agent_core.errors import InvalidInputError
from agent_core.store.access_rows import (
    api_key_from_row,
    api_key_values,
    audit_from_row,
    audit_values,
    tenant_ids,
    user_from_row,
    user_values,
)
from agent_core.store.access_store import email_key
from agent_core.store.records import like_pattern
from agent_core.store.rows import Row
from agent_core.store.sql_backend import SqlBackend, SqlSession

_USER_COLUMNS = "id, email, email_key, role, password_hash, disabled, created_at, password_changed_at"
_INSERT_AUDIT = (
    "INSERT INTO audit_log (id, tenant_id, actor, actor_kind, action, target, before, after, created_at)"
    " VALUES (:id, :tenant_id, :actor, :actor_kind, :action, :target, :before, :after, :created_at)"
)


class SqlAccess(SqlBackend):
    """The access half of the SQL store; audit entries commit with the change they describe."""

    def _write_audit(self, session: SqlSession, entry: AuditEntry) -> None:
        values = audit_values(entry)
        for column in ("before", "after"):
            if values[column] is not None:
                values[column] = self._json_param(values[column])
        session.execute(_INSERT_AUDIT, values)

    def _users(self, session: SqlSession, rows: list[Row]) -> list[User]:
        if not rows:
            return []
        # Only these users' assignments: a session check reads one user on every dashboard run.
        names = [f":user{i}" for i in range(len(rows))]
        links = session.query(
            f"SELECT user_id, tenant_id FROM user_tenants WHERE user_id IN ({', '.join(names)})",
            {n[1:]: r["id"] for n, r in zip(names, rows, strict=True)},
        )
        tenants: dict[str, list[object]] = {str(r["id"]): [] for r in rows}
        for link in links:
            tenants[str(link["user_id"])].append(link["tenant_id"])
        return [user_from_row(r, tenants[str(r["id"])]) for r in rows]

    def count_users(self) -> int:
        with self._reader() as session:
            return int(session.query("SELECT COUNT(*) AS n FROM app_users")[0]["n"])

    def get_user(self, user_id: UUID) -> User | None:
        with self._reader() as session:
            found = self._users(
                session, session.query("SELECT * FROM app_users WHERE id = :id", {"id": user_id})
            )
        return found[0] if found else None

    def find_user(self, email: str) -> User | None:
        with self._reader() as session:
            rows = session.query("SELECT * FROM app_users WHERE email_key = :key", {"key": email_key(email)})
            found = self._users(session, rows)
        return found[0] if found else None

    def list_users(self) -> list[User]:
        with self._reader() as session:
            return self._users(session, session.query("SELECT * FROM app_users ORDER BY email_key"))

    def save_user(self, user: User, audit: AuditEntry, *, end_sessions: bool = False) -> None:
        values = user_values(user)
        try:
            with self._transaction() as session:
                session.execute(
                    f"INSERT INTO app_users ({_USER_COLUMNS}) VALUES (:id, :email, :email_key, :role,"
                    " :password_hash, :disabled, :created_at, :password_changed_at)"
                    " ON CONFLICT (id) DO UPDATE SET email = excluded.email,"
                    " email_key = excluded.email_key, role = excluded.role,"
                    " password_hash = excluded.password_hash, disabled = excluded.disabled,"
                    " password_changed_at = excluded.password_changed_at",
                    values,
                )
                session.execute("DELETE FROM user_tenants WHERE user_id = :id", {"id": user.id})
                for tenant in tenant_ids(user.tenants):
                    session.execute(
                        "INSERT INTO user_tenants (user_id, tenant_id) VALUES (:user_id, :tenant_id)",
                        {"user_id": user.id, "tenant_id": UUID(tenant)},
                    )
                if end_sessions:
                    session.execute("DELETE FROM user_sessions WHERE user_id = :id", {"id": user.id})
                self._write_audit(session, audit)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise InvalidInputError(f"a user with the email {user.email!r} already exists") from None
            raise

    def add_session(self, token_hash: str, user_id: UUID, expires_at: datetime) -> None:
        with self._transaction() as session:
            session.execute(
                "INSERT INTO user_sessions (token_hash, user_id, created_at, expires_at)"
                " VALUES (:token_hash, :user_id, :now, :expires_at)",
                {
                    "token_hash": token_hash,
                    "user_id": user_id,
                    "now": utcnow(),
                    "expires_at": expires_at,
                },
            )

    def session_user(self, token_hash: str, now: datetime) -> User | None:
        with self._reader() as session:
            rows = session.query(
                "SELECT u.* FROM user_sessions s JOIN app_users u ON u.id = s.user_id"
                " WHERE s.token_hash = :token_hash AND s.expires_at > :now",
                {"token_hash": token_hash, "now": now},
            )
            found = self._users(session, rows)
        return found[0] if found else None

    def end_session(self, token_hash: str) -> None:
        with self._transaction() as session:
            session.execute(
                "DELETE FROM user_sessions WHERE token_hash = :token_hash", {"token_hash": token_hash}
            )

    def take_sign_in_attempt(self, key: str, now: datetime, window_start: datetime) -> tuple[int, datetime]:
        with self._transaction() as session:
            rows = session.query(
                "INSERT INTO sign_in_attempts (key, attempts, since) VALUES (:key, 1, :now)"
                " ON CONFLICT (key) DO UPDATE SET"
                " attempts = CASE WHEN sign_in_attempts.since < :window_start THEN 1"
                " ELSE sign_in_attempts.attempts + 1 END,"
                " since = CASE WHEN sign_in_attempts.since < :window_start THEN :now"
                " ELSE sign_in_attempts.since END"
                " RETURNING attempts, since",
                {"key": key, "now": now, "window_start": window_start},
            )
        since = rows[0]["since"]
        began = since if isinstance(since, datetime) else datetime.fromisoformat(since)
        return int(rows[0]["attempts"]), began

    def give_back_sign_in_attempt(self, key: str) -> None:
        with self._transaction() as session:
            session.execute(
                "UPDATE sign_in_attempts SET attempts = attempts - 1 WHERE key = :key AND attempts > 0",
                {"key": key},
            )

    def clear_sign_in_attempts(self, key: str) -> None:
        with self._transaction() as session:
            session.execute("DELETE FROM sign_in_attempts WHERE key = :key", {"key": key})

    def save_api_key(self, key: ApiKeyRecord, audit: AuditEntry) -> None:
        with self._transaction() as session:
            session.execute(
                "INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, created_by, created_at,"
                " revoked_at) VALUES (:id, :tenant_id, :name, :prefix, :secret_hash, :created_by,"
                " :created_at, :revoked_at) ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                " revoked_at = excluded.revoked_at",
                api_key_values(key),
            )
            self._write_audit(session, audit)

    def find_api_key(self, secret_hash: str) -> ApiKeyRecord | None:
        with self._reader() as session:
            rows = session.query("SELECT * FROM api_keys WHERE secret_hash = :h", {"h": secret_hash})
        return api_key_from_row(rows[0]) if rows else None

    def list_api_keys(self, tenants: frozenset[UUID] | None = None) -> list[ApiKeyRecord]:
        with self._reader() as session:
            rows = session.query("SELECT * FROM api_keys ORDER BY created_at DESC, name")
        keys = [api_key_from_row(r) for r in rows]
        if tenants is None:
            return keys
        return [k for k in keys if k.tenant_id is not None and k.tenant_id in tenants]

    def touch_api_key(self, key_id: UUID, used_at: datetime) -> None:
        with self._transaction() as session:
            session.execute(
                "UPDATE api_keys SET last_used_at = :at WHERE id = :id", {"id": key_id, "at": used_at}
            )

    def record_audit(self, entry: AuditEntry) -> None:
        with self._transaction() as session:
            self._write_audit(session, entry)

    def list_audit(self, query: AuditQuery) -> list[AuditEntry]:
        clauses, params = audit_filters(query)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._reader() as session:
            rows = session.query(f"SELECT * FROM audit_log{where} ORDER BY seq DESC LIMIT :limit", params)
        return [audit_from_row(r) for r in rows]


def audit_filters(query: AuditQuery) -> tuple[list[str], dict[str, object]]:
    """WHERE clauses and parameters for an audit query (tenants, actions, actor, since)."""
    clauses: list[str] = []
    params: dict[str, object] = {"limit": query.limit}
    if query.tenants is not None:
        names = [f":tenant{i}" for i in range(len(query.tenants))]
        params.update({n[1:]: UUID(t) for n, t in zip(names, tenant_ids(query.tenants), strict=True)})
        clauses.append(f"tenant_id IN ({', '.join(names) or 'NULL'})")
    if query.actions:
        names = [f":action{i}" for i in range(len(query.actions))]
        params.update({n[1:]: a for n, a in zip(names, query.actions, strict=True)})
        clauses.append(f"action IN ({', '.join(names)})")
    if query.actor.strip():
        clauses.append("lower(actor) LIKE :actor ESCAPE '\\'")
        params["actor"] = like_pattern(query.actor.strip())
    if query.since is not None:
        clauses.append("created_at >= :since")
        params["since"] = query.since
    return clauses, params
