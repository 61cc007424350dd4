"""The Supabase store's own behaviour on a real PostgREST, in projects of both grant modes:
selected by two variables, clear errors for the usual mistakes, atomic RPC writes, refusals
that are 4xx, and reads that never stop at the server's max rows. (The shared store contract
runs in test_store_contract.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest

from agent_core.domain import JsonDict, ToolCallRequest
from agent_core.errors import ConfigError, NotFoundError, StoreUnavailableError
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.store.base import TenantWriter
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.supabase_store import SupabaseStore
from agent_core.testing.net import free_port
from tests.conftest import add_tenant, audit_entry, new_supabase_project, unscoped, whole_turn
from tests.supabase.project import GrantMode, SupabaseProject, api_key

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def clean_environment(unconfigured: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def store(supabase: SupabaseProject) -> Iterator[SupabaseStore]:
    store = SupabaseStore(supabase.url, supabase.service_role_key)
    yield store
    store.close()


def test_the_two_variables_select_the_supabase_store_and_a_turn_works(supabase: SupabaseProject) -> None:
    first = len(supabase.requests)
    runtime = build_runtime(
        load_settings(supabase_url=supabase.url, supabase_service_role_key=supabase.service_role_key)
    )
    try:
        assert runtime.store.backend == "supabase"
        result = whole_turn(runtime.agent, DEMO_TENANT_ID, "Book a tour for Ana Silva on 2027-01-10 in Porto")
        assert result.tool_calls[0].status.value == "succeeded"
        assert any(t.customer_name == "Ana Silva" for t in runtime.store.list_tours(DEMO_TENANT_ID).rows)
        runtime.bus.close()
    finally:
        runtime.close()
    assert unscoped(supabase.requests[first:]) == []


def test_a_wrong_key_names_the_variable(supabase: SupabaseProject) -> None:
    with (
        closing(SupabaseStore(supabase.url, "not-the-key")) as store,
        pytest.raises(ConfigError, match="SUPABASE_SERVICE_ROLE_KEY"),
    ):
        store.check_schema()


def test_the_anon_key_in_place_of_the_service_role_key_is_refused_at_start(supabase: SupabaseProject) -> None:
    with pytest.raises(ConfigError, match="SUPABASE_SERVICE_ROLE_KEY is the project's anon key"):
        SupabaseStore(supabase.url, supabase.anon_key)


def test_a_key_signed_by_another_project_names_the_variable(supabase: SupabaseProject) -> None:
    # The gateway knows this project's keys only; a key of another project is refused there.
    foreign = api_key("service_role", ref="another-project")
    with (
        closing(SupabaseStore(supabase.url, foreign)) as store,
        pytest.raises(ConfigError, match="SUPABASE_SERVICE_ROLE_KEY"),
    ):
        store.check_schema()


def test_an_unreachable_url_names_the_variable() -> None:
    with (
        closing(
            SupabaseStore(f"http://127.0.0.1:{free_port()}", api_key("service_role"), timeout=2)
        ) as store,
        pytest.raises(StoreUnavailableError, match="cannot reach Supabase at SUPABASE_URL"),
    ):
        store.check_schema()


def test_a_network_drop_mid_run_is_store_unavailable(supabase: SupabaseProject) -> None:
    store = SupabaseStore(supabase.url, supabase.service_role_key, timeout=2)
    supabase.available = False
    try:
        with pytest.raises(StoreUnavailableError, match="check the URL and the network"):
            store.get_tenant(DEMO_TENANT_ID)
    finally:
        supabase.available = True
        store.close()


@pytest.fixture
def empty_project() -> Iterator[SupabaseProject]:
    """A new project nobody has pasted schema.sql into."""
    with new_supabase_project(GrantMode.TODAY, with_schema=False) as project:
        yield project


def test_a_project_without_the_schema_says_to_paste_it(empty_project: SupabaseProject) -> None:
    with pytest.raises(ConfigError, match=r"paste schema\.sql into the SQL editor"):
        build_runtime(
            load_settings(
                supabase_url=empty_project.url, supabase_service_role_key=empty_project.service_role_key
            )
        )


def test_a_tool_call_and_its_rows_commit_in_one_rpc(supabase: SupabaseProject, store: SupabaseStore) -> None:
    tenant = add_tenant(store, f"RPC {uuid4().hex[:6]}", "prompt")
    turn = store.start_turn(tenant.id, None, "book")
    call = ToolCallRequest(f"call_{uuid4().hex}", "book_tour", "{}")
    first = len(supabase.requests)

    def book(writer: TenantWriter) -> JsonDict:
        tour, _ = writer.add_tour("Ana Silva", date(2027, 1, 10), "Porto")
        return {"booking_id": str(tour.id)}

    store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, call, book)
    writes = [r for r in supabase.requests[first:] if r.method != "GET"]
    assert [r.target for r in writes] == ["rpc/app_run_tool_call"]
    assert store.list_tours(tenant.id).total == 1


def test_not_found_is_a_404_not_a_server_error(supabase: SupabaseProject, store: SupabaseStore) -> None:
    tenant = add_tenant(store, f"Missing {uuid4().hex[:6]}", "prompt")
    first = len(supabase.requests)
    with pytest.raises(NotFoundError, match="unknown note"):
        store.delete_note(tenant.id, uuid4(), audit=audit_entry())
    assert [r.status for r in supabase.requests[first:]] == [404]


def test_a_function_that_returns_nothing_answers_204_and_the_store_takes_it(
    supabase: SupabaseProject, store: SupabaseStore
) -> None:
    tenant = add_tenant(store, f"Void {uuid4().hex[:6]}", "prompt")
    note = save_note(store, tenant.id, "Prefers mornings")
    first = len(supabase.requests)
    store.delete_note(tenant.id, note, audit=audit_entry())
    assert [r.status for r in supabase.requests[first:] if r.target == "rpc/app_delete_note"] == [204]
    assert store.get_note(tenant.id, note) is None


def save_note(store: SupabaseStore, tenant_id: UUID, content: str) -> UUID:
    """A note written by a turn's take_note; its id."""
    turn = store.start_turn(tenant_id, None, "note")
    ids: list[UUID] = []

    def note(writer: TenantWriter) -> JsonDict:
        ids.append(writer.add_note(content).id)
        return {}

    call = ToolCallRequest(f"call_{uuid4().hex}", "take_note", "{}")
    store.run_tool_call(tenant_id, turn.conversation_id, turn.turn_id, call, note)
    return ids[0]


def test_a_missing_grant_says_which_object_and_how_to_fix_it(
    supabase: SupabaseProject, store: SupabaseStore
) -> None:
    with psycopg.connect(supabase.database_url, autocommit=True) as db:
        db.execute("REVOKE ALL ON public.prompt_versions FROM service_role")
        try:
            with pytest.raises(
                StoreUnavailableError,
                match=r"permission denied for table prompt_versions.*vam migrate.*granted to service_role again",
            ):
                store.list_prompt_versions(DEMO_TENANT_ID)
        finally:
            db.execute("GRANT ALL ON public.prompt_versions TO service_role")
