"""PostgreSQL store (`DATABASE_URL`), over a psycopg connection pool."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from agent_core.errors import ConfigError, StoreUnavailableError
from agent_core.store.rows import Row
from agent_core.store.sql_store import SqlSession, SqlStore

_NAMED_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """`:name` parameters (shared SQL) to psycopg's `%(name)s`; `::casts` stay as they are."""
    return _NAMED_PARAM.sub(r"%(\1)s", sql)


class _PostgresSession:
    def __init__(self, connection: psycopg.Connection[Row]) -> None:
        self._connection = connection

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> list[Row]:
        return self._connection.execute(to_pyformat(sql), params or {}).fetchall()

    def execute(self, sql: str, params: Mapping[str, object] | None = None) -> int:
        return self._connection.execute(to_pyformat(sql), params or {}).rowcount


class PostgresStore(SqlStore):
    """Store on PostgreSQL; the schema comes from schema.sql, applied beforehand."""

    backend = "postgres"

    def __init__(
        self, conninfo: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 10.0
    ) -> None:
        try:
            # One direct attempt first: a wrong URL fails in milliseconds with the server's
            # own reason, instead of after the pool's full timeout.
            psycopg.connect(conninfo, connect_timeout=max(1, int(timeout))).close()
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreUnavailableError(f"cannot connect to PostgreSQL at DATABASE_URL: {reason}") from exc
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True, "row_factory": dict_row},
            open=False,
            name="agent-store",
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreUnavailableError(
                "cannot connect to PostgreSQL at DATABASE_URL within"
                f" {timeout:g}s (is the server running and the URL right?)"
            ) from exc

    def check_schema(self) -> None:
        """ConfigError naming the fix when schema.sql has not been applied."""
        with self._reader() as session:
            rows = session.query("SELECT to_regclass('public.tool_calls') IS NOT NULL AS ready")
        if not rows[0]["ready"]:
            raise ConfigError(
                "the database at DATABASE_URL has no voice-assistant tables;"
                ' apply the schema first: psql "$DATABASE_URL" -f schema.sql'
            )

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Row]]:
        try:
            with self._pool.connection() as connection:
                yield connection
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreUnavailableError(f"PostgreSQL unavailable: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[SqlSession]:
        with self._connection() as connection, connection.transaction():
            yield _PostgresSession(connection)

    @contextmanager
    def _reader(self) -> Iterator[SqlSession]:
        with self._connection() as connection:
            yield _PostgresSession(connection)

    def _json_param(self, value: object) -> Any:
        return Jsonb(value)

    def _is_unique_violation(self, error: Exception) -> bool:
        return isinstance(error, psycopg.errors.UniqueViolation)

    def close(self) -> None:
        self._pool.close()
