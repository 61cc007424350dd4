"""The Supabase store's own behaviour: selected by two variables, clear errors for the
usual mistakes, atomic RPC writes. (The shared store contract runs in test_store_contract.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest

from agent_core.domain import JsonDict, ToolCallRequest
from agent_core.errors import ConfigError, StoreUnavailableError
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.store.base import TenantWriter
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.supabase_store import SupabaseStore
from agent_core.testing.net import free_port
from agent_core.testing.postgrest_double import PostgrestDouble
from tests.conftest import SUPABASE_TEST_KEY, add_tenant, fresh_database, unscoped

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def clean_environment(unconfigured: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)


def test_the_two_variables_select_the_supabase_store_and_a_turn_works(postgrest: PostgrestDouble) -> None:
    first = len(postgrest.requests)
    runtime = build_runtime(
        load_settings(supabase_url=postgrest.url, supabase_service_role_key=SUPABASE_TEST_KEY)
    )
    try:
        assert runtime.store.backend == "supabase"
        result = runtime.agent.run_turn(DEMO_TENANT_ID, "Book a tour for Ana Silva on 2027-01-10 in Porto")
        assert result.tool_calls[0].status.value == "succeeded"
        assert any(t.customer_name == "Ana Silva" for t in runtime.store.list_tours(DEMO_TENANT_ID).rows)
        runtime.bus.close()
    finally:
        runtime.close()
    assert unscoped(postgrest.requests[first:]) == []


def test_a_wrong_key_names_the_variable(postgrest: PostgrestDouble) -> None:
    with pytest.raises(ConfigError, match="SUPABASE_SERVICE_ROLE_KEY"):
        SupabaseStore(postgrest.url, "not-the-key").check_schema()


def test_an_unreachable_url_names_the_variable() -> None:
    with pytest.raises(StoreUnavailableError, match="cannot reach Supabase at SUPABASE_URL"):
        SupabaseStore(f"http://127.0.0.1:{free_port()}", SUPABASE_TEST_KEY, timeout=2).check_schema()


def test_a_network_drop_mid_run_is_store_unavailable(postgrest: PostgrestDouble) -> None:
    store = SupabaseStore(postgrest.url, SUPABASE_TEST_KEY, timeout=2)
    postgrest.available = False
    try:
        with pytest.raises(StoreUnavailableError, match="check the URL and the network"):
            store.get_tenant(DEMO_TENANT_ID)
    finally:
        postgrest.available = True


@pytest.fixture
def empty_project() -> Iterator[str]:
    """A database without schema.sql, behind its own PostgREST stand-in."""
    with fresh_database("vam_blank") as url, PostgrestDouble(url, SUPABASE_TEST_KEY) as double:
        yield double.url


def test_a_project_without_the_schema_says_to_paste_it(empty_project: str) -> None:
    with pytest.raises(ConfigError, match=r"paste schema\.sql into the SQL editor"):
        build_runtime(load_settings(supabase_url=empty_project, supabase_service_role_key=SUPABASE_TEST_KEY))


def test_a_tool_call_and_its_rows_commit_in_one_rpc(postgrest: PostgrestDouble) -> None:
    store = SupabaseStore(postgrest.url, SUPABASE_TEST_KEY)
    tenant = add_tenant(store, f"RPC {uuid4().hex[:6]}", "prompt")
    turn = store.start_turn(tenant.id, None, "book")
    call = ToolCallRequest(f"call_{uuid4().hex}", "book_tour", "{}")
    first = len(postgrest.requests)

    def book(writer: TenantWriter) -> JsonDict:
        tour, _ = writer.add_tour("Ana Silva", date(2027, 1, 10), "Porto")
        return {"booking_id": str(tour.id)}

    store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, call, book)
    writes = [r for r in postgrest.requests[first:] if r.method != "GET"]
    assert [r.target for r in writes] == ["rpc/app_run_tool_call"]
    assert store.list_tours(tenant.id).total == 1
