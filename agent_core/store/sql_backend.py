"""What every SQL backend supplies: sessions in its dialect, transactions, JSON encoding."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Protocol
from uuid import UUID

from agent_core.store.rows import Row


class SqlSession(Protocol):
    """A connection inside a transaction (or autocommit read) in one dialect."""

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> list[Row]:
        """Run a statement and return its rows."""
        ...

    def execute(self, sql: str, params: Mapping[str, object] | None = None) -> int:
        """Run a statement and return the affected row count."""
        ...


def fetch_one(session: SqlSession, table: str, tenant_id: UUID, row_id: UUID) -> Row | None:
    """One row of a tenant's table by its id, or None (`table` is one of ours, never input)."""
    rows = session.query(
        f"SELECT * FROM {table} WHERE tenant_id = :tenant_id AND id = :id",
        {"tenant_id": tenant_id, "id": row_id},
    )
    return rows[0] if rows else None


class SqlBackend(ABC):
    """The connection plumbing the shared SQL store logic runs on."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[SqlSession]:
        """A session whose statements commit together, or not at all."""

    @abstractmethod
    def _reader(self) -> AbstractContextManager[SqlSession]:
        """A session for reads, each statement its own transaction."""

    def _one_statement(self) -> AbstractContextManager[SqlSession]:
        """A session for a write of one statement, which commits whole on its own: no BEGIN
        and COMMIT to send (on PostgreSQL, two round trips fewer)."""
        return self._reader()

    @abstractmethod
    def _json_param(self, value: object) -> object:
        """A JSON value in the form this backend's driver stores in a JSON column."""

    @abstractmethod
    def _is_unique_violation(self, error: Exception) -> bool:
        """True when the error is a unique-constraint violation."""
