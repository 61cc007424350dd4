"""Versioned schema migrations: numbered SQL files per dialect, the applied versions recorded
in the database's `schema_migrations` table.

Each migration runs in its own transaction together with the row that records it, so a
failed migration leaves the database at the previous version. A migration may have a Python
step (`backfills.BACKFILLS`), run in the same transaction after its SQL, for data only the
application can compute (match keys, say). A database created before
versions were recorded (release 0.1.0, whose schema is migration 1) is adopted as version 1.

Why not yoyo-migrations or Alembic: the embedded store is often a single `:memory:`
connection that a tool opening its own connection by URL cannot see; the Supabase store has
no SQL connection at all, so its version check reads this table over REST anyway; and
Alembic's value (autogenerate from SQLAlchemy models) does not apply to hand-written SQL.
What remains is a loop over files in a transaction, kept here in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal, Protocol

from agent_core.errors import ConfigError
from agent_core.store.migrations.backfills import BACKFILLS
from agent_core.store.sql_backend import SqlSession

Dialect = Literal["postgres", "sqlite"]

_FILE_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")
CREATE_VERSION_TABLE: dict[Dialect, str] = {
    "postgres": (
        "CREATE TABLE IF NOT EXISTS public.schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    ),
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
    ),
}


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered step of the schema."""

    version: int
    name: str
    sql: str
    backfill: Callable[[SqlSession], None] | None = None
    """Run after the SQL in the same transaction, on rows that existed before it."""

    @property
    def label(self) -> str:
        """The migration's file name without the extension, e.g. `0002_tool_result_text`."""
        return f"{self.version:04d}_{self.name}"


@cache
def migrations(dialect: Dialect) -> tuple[Migration, ...]:
    """Every migration of a dialect in order; the numbers must run 1, 2, 3… without gaps."""
    found = []
    for entry in files("agent_core.store.migrations").joinpath(dialect).iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            version = int(match[1])
            found.append(Migration(version, match[2], entry.read_text("utf-8"), BACKFILLS.get(version)))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{dialect} migrations are not numbered 1..n: {[m.label for m in found]}")
    return tuple(found)


def latest_version(dialect: Dialect) -> int:
    """The version this release's code needs."""
    return len(migrations(dialect))


MIGRATE = "run `vam migrate`"


def outdated_message(current: int, needed: int, fix: str = MIGRATE) -> str:
    """What to tell someone whose database is behind (or ahead of) this release."""
    if current == 0:
        return (
            f"the database has no voice-assistant tables yet: {fix},"
            " or paste schema.sql into the SQL editor (Supabase) or `psql -f schema.sql`"
        )
    if current > needed:
        return (
            f"database at version {current}, newer than this release (version {needed}):"
            " upgrade voice-assistant-mini"
        )
    return f"database at version {current}, this release needs {needed}: {fix}"


def require_version(current: int, dialect: Dialect, fix: str = MIGRATE) -> None:
    """ConfigError naming the fix unless the database is at this release's version."""
    needed = latest_version(dialect)
    if current != needed:
        raise ConfigError(outdated_message(current, needed, fix))


class MigratableDatabase(Protocol):
    """What the runner needs of a database connection; each SQL backend supplies one."""

    dialect: Dialect

    def has_table(self, name: str) -> bool:
        """True when the table exists."""
        ...

    def max_version(self) -> int:
        """The highest version in `schema_migrations` (which exists)."""
        ...

    def apply(self, migration: Migration) -> None:
        """Run the migration and record its version in one transaction; ConfigError on failure."""
        ...


def current_version(db: MigratableDatabase) -> int:
    """The applied version: 0 for an empty database, 1 for an unversioned release-0.1.0 one."""
    if db.has_table("schema_migrations"):
        return db.max_version()
    return 1 if db.has_table("tenants") else 0


def upgrade(db: MigratableDatabase) -> list[Migration]:
    """Apply every pending migration in order; returns those applied (an adoption is not one)."""
    current = current_version(db)
    steps = migrations(db.dialect)
    if current > len(steps):
        raise ConfigError(outdated_message(current, len(steps)))
    pending = list(steps[current:])
    if current == 1 and not db.has_table("schema_migrations"):
        # Adopt a release-0.1.0 database: its tables are migration 1.
        pending.insert(0, Migration(1, steps[0].name, ""))
    for migration in pending:
        db.apply(migration)
    return [m for m in pending if m.sql]
