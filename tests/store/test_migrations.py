"""Schema migrations: an existing database upgrades without losing a row, a new one gets the
same schema as schema.sql, and a database of another version refuses to start with the fix."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import dict_row

from agent_core.cli import main
from agent_core.domain import RunStatus, ToolCallStatus
from agent_core.errors import ConfigError
from agent_core.store.base import Store
from agent_core.store.conversation_log import ConversationQuery, Outcome
from agent_core.store.demo_data import DEMO_SETTINGS, DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from agent_core.store.migrations import Migration, latest_version, migrations
from agent_core.store.postgres import (
    PostgresMigrations,
    PostgresStore,
    postgres_version,
    to_pyformat,
    upgrade_postgres,
)
from agent_core.store.sqlite import SqliteMigrations, SqliteStore
from agent_core.store.supabase_store import SupabaseStore
from tests.conftest import ROOT, fresh_database, in_a_tool_turn, new_supabase_project, save_contact
from tests.supabase.project import GrantMode

SNAPSHOTS = Path(__file__).parent / "snapshots"
T0 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Filled:
    """The ids of one row in every table of a release-0.1.0 database."""

    tenant: UUID
    conversation: UUID
    turn: UUID
    call_id: str
    tool_message: str
    tour: UUID
    note: UUID
    contact: UUID
    accentless_twin: UUID
    event: UUID


def fill_release_0_1_0(execute: Callable[[str, dict[str, Any]], object]) -> Filled:
    """One row in each table, written as release 0.1.0 wrote them (statements with :names)."""
    ids = Filled(uuid4(), uuid4(), uuid4(), "call_0", "", uuid4(), uuid4(), uuid4(), uuid4(), uuid4())
    result = {"booking_id": str(ids.tour), "name": "Zoë Brandt", "date": "2027-03-15", "location": "Paris"}
    tool_message = json.dumps({"ok": True, "result": result}, ensure_ascii=False)
    p = {
        "tenant": ids.tenant,
        "conversation": ids.conversation,
        "turn": ids.turn,
        "call": ids.call_id,
        "tour": ids.tour,
        "note": ids.note,
        "contact": ids.contact,
        "twin": ids.accentless_twin,
        "event": ids.event,
        "now": T0,
        "day": date(2027, 3, 15),
        "tool_calls": json.dumps([{"id": "call_0", "name": "book_tour", "arguments": "{}"}]),
        "result": json.dumps(result),
        "tool_message": tool_message,
        "payload": json.dumps({"tour_id": str(ids.tour)}),
    }
    statements = [
        "INSERT INTO tenants (id, name, system_prompt, created_at) VALUES (:tenant, 'Old Tours', 'Be kind.', :now)",
        "INSERT INTO prompt_versions (tenant_id, version, prompt, author, created_at)"
        " VALUES (:tenant, 1, 'Be kind.', 'seed', :now)",
        "INSERT INTO conversations (id, tenant_id, created_at, updated_at) VALUES (:conversation, :tenant, :now, :now)",
        "INSERT INTO turns (id, tenant_id, conversation_id, status, user_message, reply, model, prompt_tokens,"
        " completion_tokens, model_calls, latency_ms, started_at, finished_at) VALUES (:turn, :tenant,"
        " :conversation, 'succeeded', 'Book Zoë', 'Booked.', 'demo', 0, 0, 2, 3.5, :now, :now)",
        "INSERT INTO messages (tenant_id, conversation_id, turn_id, role, content, created_at)"
        " VALUES (:tenant, :conversation, :turn, 'user', 'Book Zoë', :now)",
        "INSERT INTO messages (tenant_id, conversation_id, turn_id, role, content, tool_calls, created_at)"
        " VALUES (:tenant, :conversation, :turn, 'assistant', '', :tool_calls, :now)",
        "INSERT INTO tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments, status, result,"
        " duration_ms, created_at) VALUES (:tenant, :call, :turn, :conversation, 'book_tour', '{}',"
        " 'succeeded', :result, 1.25, :now)",
        "INSERT INTO messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id, created_at)"
        " VALUES (:tenant, :conversation, :turn, 'tool', :tool_message, :call, :now)",
        "INSERT INTO messages (tenant_id, conversation_id, turn_id, role, content, created_at)"
        " VALUES (:tenant, :conversation, :turn, 'assistant', 'Booked.', :now)",
        "INSERT INTO tours (id, tenant_id, customer_name, tour_date, location, conversation_id, created_at)"
        " VALUES (:tour, :tenant, 'Zoë Brandt', :day, 'Paris', :conversation, :now)",
        "INSERT INTO notes (id, tenant_id, content, conversation_id, created_at)"
        " VALUES (:note, :tenant, 'Prefers mornings', :conversation, :now)",
        "INSERT INTO contacts (id, tenant_id, name, name_key, email, phone, created_at, updated_at)"
        " VALUES (:contact, :tenant, 'Zoë Brandt', 'zoë brandt', 'zoe@example.com', NULL, :now, :now)",
        # Two contacts then, one now (accents are ignored since migration 6).
        "INSERT INTO contacts (id, tenant_id, name, name_key, email, phone, created_at, updated_at)"
        " VALUES (:twin, :tenant, 'Zoe Brandt', 'zoe brandt', NULL, '+44 20 7946 0958', :now, :now)",
        "INSERT INTO events (id, tenant_id, name, payload, created_at) VALUES (:event, :tenant, 'tour.booked',"
        " :payload, :now)",
        "INSERT INTO listener_runs (event_id, listener, tenant_id, status, attempts, updated_at)"
        " VALUES (:event, 'confirmation', :tenant, 'succeeded', 1, :now)",
        "INSERT INTO outbox (id, tenant_id, kind, event_id, payload, created_at)"
        " VALUES (:note, :tenant, 'confirmation_email', :event, :payload, :now)",
    ]
    for statement in statements:
        execute(statement, p)
    return Filled(**{**ids.__dict__, "tool_message": tool_message})


def assert_contacts_are_rekeyed_without_merging(store: Store, filled: Filled) -> None:
    contacts = {c.id: c for c in store.list_contacts(filled.tenant).rows}
    assert {c.name for c in contacts.values()} == {"Zoë Brandt", "Zoe Brandt"}
    assert contacts[filled.contact].email == "zoe@example.com"
    # The contact whose key did not change keeps it: "zoe brandt" finds what it found before.
    assert save_contact(store, filled.tenant, "ZOE  brandt", None, None).id == filled.accentless_twin
    # Emails and phone numbers stored before the migration find their contact now.
    assert save_contact(store, filled.tenant, "Z. Brandt", "ZOE@example.com", None).id == filled.contact
    assert save_contact(store, filled.tenant, "Z. B.", None, "0044 20 7946 0958").id == filled.accentless_twin
    assert store.list_contacts(filled.tenant).total == 2


def assert_every_row_is_found(store: Store, filled: Filled) -> None:
    tenant = store.get_tenant(filled.tenant)
    assert tenant is not None
    assert tenant.name == "Old Tours"
    assert [v.version for v in store.list_prompt_versions(filled.tenant)] == [1]
    [conversation] = store.list_conversations(filled.tenant)
    assert (conversation.id, conversation.message_count) == (filled.conversation, 4)
    messages = store.list_messages(filled.tenant, filled.conversation)
    assert [m.role for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[1].tool_calls[0].id == filled.call_id
    [call] = store.list_tool_calls(filled.tenant, filled.conversation)
    assert call.status is ToolCallStatus.SUCCEEDED
    assert call.result is not None
    assert call.result["name"] == "Zoë Brandt"
    # What the model read back then is what a replay shows it now, byte for byte.
    assert call.model_content == filled.tool_message == messages[2].content
    assert [t.id for t in store.list_tours(filled.tenant).rows] == [filled.tour]
    assert store.list_tours(filled.tenant).rows[0].tour_date == date(2027, 3, 15)
    # Its customer's name was keyed by the migration: booking it again finds it.
    rebooked, created = in_a_tool_turn(
        store, filled.tenant, "book_tour", lambda w: w.add_tour("ZOE BRANDT", date(2027, 3, 15), "paris")
    )
    assert (rebooked.id, created) == (filled.tour, False)
    assert [n.id for n in store.list_notes(filled.tenant).rows] == [filled.note]
    assert_contacts_are_rekeyed_without_merging(store, filled)
    [event] = store.events.find(filled.tenant)
    assert (event.event.id, event.runs[0].status) == (filled.event, RunStatus.SUCCEEDED)
    assert [o.kind for o in store.events.outbox(filled.tenant)] == ["confirmation_email"]
    # The conversation log's summary was computed for it, and its text is found.
    rows = store.search_conversations(filled.tenant, ConversationQuery()).rows
    [logged] = [r for r in rows if r.id == filled.conversation]
    assert (logged.id, logged.turns, logged.failed_turns, logged.outcomes) == (
        filled.conversation,
        1,
        0,
        (Outcome.BOOKED,),
    )
    assert logged.first_message == messages[0].content
    assert (
        store.search_conversations(filled.tenant, ConversationQuery(text=messages[0].content[:12])).total == 1
    )
    # The old conversation goes on.
    turn = store.start_turn(filled.tenant, filled.conversation, "And a note please")
    assert turn.conversation_id == filled.conversation


def test_every_dialect_has_the_same_numbered_migrations() -> None:
    labels = {dialect: [m.label for m in migrations(dialect)] for dialect in ("postgres", "sqlite")}
    assert labels["postgres"] == labels["sqlite"]
    assert labels["sqlite"][0] == "0001_initial"
    assert latest_version("sqlite") == len(labels["sqlite"])


# -- SQLite ---------------------------------------------------------------------------------


def _release_0_1_0_sqlite(path: Path) -> Filled:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript((SNAPSHOTS / "release-0.1.0-sqlite.sql").read_text())
    filled = fill_release_0_1_0(connection.execute)
    connection.close()
    return filled


def test_a_release_0_1_0_sqlite_file_is_upgraded_at_start_and_keeps_every_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.sqlite3"
    filled = _release_0_1_0_sqlite(path)
    store = SqliteStore(path)
    assert f"contact 'Zoë Brandt' ({filled.contact}) now has the same name as another contact" in caplog.text
    try:
        assert [m.label for m in store.applied_migrations] == [m.label for m in migrations("sqlite")[1:]]
        assert_every_row_is_found(store, filled)
    finally:
        store.close()
    reopened = SqliteStore(path)
    assert reopened.applied_migrations == []
    reopened.close()


def test_a_new_sqlite_file_gets_every_migration_and_its_versions(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "new.sqlite3")
    store.close()
    connection = sqlite3.connect(tmp_path / "new.sqlite3")
    versions = connection.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    connection.close()
    assert versions == [(m.version, m.name) for m in migrations("sqlite")]


def test_a_failing_migration_leaves_the_database_at_its_version() -> None:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    db = SqliteMigrations(connection)
    db.apply(Migration(1, "first", "CREATE TABLE kept (a INTEGER);"))
    broken = Migration(2, "broken", "CREATE TABLE half (a INTEGER); INSERT INTO missing VALUES (1);")
    with pytest.raises(ConfigError, match="migration 0002_broken failed: no such table: missing"):
        db.apply(broken)
    assert db.max_version() == 1
    assert db.has_table("kept")
    assert not db.has_table("half")
    assert not connection.in_transaction


# -- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
def new_database() -> Iterator[Callable[[], str]]:
    """Makes new, empty PostgreSQL databases; each is dropped after the test."""
    with ExitStack() as databases:
        yield lambda: databases.enter_context(fresh_database("vam_migrate"))


@pytest.fixture
def blank_database(new_database: Callable[[], str]) -> str:
    return new_database()


def _run_script(url: str, script: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(script.encode())


def _release_0_1_0_postgres(url: str) -> Filled:
    _run_script(url, (SNAPSHOTS / "release-0.1.0-postgres.sql").read_text())
    with psycopg.connect(url, autocommit=True) as connection:
        return fill_release_0_1_0(lambda sql, params: connection.execute(to_pyformat(sql), params))


def catalog(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything about the public schema that the app or a tenant role can observe."""
    queries = {
        "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity"
        " FROM information_schema.columns WHERE table_schema = 'public'",
        "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE connamespace = 'public'::regnamespace",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
        "row_level_security": "SELECT relname, relrowsecurity FROM pg_class"
        " WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
        "policies": "SELECT tablename, policyname, cmd, roles::text, qual, with_check FROM pg_policies"
        " WHERE schemaname = 'public'",
        "functions": "SELECT proname, pg_get_function_identity_arguments(oid), md5(prosrc), provolatile"
        " FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
        "table_grants": "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants"
        " WHERE table_schema = 'public' AND grantee IN ('anon', 'authenticated', 'service_role')",
        "function_grants": "SELECT grantee, routine_name, privilege_type"
        " FROM information_schema.role_routine_grants WHERE routine_schema = 'public'"
        " AND grantee IN ('anon', 'authenticated', 'service_role', 'PUBLIC')",
        "triggers": "SELECT event_object_table, trigger_name, event_manipulation, action_timing,"
        " action_statement FROM information_schema.triggers WHERE trigger_schema = 'public'",
        "versions": "SELECT version, name FROM public.schema_migrations",
    }
    with psycopg.connect(url) as connection:
        return {name: sorted(connection.execute(sql).fetchall(), key=repr) for name, sql in queries.items()}


