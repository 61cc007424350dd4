"""Looking up, cancelling and moving bookings, on every store backend: the one booking meant
is changed and its history kept; several matches change nothing and are listed; a booking
that is gone or changed meanwhile is refused; a replayed call changes nothing twice."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from agent_core.domain import JsonDict, Tenant, ToolCallRecord, ToolCallRequest, TourStatus
from agent_core.store.base import Store
from agent_core.tools import default_registry

TODAY = date(2026, 11, 24)


class Conversation:
    """Tool calls made one after another in one conversation of a tenant."""

    def __init__(self, store: Store, tenant: Tenant) -> None:
        self.store, self.tenant = store, tenant
        turn = store.start_turn(tenant.id, None, "test")
        self.conversation_id, self.turn_id = turn.conversation_id, turn.turn_id

    def call(self, tool: str, /, call_id: str | None = None, **arguments: Any) -> ToolCallRecord:
        call = ToolCallRequest(call_id or f"call_{uuid4().hex}", tool, json.dumps(arguments))
        prepared = default_registry().prepare(call, TODAY)
        record, _ = self.store.run_tool_call(
            self.tenant.id, self.conversation_id, self.turn_id, call, prepared.execute
        )
        return record

    def ok(self, tool: str, /, **arguments: Any) -> JsonDict:
        record = self.call(tool, **arguments)
        assert record.error is None, record.error
        assert record.result is not None
        return record.result


def book(chat: Conversation, name: str, day: str, place: str) -> UUID:
    return UUID(chat.ok("book_tour", name=name, date=day, location=place)["booking_id"])


def statuses(store: Store, tenant: Tenant) -> list[tuple[str, str, str, str]]:
    rows = store.list_tours(tenant.id).rows
    return [(t.customer_name, t.tour_date.isoformat(), t.location, t.status.value) for t in rows]


def test_a_booking_is_found_and_cancelled_and_stays_in_the_records(store: Store, tenant: Tenant) -> None:
    chat = Conversation(store, tenant)
    booking = book(chat, "John Smith", "2027-03-15", "Paris")
    found = chat.ok("find_tours", name="john  SMITH")
    assert found["count"] == 1
    assert found["bookings"][0]["booking_id"] == str(booking)
    cancelled = chat.ok("cancel_tour", name="John Smith")
    assert cancelled == {
        "booking_id": str(booking),
        "name": "John Smith",
        "date": "2027-03-15",
        "location": "Paris",
        "status": "cancelled",
    }
    assert statuses(store, tenant) == [("John Smith", "2027-03-15", "Paris", "cancelled")]
    assert chat.ok("find_tours", name="John Smith")["count"] == 0
    again = chat.call("cancel_tour", name="John Smith")
    assert again.error == "John Smith has no upcoming booking"
    # Booking the same again is a new booking: the cancelled one does not hold the place.
    assert book(chat, "John Smith", "2027-03-15", "Paris") != booking


def test_a_move_changes_the_date_and_place_and_says_where_it_was(store: Store, tenant: Tenant) -> None:
    chat = Conversation(store, tenant)
    book(chat, "Ana Silva", "2027-01-10", "Porto")
    moved = chat.ok("reschedule_tour", name="Ana Silva", new_date="2027-01-12", new_location="Lisbon")
    assert (moved["date"], moved["location"], moved["previous_date"], moved["previous_location"]) == (
        "2027-01-12",
        "Lisbon",
        "2027-01-10",
        "Porto",
    )
    assert statuses(store, tenant) == [("Ana Silva", "2027-01-12", "Lisbon", "booked")]
    kept = chat.ok("reschedule_tour", name="Ana Silva", new_date="2027-01-14")
    assert kept["location"] == "Lisbon"  # no new place given: the place stays


def test_several_matches_change_nothing_and_are_listed_until_the_caller_says_which(
    store: Store, tenant: Tenant
) -> None:
    chat = Conversation(store, tenant)
    book(chat, "Bob Lee", "2027-02-01", "Rome")
    second = book(chat, "Bob Lee", "2027-02-08", "Rome")
    listed = chat.ok("cancel_tour", name="Bob Lee")
    assert listed["ambiguous"] is True
    assert [m["date"] for m in listed["matches"]] == ["2027-02-01", "2027-02-08"]
    assert [s[3] for s in statuses(store, tenant)] == ["booked", "booked"]
    chosen = chat.ok("cancel_tour", name="Bob Lee", date="2027-02-08")
    assert chosen["booking_id"] == str(second)
    assert [s[3] for s in statuses(store, tenant)] == ["booked", "cancelled"]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("cancel_tour", {"name": "Nobody Here"}, "Nobody Here has no upcoming booking"),
        ("cancel_tour", {"name": "John Smith", "date": "2027-03-16"}, "no upcoming booking on 2027-03-16"),
        ("reschedule_tour", {"name": "John Smith", "new_date": "2025-01-01"}, "in the past"),
        ("reschedule_tour", {"name": "John Smith"}, "new_date: Field required"),
        (
            "reschedule_tour",
            {"name": "John Smith", "new_date": "2027-03-15"},
            "already on that day at that place",
        ),
        ("cancel_tour", {"name": "John Smith", "tenant_id": str(uuid4())}, "Extra inputs are not permitted"),
    ],
)
def test_bad_or_unmatched_requests_are_refused_and_change_nothing(
    store: Store, tenant: Tenant, tool: str, arguments: dict[str, Any], message: str
) -> None:
    chat = Conversation(store, tenant)
    book(chat, "John Smith", "2027-03-15", "Paris")
    record = chat.call(tool, **arguments)
    assert record.error is not None
    assert message in record.error
    assert statuses(store, tenant) == [("John Smith", "2027-03-15", "Paris", "booked")]


def test_a_move_onto_a_booking_the_customer_already_has_is_refused(store: Store, tenant: Tenant) -> None:
    chat = Conversation(store, tenant)
    book(chat, "Eve Adams", "2027-05-01", "Oslo")
    book(chat, "Eve Adams", "2027-05-02", "Oslo")
    record = chat.call("reschedule_tour", name="Eve Adams", date="2027-05-01", new_date="2027-05-02")
    assert record.error == "Eve Adams already has a booking on 2027-05-02 in Oslo"


def test_a_replayed_cancellation_changes_nothing_twice(store: Store, tenant: Tenant) -> None:
    chat = Conversation(store, tenant)
    book(chat, "Kai Berg", "2027-06-01", "Bergen")
    first = chat.call("cancel_tour", call_id="call_same", name="Kai Berg")
    replay = chat.call("cancel_tour", call_id="call_same", name="Kai Berg")
    assert replay.result == first.result
    assert replay.error is None
    assert [s[3] for s in statuses(store, tenant)] == ["cancelled"]


def test_other_tenants_bookings_are_never_found(store: Store, tenant: Tenant, other_tenant: Tenant) -> None:
    book(Conversation(store, other_tenant), "John Smith", "2027-03-15", "Paris")
    record = Conversation(store, tenant).call("cancel_tour", name="John Smith")
    assert record.error == "John Smith has no upcoming booking"
    assert [t.status for t in store.list_tours(other_tenant.id).rows] == [TourStatus.BOOKED]
