"""Reads through PostgREST never stop at the server's max rows: Supabase answers at most 1,000
rows a request and says nothing when it cuts an answer short. Each list the Supabase store
reads holds more than that here, written straight into the project's database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID, uuid4

import psycopg
import pytest

from agent_core.access.models import AuditQuery
from agent_core.clock import utcnow
from agent_core.domain import RunStatus
from agent_core.store.supabase_store import DEFAULT_MAX_ROWS, SupabaseStore
from tests.conftest import add_tenant, new_supabase_project
from tests.supabase.project import MAX_ROWS, GrantMode, SupabaseProject

pytestmark = pytest.mark.postgres
MORE = MAX_ROWS + 201
Sql = psycopg.Connection[tuple[object, ...]]


@pytest.fixture(scope="module")
def project() -> Iterator[SupabaseProject]:
    """A project of its own: the rows written here would crowd the shared ones."""
    with new_supabase_project(GrantMode.TODAY) as project:
        yield project


@pytest.fixture
def store(project: SupabaseProject) -> Iterator[SupabaseStore]:
    store = SupabaseStore(project.url, project.service_role_key)
    yield store
    store.close()


@pytest.fixture
def sql(project: SupabaseProject) -> Iterator[Sql]:
    with psycopg.connect(project.database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def tenant(store: SupabaseStore) -> UUID:
    return add_tenant(store, f"Paging {uuid4().hex[:8]}", "prompt").id


def test_the_server_and_the_store_agree_on_supabases_default() -> None:
    assert MAX_ROWS == DEFAULT_MAX_ROWS == 1000


def test_every_message_of_a_long_conversation(store: SupabaseStore, sql: Sql, tenant: UUID) -> None:
    turn = store.start_turn(tenant, None, "message 0")
    sql.execute(
        "INSERT INTO messages (tenant_id, conversation_id, turn_id, role, content)"
        " SELECT %s, %s, %s, 'user', 'message ' || i FROM generate_series(1, %s) i",
        (tenant, turn.conversation_id, turn.turn_id, MORE),
    )
    messages = store.list_messages(tenant, turn.conversation_id)
    assert [m.content for m in messages] == [f"message {i}" for i in range(MORE + 1)]
    history = store.load_history(tenant, turn.conversation_id, MAX_ROWS + 100)
    assert [m.content for m in history] == [f"message {i}" for i in range(MORE + 1)][-(MAX_ROWS + 100) :]


def test_every_tenant(store: SupabaseStore, sql: Sql) -> None:
    prefix = f"Many {uuid4().hex[:6]}"
    sql.execute(
        "INSERT INTO tenants (id, name, system_prompt) SELECT gen_random_uuid(), %s || ' ' || i, 'p'"
        " FROM generate_series(1, %s) i",
        (prefix, MORE),
    )
    names = [t.name for t in store.list_tenants()]
    assert len([n for n in names if n.startswith(prefix)]) == MORE
    assert len(names) == len(set(names))


def test_every_turn_and_tool_call_of_a_conversation(
    store: SupabaseStore,
    sql: Sql,
    tenant: UUID,
) -> None:
    first = store.start_turn(tenant, None, "turn 0")
    sql.execute(
        "INSERT INTO turns (id, tenant_id, conversation_id, status, user_message, started_at)"
        " SELECT gen_random_uuid(), %s, %s, 'succeeded', 'turn ' || i, now() + i * interval '1 ms'"
        " FROM generate_series(1, %s) i",
        (tenant, first.conversation_id, MORE),
    )
    sql.execute(
        "INSERT INTO tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments,"
        " arguments_hash, status, model_content, created_at)"
        " SELECT %s, 'call_' || i, %s, %s, 'take_note', '{}', 'h', 'succeeded', 'ok',"
        " now() + i * interval '1 ms' FROM generate_series(1, %s) i",
        (tenant, first.turn_id, first.conversation_id, MORE),
    )
    turns = store.list_turns(tenant, first.conversation_id)
    assert [t.user_message for t in turns] == [f"turn {i}" for i in range(MORE + 1)]
    calls = store.list_tool_calls(tenant, first.conversation_id)
    assert [c.call_id for c in calls] == [f"call_{i}" for i in range(1, MORE + 1)]


def test_every_event_with_a_failed_run(store: SupabaseStore, sql: Sql, tenant: UUID) -> None:
    sql.execute(
        "WITH e AS (INSERT INTO events (id, tenant_id, name, payload)"
        " SELECT gen_random_uuid(), %s, 'note.taken', jsonb_build_object('n', i)"
        " FROM generate_series(1, %s) i RETURNING id)"
        " INSERT INTO listener_runs (event_id, listener, tenant_id, status, attempts)"
        " SELECT e.id, l, %s, CASE l WHEN 'crm' THEN 'failed' ELSE 'succeeded' END, 1"
        " FROM e, unnest(ARRAY['crm', 'analytics']) l",
        (tenant, MORE, tenant),
    )
    failed = store.events.find(tenant, status=RunStatus.FAILED, limit=MORE + 50)
    assert len(failed) == MORE
    assert all(
        {r.listener: r.status for r in e.runs}
        == {
            "analytics": RunStatus.SUCCEEDED,
            "crm": RunStatus.FAILED,
        }
        for e in failed
    )
    assert len(store.events.find(tenant, limit=MORE + 50)) == MORE


def test_every_pending_run_of_the_events_asked_for(store: SupabaseStore, sql: Sql, tenant: UUID) -> None:
    events = MAX_ROWS // 2 + 100
    (after,) = sql.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone() or (0,)
    sql.execute(
        "WITH e AS (INSERT INTO events (id, tenant_id, name, payload)"
        " SELECT gen_random_uuid(), %s, 'note.taken', '{}' FROM generate_series(1, %s) RETURNING id)"
        " INSERT INTO listener_runs (event_id, listener, tenant_id, status, attempts)"
        " SELECT e.id, l, %s, 'pending', 0 FROM e, unnest(ARRAY['crm', 'analytics']) l",
        (tenant, events, tenant),
    )
    pending = store.events.pending_runs(after_seq=int(str(after)), limit=events)
    assert len(pending) == 2 * events
    assert {e.tenant_id for e, _ in pending} == {tenant}
    assert len({e.id for e, _ in pending}) == events


def test_every_audit_entry_asked_for(store: SupabaseStore, sql: Sql, tenant: UUID) -> None:
    sql.execute(
        "INSERT INTO audit_log (id, tenant_id, actor, actor_kind, action, target)"
        " SELECT gen_random_uuid(), %s, 'ops' || i || '@example.com', 'user', 'prompt.saved', 'prompt'"
        " FROM generate_series(1, %s) i",
        (tenant, MORE),
    )
    entries = store.list_audit(AuditQuery(frozenset({tenant}), actions=("prompt.saved",), limit=MORE + 50))
    assert [e.actor for e in entries] == [f"ops{i}@example.com" for i in range(MORE, 0, -1)]


def test_every_user_with_their_tenants(store: SupabaseStore, sql: Sql, tenant: UUID) -> None:
    marker = uuid4().hex[:6]
    sql.execute(
        "WITH u AS (INSERT INTO app_users (id, email, email_key, role)"
        " SELECT gen_random_uuid(), %s || i || '@example.com', %s || i || '@example.com', 'operator'"
        " FROM generate_series(1, %s) i RETURNING id)"
        " INSERT INTO user_tenants (user_id, tenant_id) SELECT id, %s FROM u",
        (marker, marker, MORE, tenant),
    )
    users = [u for u in store.list_users() if u.email.startswith(marker)]
    assert len(users) == MORE
    assert all(u.tenants == frozenset({tenant}) for u in users)


def test_every_scenario_and_run_asked_for(store: SupabaseStore, sql: Sql, tenant: UUID) -> None:
    sql.execute(
        "INSERT INTO scenarios (id, tenant_id, name, spec, author)"
        " SELECT gen_random_uuid(), %s, 'scenario ' || lpad(i::text, 5, '0'), '{}', 'ops'"
        " FROM generate_series(1, %s) i",
        (tenant, MORE),
    )
    sql.execute(
        "INSERT INTO scenario_runs (id, tenant_id, target, model, passed, summary, report, started_by,"
        " created_at) SELECT gen_random_uuid(), %s, 'live', 'demo', true, 'run ' || i, '{}', 'ops',"
        " now() - i * interval '1 second' FROM generate_series(1, %s) i",
        (tenant, MORE),
    )
    scenarios = store.list_scenarios(tenant)
    assert [s.name for s in scenarios] == [f"scenario {i:05d}" for i in range(1, MORE + 1)]
    runs = store.list_scenario_runs(tenant, limit=MORE + 50)
    assert [r.summary for r in runs] == [f"run {i}" for i in range(1, MORE + 1)]


def test_every_prompt_version(store: SupabaseStore, sql: Sql, tenant: UUID) -> None:
    sql.execute(
        "INSERT INTO prompt_versions (tenant_id, version, prompt, author)"
        " SELECT %s, i, 'prompt ' || i, 'ops' FROM generate_series(2, %s) i",
        (tenant, MORE + 1),
    )
    versions = store.list_prompt_versions(tenant)
    assert [v.version for v in versions] == list(range(MORE + 1, 0, -1))


def test_every_expired_turn_is_closed_and_reported(
    store: SupabaseStore,
    sql: Sql,
    tenant: UUID,
) -> None:
    sql.execute(
        "WITH c AS (INSERT INTO conversations (id, tenant_id)"
        " SELECT gen_random_uuid(), %s FROM generate_series(1, %s) RETURNING id)"
        " INSERT INTO turns (id, tenant_id, conversation_id, status, user_message, lease_expires_at)"
        " SELECT gen_random_uuid(), %s, c.id, 'running', 'lost', %s FROM c",
        (tenant, MORE, tenant, utcnow() - timedelta(minutes=5)),
    )
    closed = store.fail_expired_turns("the process stopped", ["crm"])
    assert len({t.turn_id for t in closed}) >= MORE
    left = sql.execute(
        "SELECT count(*) FROM turns WHERE tenant_id = %s AND status = 'running'", (tenant,)
    ).fetchone()
    assert left == (0,)