def rows(url: str) -> dict[str, list[str]]:
    """Every row of every table (the demo tenants, their scenarios…), without the moments
    they were written at."""
    with psycopg.connect(url) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
                " AND relname <> 'schema_migrations'"
            ).fetchall()
        ]
        found = {}
        for table in tables:
            written = connection.execute(
                f"SELECT (SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(t)) WHERE key NOT LIKE"
                f" '%\\_at')::text FROM public.{table} t"
            ).fetchall()
            found[table] = sorted(str(row) for (row,) in written)
    return found


@pytest.mark.postgres
def test_schema_sql_is_exactly_what_the_migrations_build(
    blank_database: str, new_database: Callable[[], str]
) -> None:
    upgrade_postgres(blank_database)
    pasted = new_database()
    _run_script(pasted, (ROOT / "schema.sql").read_text())
    _run_script(pasted, (ROOT / "schema.sql").read_text())  # re-running it changes nothing
    assert catalog(pasted) == catalog(blank_database)
    assert rows(pasted) == rows(blank_database)
    assert postgres_version(pasted) == latest_version("postgres")


def test_schema_sql_is_what_vam_schema_prints_from_the_migrations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == (ROOT / "schema.sql").read_text(), "schema.sql is stale: run `make schema`"
    for migration in migrations("postgres"):
        assert migration.sql.strip() in printed


