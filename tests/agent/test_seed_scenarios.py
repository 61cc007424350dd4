"""The seed service's curl examples, as user stories, through the whole agent on each store."""

from __future__ import annotations

import pytest

from agent_core.clock import FixedClock
from agent_core.domain import Tenant, ToolCallStatus
from agent_core.errors import InvalidInputError, NotFoundError
from agent_core.store.base import Store
from tests.conftest import RecordingSink, make_agent, whole_turn


def test_hello_explains_what_the_agent_can_do(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    result = whole_turn(make_agent(store, clock), tenant.id, "Hello, what can you help me with?")
    assert result.tool_calls == ()
    assert "I'm Kim, the assistant of Test Tours" in result.reply
    assert "book a tour" in result.reply
    assert result.model == "demo (offline, rule-based)"


def test_the_seed_booking_is_refused_because_its_date_has_passed(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    sink = RecordingSink()
    result = whole_turn(
        make_agent(store, clock, sink=sink),
        tenant.id,
        "I want to book a tour for John Smith on 2025-03-15 in Paris.",
    )
    (call,) = result.tool_calls
    assert call.name == "book_tour"
    assert call.arguments == {"name": "John Smith", "date": "2025-03-15", "location": "Paris"}
    assert call.status is ToolCallStatus.FAILED
    assert "Saturday 15 March 2025 has already passed" in result.reply
    assert "booked" not in result.reply.replace("couldn't book", "")
    assert store.list_tours(tenant.id).total == 0
    assert "tool.failed" in sink.names
    assert "tour.booked" not in sink.names


def test_booking_a_future_date_books_it(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    sink = RecordingSink()
    result = whole_turn(
        make_agent(store, clock, sink=sink),
        tenant.id,
        "I want to book a tour for John Smith on 2027-03-15 in Paris.",
    )
    (call,) = result.tool_calls
    assert call.status is ToolCallStatus.SUCCEEDED
    assert "I've booked a tour for John Smith on Monday 15 March 2027 in Paris" in result.reply
    (tour,) = store.list_tours(tenant.id).rows
    assert (tour.customer_name, tour.tour_date.isoformat(), tour.location) == (
        "John Smith",
        "2027-03-15",
        "Paris",
    )
    assert tour.conversation_id == result.conversation_id
    assert sink.names == ["chat.message.received", "tool.called", "tour.booked", "chat.reply.sent"]


def test_take_note(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    result = whole_turn(
        make_agent(store, clock),
        tenant.id,
        "Please note that the client prefers morning tours and vegetarian meals.",
    )
    (call,) = result.tool_calls
    assert call.name == "take_note"
    (note,) = store.list_notes(tenant.id).rows
    assert note.content == "The client prefers morning tours and vegetarian meals."
    assert "Noted" in result.reply


def test_update_contact_info(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    result = whole_turn(
        make_agent(store, clock),
        tenant.id,
        "Update contact info for Sarah Jones: email is sarah@example.com, phone is +1-555-0123.",
    )
    (call,) = result.tool_calls
    assert call.arguments == {"name": "Sarah Jones", "email": "sarah@example.com", "phone": "+1-555-0123"}
    (contact,) = store.list_contacts(tenant.id).rows
    assert (contact.name, contact.email, contact.phone) == ("Sarah Jones", "sarah@example.com", "+1-555-0123")
    assert "added the contact Sarah Jones" in result.reply


def test_the_seed_bad_input_is_rejected_before_anything_is_written(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    agent = make_agent(store, clock)
    with pytest.raises(InvalidInputError) as caught:
        whole_turn(agent, "not-a-uuid", "")
    fields = {d["field"] for d in caught.value.details}
    assert fields == {"tenant_id", "message"}
    assert store.list_conversations(tenant.id) == []


@pytest.mark.parametrize("message", ["", "   \n ", "x" * 4001, "nul\x00byte"])
def test_empty_oversized_or_binary_messages_are_rejected(
    store: Store, tenant: Tenant, clock: FixedClock, message: str
) -> None:
    with pytest.raises(InvalidInputError, match="message"):
        whole_turn(make_agent(store, clock), tenant.id, message)
    assert store.list_conversations(tenant.id) == []


def test_an_unknown_tenant_is_not_found_and_nothing_is_written(store: Store, clock: FixedClock) -> None:
    from uuid import uuid4

    unknown = uuid4()
    with pytest.raises(NotFoundError, match="unknown tenant"):
        whole_turn(make_agent(store, clock), unknown, "Hello")
    assert store.list_conversations(unknown) == []
