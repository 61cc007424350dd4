"""SQLite store: the embedded default, one file created, upgraded and seeded at start."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

from agent_core.clock import utcnow
from agent_core.domain import Tenant, fingerprint
from agent_core.errors import ConfigError, StoreUnavailableError
from agent_core.store.conversation_log import TextSearch, messages_containing
from agent_core.store.demo_data import DEMO_SETTINGS, DEMO_TENANTS
from agent_core.store.migrations import CREATE_VERSION_TABLE, Dialect, Migration, current_version, upgrade
from agent_core.store.migrations.backfills import seed_demo_scenarios
from agent_core.store.rows import Row
from agent_core.store.sql_backend import SqlSession
from agent_core.store.sql_store import SqlStore


@lru_cache(maxsize=4096)
def _uuid_text(value: UUID) -> str:
    # A turn binds its tenant's, conversation's and turn's ids some thirty times: remembered,
    # each costs a quarter of formatting it again.
    return str(value)


# Explicit adapters: the stdlib's implicit date adapters are deprecated, and UUIDs
# must be stored as canonical text so equality lookups match.
sqlite3.register_adapter(UUID, _uuid_text)
sqlite3.register_adapter(datetime, datetime.isoformat)
sqlite3.register_adapter(date, date.isoformat)


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def _casefold(value: str | None) -> str | None:
    return value.casefold() if isinstance(value, str) else value


class _SqliteSession:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> list[Row]:
        return self._connection.execute(sql, params or {}).fetchall()

    def execute(self, sql: str, params: Mapping[str, object] | None = None) -> int:
        return self._connection.execute(sql, params or {}).rowcount


_SCRATCH_LOCK = threading.Lock()
# One migrated database with no tenants, copied by every sandbox store of this process.
_SCRATCH_TEMPLATE: list[sqlite3.Connection] = []


_JSON = json.JSONEncoder(default=str)
"""What `json.dumps(value, default=str)` builds on every call, built once."""

INDEX_EVERY_TURNS = 64
"""How many finished turns' messages the text index takes in at once (searches read the
newer ones directly, so this bounds only how many that is)."""


def _index_new_messages(session: SqlSession) -> None:
    """Add the user and assistant messages written since to the text index (migration 0024)."""
    session.execute(
        "INSERT INTO message_text (rowid, content) SELECT id, content FROM messages"
        " WHERE id > (SELECT up_to FROM message_text_indexed) AND role IN ('user', 'assistant')"
        " AND content <> ''"
    )
    session.execute(
        "UPDATE message_text_indexed SET up_to = (SELECT max(id) FROM messages)"
        " WHERE (SELECT max(id) FROM messages) > up_to"
    )


class SqliteStore(SqlStore):
    """One shared connection guarded by a lock: SQLite serialises writers anyway, and a
    single connection keeps `:memory:` databases whole across threads."""

    backend = "sqlite"
    applied_migrations: list[Migration]

    def __init__(self, path: Path | str, *, copy_of: sqlite3.Connection | None = None) -> None:
        """Open (creating, upgrading and seeding) the file at `path`; with `copy_of`, an
        in-memory copy of that already migrated database instead."""
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"cannot open SQLite file {self.path}: {exc}") from exc
        self._connection.row_factory = _dict_row
        # SQLite's lower() folds ASCII only; searches must match "ZOË" with "zoë".
        self._connection.create_function("casefold", 1, _casefold, deterministic=True)
        # Tool-call fingerprints, computed in SQL by a migration exactly as the code does.
        self._connection.create_function("sha256", 1, fingerprint, deterministic=True)
        self._lock = threading.RLock()
        self._finished_since_indexing = 0
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute("PRAGMA synchronous = NORMAL")
        self._connection.execute("PRAGMA foreign_keys = ON")
        if copy_of is None:
            self._create_schema()
        else:
            copy_of.backup(self._connection)
            self.applied_migrations = []

    @classmethod
    def scratch(cls, tenant: Tenant) -> SqliteStore:
        """An in-memory store holding only a copy of `tenant` (same id, name, prompt and
        settings) and no records: where sandbox turns run, so they write nothing real."""
        # Copying a migrated empty database takes a fraction of running the migrations again.
        with _SCRATCH_LOCK:
            if not _SCRATCH_TEMPLATE:
                template = cls(":memory:")
                with template._transaction() as session:
                    session.execute("DELETE FROM tenants")
                _SCRATCH_TEMPLATE.append(template._connection)
            store = cls(":memory:", copy_of=_SCRATCH_TEMPLATE[0])
        with store._transaction() as session:
            session.execute(
                "INSERT INTO tenants (id, name, system_prompt, created_at, settings)"
                " VALUES (:id, :name, :prompt, :created_at, :settings)",
                {
                    "id": str(tenant.id),
                    "name": tenant.name,
                    "prompt": tenant.system_prompt,
                    "created_at": tenant.created_at,
                    "settings": json.dumps(tenant.settings),
                },
            )
        return store

    def _create_schema(self) -> None:
        with self._lock:
            self.applied_migrations = upgrade(SqliteMigrations(self._connection))
            self._seed_demo_tenants()

    def _seed_demo_tenants(self) -> None:
        """The demo tenants a file lacks, each with its first prompt version and its scenarios,
        in one transaction: a first start killed at any step (each migration commits on its
        own) leaves a demo tenant whole or absent, and the next start adds what is missing."""
        now = utcnow()
        with self._transaction() as session:
            demo = {f"t{i}": str(t) for i, (t, _, _) in enumerate(DEMO_TENANTS)}
            present = {
                str(row["id"])
                for row in session.query(f"SELECT id FROM tenants WHERE id IN (:{', :'.join(demo)})", demo)
            }
            added = [(str(t), name, prompt) for t, name, prompt in DEMO_TENANTS if str(t) not in present]
            if not added:
                return
            for tenant_id, name, prompt in added:
                settings = json.dumps(DEMO_SETTINGS.get(UUID(tenant_id), {}))
                values = {"id": tenant_id, "name": name, "prompt": prompt, "now": now, "settings": settings}
                session.execute(
                    "INSERT INTO tenants (id, name, system_prompt, created_at, settings)"
                    " VALUES (:id, :name, :prompt, :now, :settings)",
                    values,
                )
                session.execute(
                    "INSERT INTO prompt_versions (tenant_id, version, prompt, author, created_at)"
                    " VALUES (:id, 1, :prompt, 'seed', :now)",
                    values,
                )
            seed_demo_scenarios(session, only=[tenant_id for tenant_id, _, _ in added])

    def schema_version(self) -> int:
        """The applied schema version."""
        with self._lock:
            return current_version(SqliteMigrations(self._connection))

    @contextmanager
    def _transaction(self) -> Iterator[SqlSession]:
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteSession(self._connection)
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    @contextmanager
    def _reader(self) -> Iterator[SqlSession]:
        with self._lock:
            yield _SqliteSession(self._connection)

    def _fold(self, expression: str, search: str) -> str:
        # SQLite's LIKE already ignores ASCII case; the Python fold is only needed beyond ASCII.
        return expression if search.isascii() else f"casefold({expression})"

    def _text_match(self, text: str) -> TextSearch:
        # The trigram index finds candidates for three characters or more; it folds ASCII case
        # like LIKE does, so for ASCII text its matches include every LIKE match, and the LIKE
        # on the candidates keeps exactly those. CROSS JOIN makes SQLite start from the index.
        # Messages written since the index last took them in (migration 0024) are read directly.
        if len(text) < 3 or not text.isascii():
            return super()._text_match(text)
        indexed = (
            "message_text CROSS JOIN messages m ON m.id = message_text.rowid"
            " WHERE message_text MATCH :phrase AND"
        )
        newer = "messages m WHERE m.id > (SELECT up_to FROM message_text_indexed) AND"
        phrase = '"' + text.replace('"', '""') + '"'
        return TextSearch(
            f"{messages_containing(self._fold, text, indexed)}"
            f" UNION ALL {messages_containing(self._fold, text, newer)}",
            {"phrase": phrase},
        )

    def _turn_finished(self, session: SqlSession) -> None:
        # The text index takes new messages in batches: one index segment per commit that
        # wrote a message was a fifth of a turn's pages and CPU.
        self._finished_since_indexing += 1
        if self._finished_since_indexing >= INDEX_EVERY_TURNS:
            _index_new_messages(session)
            self._finished_since_indexing = 0

    def index_new_messages(self) -> None:
        """Take every message written since into the text index now."""
        with self._transaction() as session:
            _index_new_messages(session)
            self._finished_since_indexing = 0

    def _json_param(self, value: object) -> object:
        return _JSON.encode(value)

    def _is_unique_violation(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class SqliteMigrations:
    """The migration runner's view of an SQLite connection."""

    dialect: Dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def has_table(self, name: str) -> bool:
        rows = self._connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchall()
        return bool(rows)

    def max_version(self) -> int:
        cursor = self._connection.cursor()
        cursor.row_factory = None  # plain tuples, whatever the connection's factory
        (version,) = cursor.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
        return int(version)

    def apply(self, migration: Migration) -> None:
        # executescript commits whatever is open and runs the statements as they come, so the
        # transaction is part of the script, left open for the Python step and the record;
        # after an error it is still open: roll it back.
        script = f"BEGIN IMMEDIATE;\n{CREATE_VERSION_TABLE['sqlite']};\n{migration.sql}\n;"
        try:
            self._connection.executescript(script)
            if migration.backfill is not None:
                migration.backfill(_SqliteSession(self._connection))
            self._connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
            self._connection.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
            raise ConfigError(f"migration {migration.label} failed: {exc}") from exc