@pytest.mark.postgres
def test_schema_sql_refuses_a_database_of_an_earlier_version_and_leaves_it_as_it_was(
    blank_database: str,
) -> None:
    latest = latest_version("postgres")
    with psycopg.connect(blank_database, autocommit=True, row_factory=dict_row) as connection:
        for migration in migrations("postgres")[: latest - 1]:
            PostgresMigrations(connection).apply(migration)
    before = catalog(blank_database)
    with pytest.raises(
        psycopg.errors.RaiseException, match=f"at version {latest - 1}, this schema is version {latest}"
    ):
        _run_script(blank_database, (ROOT / "schema.sql").read_text())
    assert catalog(blank_database) == before
    assert postgres_version(blank_database) == latest - 1


@pytest.mark.postgres
def test_schema_sql_refuses_an_unversioned_release_0_1_0_database_which_vam_migrate_still_adopts(
    blank_database: str,
) -> None:
    _release_0_1_0_postgres(blank_database)
    with pytest.raises(
        psycopg.errors.RaiseException,
        match=f"at version 1, this schema is version {latest_version('postgres')}",
    ):
        _run_script(blank_database, (ROOT / "schema.sql").read_text())
    assert postgres_version(blank_database) == 1  # still unversioned, as the release left it
    assert [m.version for m in upgrade_postgres(blank_database)] == list(
        range(2, latest_version("postgres") + 1)
    )


