"""PostgreSQL store (`DATABASE_URL`), over a psycopg connection pool."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from agent_core.domain import Contact, Tour
from agent_core.errors import ConfigError, StoreUnavailableError
from agent_core.store.deadlines import Deadlines
from agent_core.store.function_access import FunctionAccess
from agent_core.store.function_writes import FunctionWrites
from agent_core.store.migrations import (
    CREATE_VERSION_TABLE,
    Dialect,
    Migration,
    current_version,
    require_version,
    upgrade,
)
from agent_core.store.refusals import function_error
from agent_core.store.rows import Row
from agent_core.store.sql_backend import SqlSession
from agent_core.store.sql_store import SqlStore
from agent_core.store.tool_reads import contacts_matching, latest_customer, live_bookings
from agent_core.store.voice_turns import Rpc

# Any number, the same in every release, so that concurrent migrators take turns.
_MIGRATION_LOCK = 7_245_190_331
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


_JSON_TYPES = frozenset({"json", "jsonb"})


@dataclass(frozen=True, slots=True)
class _Signature:
    """What calling one SQL function needs to know of it."""

    returns_set: bool
    types: dict[str, str]


_CONNECT_SECONDS = 2
"""libpq's shortest connect timeout: what one connection attempt may take."""


class PostgresStore(FunctionWrites, FunctionAccess, SqlStore):
    """Store on PostgreSQL; the schema comes from `vam migrate` (or schema.sql), applied beforehand.

    Its writes are the SQL functions Supabase calls too (`FunctionWrites`, `FunctionAccess`):
    one rule for both, one round trip each. Its reads and single-statement writes are the SQL
    store's."""

    backend = "postgres"

    def __init__(
        self,
        conninfo: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 3.0,
        answer_seconds: float = 5.0,
    ) -> None:
        """`timeout`: the longest wait for a connection; `answer_seconds`: the longest one
        operation may take, that wait included (a silent server is cut off then)."""
        # One direct attempt first: a wrong URL fails in milliseconds with the server's own
        # reason, instead of after the pool's full timeout.
        _connect(conninfo, timeout).close()
        self._conninfo = conninfo
        self._wait_seconds = timeout
        self._answer_seconds = answer_seconds
        self._deadlines = Deadlines()
        self._operation = threading.local()
        self._signatures: dict[str, _Signature] = {}
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            # A connection is checked as it leaves the pool: after a server restart the stale
            # ones are replaced instead of failing the next requests.
            check=self._check,
            kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": _CONNECT_SECONDS},
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
        """ConfigError naming the fix unless the database is at this release's schema version."""
        with self._pool.connection() as connection:
            require_version(current_version(PostgresMigrations(connection)), "postgres")
            refused = connection.execute(
                "SELECT current_user AS role, string_agg(DISTINCT proname, ', ' ORDER BY proname) AS names"
                " FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'app\\_%'"
                " AND NOT has_function_privilege(oid, 'EXECUTE')"
            ).fetchone()
        if refused is not None and refused["names"]:
            # A turn's steps are these functions: without them every chat turn would fail.
            raise ConfigError(
                f"the DATABASE_URL role {refused['role']} may not run the store's SQL functions"
                f" ({refused['names']}): connect as the role that ran `vam migrate`, or grant it"
                " EXECUTE on them"
            )

    def ping(self) -> None:
        # Health answers within a second during an outage instead of queuing for the pool.
        with self._connection(timeout=1.0) as connection:
            connection.execute("SELECT 1")

    @contextmanager
    def _connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Row]]:
        """A connection for one operation, which must end within `answer_seconds` (or
        `timeout`, when shorter): StoreUnavailableError otherwise, however the server failed."""
        limit = min(self._answer_seconds, timeout or self._answer_seconds)
        deadline = self._operation.deadline = time.monotonic() + limit
        # The pool's wait leaves a direct connection attempt its time, where there is enough.
        spare = limit - _CONNECT_SECONDS
        wait = min(timeout or self._wait_seconds, spare if spare >= _CONNECT_SECONDS / 4 else limit)
        try:
            with (
                self._pooled_or_direct(wait, deadline) as connection,
                self._deadlines.guard(connection, deadline),
            ):
                yield connection
        except (psycopg.OperationalError, PoolTimeout) as exc:
            # A pool timeout gets here only when no direct attempt had the time left for it.
            if time.monotonic() >= deadline or isinstance(exc, PoolTimeout):
                raise StoreUnavailableError(f"PostgreSQL did not answer within {limit:g} s") from exc
            raise StoreUnavailableError(f"PostgreSQL unavailable: {_first_line(exc)}") from exc
        finally:
            self._operation.deadline = None

    def _check(self, connection: psycopg.Connection[Row]) -> None:
        """The pool's check of a connection leaving it, within the operation's deadline: a
        connection to a server gone silent fails it and is replaced."""
        deadline = getattr(self._operation, "deadline", None) or time.monotonic() + self._answer_seconds
        with self._deadlines.guard(connection, deadline):
            ConnectionPool.check_connection(connection)

    @contextmanager
    def _pooled_or_direct(self, wait: float, deadline: float) -> Iterator[psycopg.Connection[Row]]:
        """A pooled connection; when the pool has none in time — it is still backing off after
        an outage — one made now, so the first request after the server is back succeeds
        (when the operation has the 2 s a connection attempt may take left)."""
        try:
            pooled = self._pool.getconn(timeout=wait)
        except PoolTimeout:
            # (The pool's wait was sized to leave it, give or take the time just spent.)
            if deadline - time.monotonic() < _CONNECT_SECONDS - 0.1:
                raise
            with psycopg.connect(
                self._conninfo, autocommit=True, row_factory=dict_row, connect_timeout=_CONNECT_SECONDS
            ) as direct:
                yield direct
            return
        try:
            yield pooled
        finally:
            self._pool.putconn(pooled)

    @contextmanager
    def _transaction(self) -> Iterator[SqlSession]:
        with self._connection() as connection, connection.transaction():
            yield _PostgresSession(connection)

    @contextmanager
    def _reader(self) -> Iterator[SqlSession]:
        with self._connection() as connection:
            yield _PostgresSession(connection)

    def _rpc(self, function: str, arguments: dict[str, Any]) -> Any:
        # Called as PostgREST calls it: named arguments cast to the parameters' types (a JSON
        # array may be a uuid[] or a jsonb), a set of rows handed back as a JSON array.
        signature = self._signature(function)
        named = ", ".join(f"{name} => %({name})s::{signature.types[name]}" for name in arguments)
        values = {
            name: Jsonb(value) if signature.types[name] in _JSON_TYPES and value is not None else value
            for name, value in arguments.items()
        }
        call = f"public.{function}({named})"
        sql = (
            f"SELECT COALESCE(jsonb_agg(to_jsonb(r)), '[]'::jsonb) AS result FROM {call} AS r"
            if signature.returns_set
            else f"SELECT {call} AS result"
        )
        with self._connection() as connection:
            try:
                row = connection.execute(sql.encode(), values).fetchone()
            except psycopg.Error as error:
                ours = function_error(error.sqlstate or "", error.diag.message_primary or _first_line(error))
                if ours is None:
                    raise
                raise ours from None
        return None if row is None else row["result"]

    def _signature(self, function: str) -> _Signature:
        """The parameter types of `public.<function>` and whether it returns a set, read from the
        catalog once (the migrations leave one version of each function)."""
        if (known := self._signatures.get(function)) is not None:
            return known
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT p.proretset AS returns_set, p.proargnames AS names,"
                " array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY"
                " AS a(t, n) ORDER BY n) AS types"
                " FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.proname = %s",
                (function,),
            ).fetchall()
        if len(rows) != 1:
            raise ConfigError(
                f"the database has {len(rows)} versions of function {function}, this release needs one:"
                " run `vam migrate`"
            )
        row = rows[0]
        # The names go on with a RETURNS TABLE's columns; the types are the inputs' only.
        signature = _Signature(bool(row["returns_set"]), dict(zip(row["names"], row["types"], strict=False)))
        self._signatures[function] = signature
        return signature

    def _functions(self) -> Rpc:
        # The roles' writes that are one function here: a key's claim, forgetting recordings.
        return self._rpc

    def _live_bookings(self, tenant_id: UUID, key: str, from_date: date, on: date | None) -> list[Tour]:
        with self._reader() as session:
            return live_bookings(session, tenant_id, key, from_date, on)

    def _latest_customer(self, tenant_id: UUID, conversation_id: UUID) -> str | None:
        with self._reader() as session:
            return latest_customer(session, tenant_id, conversation_id)

    def _contacts_matching(self, tenant_id: UUID, lookup: dict[str, str | None]) -> list[Contact]:
        with self._reader() as session:
            return contacts_matching(session, tenant_id, lookup)

    def _json_param(self, value: object) -> Any:
        return Jsonb(value)

    def _is_unique_violation(self, error: Exception) -> bool:
        return isinstance(error, psycopg.errors.UniqueViolation)

    def close(self) -> None:
        self._pool.close()


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class PostgresMigrations:
    """The migration runner's view of a PostgreSQL connection (autocommit)."""

    dialect: Dialect = "postgres"

    def __init__(self, connection: psycopg.Connection[Row]) -> None:
        self._connection = connection

    def _scalar(self, sql: str, params: tuple[object, ...] = ()) -> object:
        with self._connection.cursor(row_factory=tuple_row) as cursor:
            row = cursor.execute(sql, params).fetchone()
        return row[0] if row else None

    def has_table(self, name: str) -> bool:
        return bool(self._scalar("SELECT to_regclass(%s) IS NOT NULL", (f"public.{name}",)))

    def max_version(self) -> int:
        return int(str(self._scalar("SELECT COALESCE(MAX(version), 0) FROM public.schema_migrations")))

    def apply(self, migration: Migration) -> None:
        try:
            with self._connection.transaction():
                self._connection.execute(CREATE_VERSION_TABLE["postgres"])
                if migration.sql:
                    self._connection.execute(migration.sql.encode())
                if migration.backfill is not None:
                    migration.backfill(_PostgresSession(self._connection))
                self._connection.execute(
                    "INSERT INTO public.schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
        except psycopg.Error as exc:
            raise ConfigError(f"migration {migration.label} failed: {exc}") from exc


def _connect(conninfo: str, timeout: float = 10.0) -> psycopg.Connection[Row]:
    """One connection outside the pool; StoreUnavailableError with the server's own reason."""
    try:
        return psycopg.connect(
            conninfo, autocommit=True, row_factory=dict_row, connect_timeout=max(1, int(timeout))
        )
    except psycopg.OperationalError as exc:
        raise StoreUnavailableError(
            f"cannot connect to PostgreSQL at DATABASE_URL: {_first_line(exc)}"
        ) from exc


def upgrade_postgres(conninfo: str) -> list[Migration]:
    """Bring the database to this release's version; returns the migrations applied.

    An advisory lock makes concurrent runs (two deploys at once) take turns; the second
    finds nothing left to do.
    """
    with _connect(conninfo) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            applied = upgrade(PostgresMigrations(connection))
            if applied:
                # Supabase's REST layer (PostgREST) caches the schema until told to reload it.
                connection.execute("NOTIFY pgrst, 'reload schema'")
            return applied
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))


def postgres_version(conninfo: str) -> int:
    """The applied schema version of the database (0 when empty)."""
    with _connect(conninfo) as connection:
        return current_version(PostgresMigrations(connection))
