"""Grants are part of the schema. Supabase projects created since 2026-05-30 grant nothing
new to the API roles on their own, so what a request runs must be granted by schema.sql:
checked here in the catalog of a project of each grant mode, so that a missing grant fails a
test and not a customer's chat turn."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import ROOT
from tests.supabase.project import API_ROLES, SupabaseProject

pytestmark = pytest.mark.postgres
Sql = psycopg.Connection[tuple[object, ...]]
# Every module of the store: Supabase's own, the writes it shares with PostgreSQL, and the
# roles (voice turns, idempotency keys) that call a function for both.
STORE_SOURCES = sorted((ROOT / "agent_core" / "store").glob("*.py"))
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
_RPC = re.compile(r'\b_?rpc\(\s*"(app_\w+)"')
_CALL = re.compile(r"\bpublic\.(app_\w+)\s*\(")


@pytest.fixture
def sql(supabase: SupabaseProject) -> Iterator[Sql]:
    with psycopg.connect(supabase.database_url, autocommit=True) as connection:
        yield connection


def rpc_functions() -> set[str]:
    """Every function the Supabase store calls over RPC, read from its source."""
    return {name for path in STORE_SOURCES for name in _RPC.findall(path.read_text())}


def reached(sql: Sql, roots: set[str]) -> set[str]:
    """The functions `roots` are, and every function of `public` they call, transitively."""
    bodies: dict[str, str] = {}
    for name, body in sql.execute(
        "SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
    ):
        bodies[str(name)] = bodies.get(str(name), "") + str(body)
    found, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += [f for f in _CALL.findall(bodies.get(name, "")) if f in bodies]
    return found


def executors(sql: Sql, name: str) -> set[str]:
    """The API roles that may execute every overload of function `name`."""
    rows = sql.execute(
        "SELECT oid FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname = %s", (name,)
    ).fetchall()
    assert rows, f"function {name} is not in the schema"
    return {
        role
        for role in API_ROLES
        if all(
            sql.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')", (role, oid)).fetchone() == (True,)
            for (oid,) in rows
        )
    }


def test_the_store_calls_functions_over_rpc() -> None:
    assert {
        "app_start_turn",
        "app_run_tool_call",
        "app_fail_expired_turns",
        "app_save_user",
        "app_forget_recordings",
        "app_claim_idempotency_key",
    } <= rpc_functions()


def test_what_the_store_calls_and_what_that_calls_only_the_service_role_may_run(sql: Sql) -> None:
    for name in reached(sql, rpc_functions()):
        allowed = executors(sql, name)
        assert "service_role" in allowed, f"service_role may not execute {name}"
        assert "anon" not in allowed, f"anon may execute {name}"


def test_what_triggers_and_policies_run_the_roles_that_write_may_run(sql: Sql) -> None:
    triggers = {
        str(name)
        for (name,) in sql.execute(
            "SELECT p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE NOT t.tgisinternal AND t.tgrelid::regclass::text NOT LIKE 'pg_%'"
        )
    }
    # A trigger function itself needs no grant (its owner's is checked when the trigger is
    # made); what it calls runs as the role that wrote the row.
    called = reached(sql, triggers) - triggers
    policies = " ".join(
        f"{qual} {check}"
        for qual, check in sql.execute("SELECT qual, with_check FROM pg_policies WHERE schemaname = 'public'")
    )
    called |= set(re.findall(r"\b(app_\w+)\(", policies))
    assert {"app_summarise_conversation", "app_tenant_id"} <= called
    for name in called:
        assert {"authenticated", "service_role"} <= executors(sql, name), name


def test_anon_may_run_no_function(sql: Sql) -> None:
    runnable = sql.execute(
        "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
        " AND has_function_privilege('anon', oid, 'EXECUTE')"
    ).fetchall()
    assert runnable == []


def privileges(sql: Sql) -> dict[tuple[str, str], set[str]]:
    """What each API role may do to each table of `public`."""
    matrix: dict[tuple[str, str], set[str]] = {}
    tables = [
        str(t)
        for (t,) in sql.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        )
    ]
    for role in API_ROLES:
        for table in tables:
            matrix[role, table] = {
                p
                for p in TABLE_PRIVILEGES
                if sql.execute(
                    "SELECT has_table_privilege(%s, %s, %s)", (role, f"public.{table}", p)
                ).fetchone()
                == (True,)
            }
    return matrix


def test_each_role_may_touch_exactly_the_tables_its_policies_cover(sql: Sql) -> None:
    """The service role every table (the versions read-only); `authenticated` what its row
    policies cover, the commands they name; anon nothing."""
    covered: dict[str, set[str]] = {}
    for table, command in sql.execute(
        "SELECT tablename, cmd FROM pg_policies WHERE schemaname = 'public' AND 'authenticated' = ANY(roles)"
    ):
        covered.setdefault(str(table), set()).update(TABLE_PRIVILEGES if command == "ALL" else {str(command)})
    expected = {}
    for role, table in privileges(sql):
        if role == "service_role":
            expected[role, table] = {"SELECT"} if table == "schema_migrations" else set(TABLE_PRIVILEGES)
        elif role == "authenticated":
            expected[role, table] = covered.get(table, set())
        else:
            expected[role, table] = set()
    assert privileges(sql) == expected


def test_every_sequence_behind_a_table_the_roles_insert_into_they_may_use(sql: Sql) -> None:
    rows = sql.execute(
        "SELECT s.oid::regclass::text, t.oid::regclass::text FROM pg_depend d"
        " JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
        " JOIN pg_class t ON t.oid = d.refobjid"
        " WHERE t.relnamespace = 'public'::regnamespace AND d.deptype = 'a'"
    ).fetchall()
    assert rows, "no sequence found behind a serial column"
    for sequence, table in rows:
        for role in API_ROLES:
            inserts = sql.execute("SELECT has_table_privilege(%s, %s, 'INSERT')", (role, table)).fetchone()
            uses = sql.execute("SELECT has_sequence_privilege(%s, %s, 'USAGE')", (role, sequence)).fetchone()
            if inserts == (True,):
                assert uses == (True,), f"{role} may insert into {table} but not use {sequence}"
