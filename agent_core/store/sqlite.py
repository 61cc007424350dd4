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

UPKEEP_EVERY_TURNS = 64
"""How many finished turns' messages the text index takes in at once, and their tallies the
daily rollups (searches read the newer messages directly, and analytics fold the tallies
first, so this bounds only how many that is)."""

_DAY = "COALESCE(t.day, substr(t.started_at, 1, 10))"
_BUCKET = "CAST(floor(ln(max(ms, 0.01)) * 23.083120654223414) AS INTEGER)"
"""A latency's bucket, as `analytics.bucket_of` computes it."""
_FOLD_TALLIES = (
    # A conversation counts once per day it had a turn: here when none of its turns of that
    # day was counted in an earlier batch.
    "INSERT INTO activity_days (tenant_id, day, conversations, turns)"
    f" SELECT t.tenant_id, {_DAY} AS on_day,"
    "  COUNT(DISTINCT CASE WHEN NOT EXISTS ("
    "   SELECT 1 FROM turns e WHERE e.tenant_id = t.tenant_id AND e.conversation_id = t.conversation_id"
    f"   AND COALESCE(e.day, substr(e.started_at, 1, 10)) = {_DAY}"
    "   AND e.id NOT IN (SELECT turn_id FROM tallies_pending WHERE tool IS NULL AND started = 1)"
    "  ) THEN t.conversation_id END), COUNT(*)"
    " FROM tallies_pending p JOIN turns t ON t.id = p.turn_id WHERE p.tool IS NULL AND p.started = 1"
    " GROUP BY t.tenant_id, on_day"
    " ON CONFLICT (tenant_id, day) DO UPDATE SET conversations = conversations + excluded.conversations,"
    "  turns = turns + excluded.turns",
    "INSERT INTO activity_days (tenant_id, day, failed_turns, tokens, withheld_claims)"
    f" SELECT t.tenant_id, {_DAY} AS on_day, SUM(t.status = 'failed'),"
    "  SUM(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)),"
    "  SUM(COALESCE(json_array_length(t.withheld_claims), 0))"
    " FROM tallies_pending p JOIN turns t ON t.id = p.turn_id WHERE p.tool IS NULL AND p.ended = 1"
    " GROUP BY t.tenant_id, on_day"
    " ON CONFLICT (tenant_id, day) DO UPDATE SET failed_turns = failed_turns + excluded.failed_turns,"
    "  tokens = tokens + excluded.tokens, withheld_claims = withheld_claims + excluded.withheld_claims",
    "INSERT INTO model_days (tenant_id, day, model, prompt_tokens, completion_tokens)"
    f" SELECT t.tenant_id, {_DAY} AS on_day, COALESCE(t.model, 'unknown') AS named,"
    "  SUM(COALESCE(t.prompt_tokens, 0)), SUM(COALESCE(t.completion_tokens, 0))"
    " FROM tallies_pending p JOIN turns t ON t.id = p.turn_id WHERE p.tool IS NULL AND p.ended = 1"
    " GROUP BY t.tenant_id, on_day, named"
    " ON CONFLICT (tenant_id, day, model) DO UPDATE SET"
    "  prompt_tokens = prompt_tokens + excluded.prompt_tokens,"
    "  completion_tokens = completion_tokens + excluded.completion_tokens",
    # A tool call counts on its turn's day (the day it was made, for turns from before days).
    "INSERT INTO tool_days (tenant_id, day, name, calls, failed)"
    " SELECT t.tenant_id, COALESCE(t.day, p.created_day) AS on_day, p.tool, SUM(p.started), SUM(p.failed)"
    " FROM tallies_pending p JOIN turns t ON t.id = p.turn_id WHERE p.tool IS NOT NULL"
    " GROUP BY t.tenant_id, on_day, p.tool"
    " ON CONFLICT (tenant_id, day, name) DO UPDATE SET calls = calls + excluded.calls,"
    "  failed = failed + excluded.failed",
    "WITH ended AS ("
    f"  SELECT t.tenant_id, {_DAY} AS on_day, t.latency_ms, t.model_ms, t.tools_ms"
    "  FROM tallies_pending p JOIN turns t ON t.id = p.turn_id WHERE p.tool IS NULL AND p.ended = 1),"
    " spans AS ("
    "  SELECT tenant_id, on_day, 'turn' AS metric, latency_ms AS ms FROM ended"
    "  UNION ALL SELECT tenant_id, on_day, 'model', model_ms FROM ended WHERE tools_ms IS NOT NULL"
    "  UNION ALL SELECT tenant_id, on_day, 'tools', tools_ms FROM ended WHERE model_ms IS NOT NULL"
    "  UNION ALL SELECT tenant_id, on_day, 'store', latency_ms - model_ms - tools_ms FROM ended"
    "  UNION ALL SELECT t.tenant_id, COALESCE(t.day, p.created_day), 'tool_call', p.duration_ms"
    "  FROM tallies_pending p JOIN turns t ON t.id = p.turn_id WHERE p.tool IS NOT NULL AND p.ended = 1)"
    "INSERT INTO latency_days (tenant_id, day, metric, bucket, count)"
    f" SELECT tenant_id, on_day, metric, {_BUCKET} AS bucket, COUNT(*) FROM spans WHERE ms IS NOT NULL"
    " GROUP BY tenant_id, on_day, metric, bucket"
    " ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = count + excluded.count",
    "DELETE FROM tallies_pending",
)


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


def _fold_tallies(session: SqlSession) -> None:
    """Add the turns and tool calls that started or ended since to the daily rollups (0027)."""
    for statement in _FOLD_TALLIES:
        session.execute(statement)


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
        self._finished_since_upkeep = 0
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
        # The text index and the daily rollups take new rows in batches: one index segment
        # per commit that wrote a message was a fifth of a turn's pages and CPU, and some nine
        # rollup upserts a turn about a tenth of its CPU.
        self._finished_since_upkeep += 1
        if self._finished_since_upkeep >= UPKEEP_EVERY_TURNS:
            self._upkeep(session)

    @contextmanager
    def _rollups_reader(self) -> Iterator[SqlSession]:
        # The rollups first take the tallies of the batch still open.
        with self._transaction() as session:
            _fold_tallies(session)
            yield session

    def catch_up(self) -> None:
        """Do the batched upkeep now: the messages written since into the text index, the
        tallies into the daily rollups; the next batch counts from here."""
        with self._transaction() as session:
            self._upkeep(session)

    def _upkeep(self, session: SqlSession) -> None:
        _index_new_messages(session)
        _fold_tallies(session)
        self._finished_since_upkeep = 0

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
