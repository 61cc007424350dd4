"""Each tool validates its arguments like a careful human would, and writes only when valid."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from agent_core.domain import JsonDict, ToolCallRequest
from agent_core.store.base import ToolFailure
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from agent_core.tools import default_registry
from agent_core.tools.registry import SaidDay

TODAY = date(2026, 11, 24)


def run(tool: str, /, **arguments: Any) -> tuple[JsonDict | None, str | None, SqliteStore]:
    """Execute one tool call against a fresh store: (result, error, store)."""
    store = SqliteStore(":memory:")
    call = ToolCallRequest(f"call_{uuid4().hex}", tool, json.dumps(arguments))
    prepared = default_registry().prepare(call, TODAY)
    turn = store.start_turn(DEMO_TENANT_ID, None, "test")
    record, _ = store.run_tool_call(
        DEMO_TENANT_ID, turn.conversation_id, turn.turn_id, call, prepared.execute
    )
    return record.result, record.error, store


def test_book_tour_books_a_valid_request() -> None:
    result, error, store = run("book_tour", name="  John   Smith ", date="2027-03-15", location="Paris")
    assert error is None
    assert result is not None
    assert (result["name"], result["date"], result["location"]) == ("John Smith", "2027-03-15", "Paris")
    assert store.list_tours(DEMO_TENANT_ID).rows[0].tour_date == date(2027, 3, 15)


def test_book_tour_accepts_today() -> None:
    _, error, _ = run("book_tour", name="Ana", date="2026-11-24", location="Lisbon")
    assert error is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"name": "John Smith", "date": "2025-03-15", "location": "Paris"},
            "2025-03-15 is in the past (today is 2026-11-24)",
        ),
        ({"name": "John Smith", "date": "2026-11-23", "location": "Paris"}, "in the past"),
        (
            {"name": "John Smith", "date": "2027-02-30", "location": "Paris"},
            "date: Input should be a valid date",
        ),
        (
            {"name": "John Smith", "date": "15/03/2027", "location": "Paris"},
            "date: Input should be a valid date",
        ),
        (
            {"name": "John Smith", "date": 1804032000, "location": "Paris"},
            "date: Input should be a valid date",
        ),
        ({"name": "John Smith", "date": "2035-01-01", "location": "Paris"}, "more than three years ahead"),
        ({"name": "", "date": "2027-03-15", "location": "Paris"}, "name:"),
        ({"name": "R2D2 3000", "date": "2027-03-15", "location": "Paris"}, "must be a person's name"),
        ({"name": "x" * 101, "date": "2027-03-15", "location": "Paris"}, "at most 100 characters"),
        ({"name": "John Smith", "date": "2027-03-15", "location": "12345"}, "location: must contain letters"),
        ({"name": "John Smith", "date": "2027-03-15"}, "location: Field required"),
        (
            {"name": "John Smith", "date": "2027-03-15", "location": "Paris", "tenant_id": str(uuid4())},
            "tenant_id: Extra inputs are not permitted",
        ),
    ],
)
def test_book_tour_refuses_bad_arguments_and_writes_nothing(arguments: JsonDict, message: str) -> None:
    result, error, store = run("book_tour", **arguments)
    assert result is None
    assert error is not None
    assert message in error
    assert store.list_tours(DEMO_TENANT_ID).total == 0


def test_take_note_keeps_the_text() -> None:
    result, error, store = run("take_note", content="Prefers morning tours.\nVegetarian.")
    assert error is None
    assert result is not None
    assert store.list_notes(DEMO_TENANT_ID).rows[0].content == "Prefers morning tours. Vegetarian."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "content:"),
        ("   ", "content:"),
        ("!!!", "must contain letters"),
        ("a" * 2001, "at most 2000"),
        ("bell\x07", "control characters"),
    ],
)
def test_take_note_refuses_empty_or_oversized_notes(content: str, message: str) -> None:
    _, error, store = run("take_note", content=content)
    assert error is not None
    assert message in error
    assert store.list_notes(DEMO_TENANT_ID).total == 0


def test_update_contact_creates_a_contact_with_valid_details() -> None:
    result, error, _ = run(
        "update_contact_info", name="Sarah Jones", email="sarah@example.com", phone="+1-555-0123"
    )
    assert error is None
    assert result is not None
    assert (result["email"], result["phone"], result["created"]) == ("sarah@example.com", "+1-555-0123", True)


def test_update_contact_treats_blank_optional_fields_as_absent() -> None:
    result, error, _ = run("update_contact_info", name="Sarah Jones", email="", phone=" ")
    assert error is None
    assert result is not None
    assert (result["email"], result["phone"]) == (None, None)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "Sarah Jones", "email": "sarah@example"}, "email: value is not a valid email address"),
        ({"name": "Sarah Jones", "email": "not an email"}, "email: value is not a valid email address"),
        ({"name": "Sarah Jones", "phone": "12"}, "phone: must be a phone number of 7 to 15 digits"),
        ({"name": "Sarah Jones", "phone": "call me maybe"}, "phone: must be a phone number"),
        ({"name": "Sarah Jones", "phone": "+1 555 0123 4567 8901"}, "phone: must be a phone number"),
        ({"email": "sarah@example.com"}, "name: Field required"),
    ],
)
def test_update_contact_refuses_implausible_details(arguments: JsonDict, message: str) -> None:
    _, error, store = run("update_contact_info", **arguments)
    assert error is not None
    assert message in error
    assert store.list_contacts(DEMO_TENANT_ID).total == 0


def test_unknown_tools_and_malformed_json_are_refused() -> None:
    registry = default_registry()
    unknown = registry.prepare(ToolCallRequest("c1", "delete_everything", "{}"), TODAY)
    with pytest.raises(ToolFailure, match="unknown tool 'delete_everything'; available: book_tour"):
        unknown.execute(None)  # type: ignore[arg-type]
    broken = registry.prepare(ToolCallRequest("c2", "take_note", '{"content": "unterminated'), TODAY)
    assert broken.arguments == '{"content": "unterminated'
    with pytest.raises(ToolFailure, match="invalid arguments: arguments: Invalid JSON"):
        broken.execute(None)  # type: ignore[arg-type]


def test_tool_schemas_come_from_the_argument_models() -> None:
    specs = {spec.name: spec for spec in default_registry().specs}
    assert set(specs) == {
        "book_tour",
        "find_tours",
        "cancel_tour",
        "reschedule_tour",
        "take_note",
        "update_contact_info",
    }
    book = specs["book_tour"].parameters
    assert book["required"] == ["name", "date", "location"]
    assert book["properties"]["date"]["format"] == "date"
    assert book["additionalProperties"] is False
    assert "title" not in json.dumps(book)
    assert specs["update_contact_info"].parameters["required"] == ["name"]


def test_a_tool_the_business_did_not_enable_is_refused_even_if_a_model_calls_it() -> None:
    call = ToolCallRequest("c1", "cancel_tour", '{"name": "Eve Adams"}')
    prepared = default_registry().prepare(call, TODAY, allowed=lambda name: name != "cancel_tour")
    with pytest.raises(ToolFailure, match="cancel_tour is not enabled for this business"):
        prepared.execute(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("book_tour", {"name": "Carlos Ruiz", "date": "2026-12-08", "location": "Madrid"}),
        ("reschedule_tour", {"name": "Carlos Ruiz", "new_date": "2026-12-08"}),
    ],
)
def test_a_day_written_that_is_not_the_day_the_caller_named_is_refused(
    tool: str, arguments: JsonDict
) -> None:
    said = SaidDay("next Friday", date(2026, 11, 27))
    call = ToolCallRequest("c1", tool, json.dumps(arguments))
    prepared = default_registry().prepare(call, TODAY, said_day=lambda: said)
    with pytest.raises(ToolFailure, match="the caller said 'next Friday', which is Friday 2026-11-27"):
        prepared.execute(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("said", [SaidDay("next Friday", date(2026, 11, 27)), None])
def test_the_day_the_caller_named_or_a_day_when_none_was_named_is_written(said: SaidDay | None) -> None:
    arguments = {"name": "Carlos Ruiz", "date": "2026-11-27", "location": "Madrid"}
    call = ToolCallRequest("c1", "book_tour", json.dumps(arguments))
    store = SqliteStore(":memory:")
    prepared = default_registry().prepare(call, TODAY, said_day=lambda: said)
    turn = store.start_turn(DEMO_TENANT_ID, None, "test")
    record, _ = store.run_tool_call(
        DEMO_TENANT_ID, turn.conversation_id, turn.turn_id, call, prepared.execute
    )
    assert record.error is None
    assert store.list_tours(DEMO_TENANT_ID).total == 1