@pytest.mark.postgres
def test_a_release_0_1_0_database_upgrades_to_the_new_schema_and_keeps_every_row(
    blank_database: str, new_database: Callable[[], str]
) -> None:
    filled = _release_0_1_0_postgres(blank_database)
    assert postgres_version(blank_database) == 1
    applied = upgrade_postgres(blank_database)
    assert [m.label for m in applied] == [m.label for m in migrations("postgres")[1:]]
    fresh = new_database()
    upgrade_postgres(fresh)
    assert catalog(blank_database) == catalog(fresh)
    store = PostgresStore(blank_database)
    try:
        store.check_schema()
        assert_every_row_is_found(store, filled)
    finally:
        store.close()
    assert upgrade_postgres(blank_database) == []


def test_a_sqlite_file_from_before_the_demo_settings_gets_them_from_its_migration(tmp_path: Path) -> None:
    path = tmp_path / "older.sqlite3"
    SqliteStore(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("UPDATE tenants SET settings = '{}' WHERE id = ?", (str(SECOND_DEMO_TENANT_ID),))
    connection.execute("DELETE FROM schema_migrations WHERE version = 16")
    SqliteMigrations(connection).apply(migrations("sqlite")[15])  # as when it upgraded
    connection.close()
    store = SqliteStore(path)
    try:
        clinic = store.get_tenant(SECOND_DEMO_TENANT_ID)
        assert clinic is not None
        assert clinic.settings == DEMO_SETTINGS[SECOND_DEMO_TENANT_ID], "the SQL and demo_data.py agree"
    finally:
        store.close()


@pytest.mark.postgres
def test_a_new_postgres_database_gives_the_demo_tenants_their_settings(blank_database: str) -> None:
    upgrade_postgres(blank_database)
    store = PostgresStore(blank_database)
    try:
        for tenant in store.list_tenants():
            assert tenant.settings == DEMO_SETTINGS.get(tenant.id, {}), tenant.name
    finally:
        store.close()


@pytest.mark.postgres
def test_an_outdated_or_empty_database_refuses_to_start_with_the_fix(blank_database: str) -> None:
    store = PostgresStore(blank_database)
    try:
        with pytest.raises(ConfigError, match=r"no voice-assistant tables yet: run `vam migrate`"):
            store.check_schema()
        _run_script(blank_database, (SNAPSHOTS / "release-0.1.0-postgres.sql").read_text())
        needed = latest_version("postgres")
        with pytest.raises(
            ConfigError, match=rf"database at version 1, this release needs {needed}: run `vam migrate`"
        ):
            store.check_schema()
    finally:
        store.close()


@pytest.mark.postgres
def test_an_old_supabase_project_says_how_to_migrate_and_after_the_grant_change_migrates_whole() -> None:
    """Release 0.1.0 set up before 2026-05-30; on 2026-10-30 Supabase stopped granting new
    objects; `vam migrate` then builds the rest, and every row is read back over REST."""
    with new_supabase_project(GrantMode.LEGACY, with_schema=False) as project:
        _run_script(project.owner_url, (SNAPSHOTS / "release-0.1.0-postgres.sql").read_text())
        with psycopg.connect(project.owner_url, autocommit=True) as connection:
            filled = fill_release_0_1_0(lambda sql, params: connection.execute(to_pyformat(sql), params))
        project.reload_schema()
        store = SupabaseStore(project.url, project.service_role_key)
        try:
            with pytest.raises(
                ConfigError, match=r"version 1, this release needs \d+: run `vam migrate` with DATABASE_URL"
            ):
                store.check_schema()
            project.set_grant_mode(GrantMode.TODAY)
            with project.schema_reloaded():  # by the NOTIFY that `vam migrate` sends
                upgrade_postgres(project.owner_url)
            store.check_schema()
            assert store.schema_version() == latest_version("postgres")
            assert_every_row_is_found(store, filled)
        finally:
            store.close()


@pytest.mark.postgres
def test_concurrent_migrators_take_turns_and_apply_each_migration_once(blank_database: str) -> None:
    results: list[list[Migration]] = []
    workers = [
        threading.Thread(target=lambda: results.append(upgrade_postgres(blank_database))) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(len(r) for r in results) == [0, 0, latest_version("postgres")]
    assert postgres_version(blank_database) == latest_version("postgres")


@pytest.mark.postgres
def test_a_role_that_may_not_run_the_store_functions_refuses_to_start_with_the_fix(
    blank_database: str,
) -> None:
    upgrade_postgres(blank_database)
    role = f"clerk_{uuid4().hex[:8]}"
    with psycopg.connect(blank_database, autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {role} LOGIN BYPASSRLS")  # as Supabase's service_role
        owner.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        owner.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        store = PostgresStore(psycopg.conninfo.make_conninfo(blank_database, user=role))
        try:
            with pytest.raises(
                ConfigError, match=rf"role {role} may not run .*app_start_turn.*`vam migrate`"
            ):
                store.check_schema()
        finally:
            store.close()
    finally:
        with psycopg.connect(blank_database, autocommit=True) as owner:
            owner.execute(f"DROP OWNED BY {role}")
            owner.execute(f"DROP ROLE {role}")


@pytest.mark.postgres
def test_tool_calls_made_before_tools_declared_an_outcome_get_the_one_their_tool_had(
    blank_database: str,
) -> None:
    with psycopg.connect(blank_database, autocommit=True, row_factory=dict_row) as connection:
        for migration in migrations("postgres")[:22]:
            PostgresMigrations(connection).apply(migration)
        conversation, turn = uuid4(), uuid4()
        values = {"tenant": str(DEMO_TENANT_ID), "conversation": str(conversation), "turn": str(turn)}
        connection.execute(
            "INSERT INTO conversations (id, tenant_id) VALUES (%(conversation)s, %(tenant)s)", values
        )
        connection.execute(
            "INSERT INTO turns (id, tenant_id, conversation_id, status, user_message)"
            " VALUES (%(turn)s, %(tenant)s, %(conversation)s, 'succeeded', 'Book Ana')",
            values,
        )
        for name in ("book_tour", "find_tours", "take_note"):
            connection.execute(
                "INSERT INTO tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments,"
                " arguments_hash, status, model_content) VALUES (%(tenant)s, %(name)s, %(turn)s,"
                " %(conversation)s, %(name)s, '{}', 'h', 'succeeded', '{}')",
                {**values, "name": name},
            )
    assert [m.label for m in upgrade_postgres(blank_database)] == [
        m.label for m in migrations("postgres")[22:]
    ]
    with psycopg.connect(blank_database, autocommit=True) as connection:
        rows = connection.execute("SELECT name, outcome FROM tool_calls").fetchall()
    outcomes = {str(name): outcome for name, outcome in rows}
    assert outcomes == {"book_tour": "booked", "find_tours": None, "take_note": "noted"}
