"""The life of a booking through the whole agent (offline model, real bus and listeners) on
every store: callers cancel and move tours in plain words, the customer is told each time,
and a repeated booking request makes one tour."""

from __future__ import annotations

from agent_core.clock import FixedClock
from agent_core.domain import Tenant, TourStatus
from agent_core.events.bus import EventBus
from agent_core.events.listeners import default_listeners
from agent_core.store.base import Store
from tests.conftest import make_agent, whole_turn


def told(store: Store, tenant: Tenant) -> list[tuple[str, str | None]]:
    """What the confirmation listener queued for the customer, oldest first."""
    messages = sorted(store.events.outbox(tenant.id), key=lambda m: m.created_at)
    return [
        (m.payload["template"], m.payload.get("date")) for m in messages if m.kind == "booking_confirmation"
    ]


def test_book_then_cancel_in_plain_words_and_the_customer_is_told(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    bus = EventBus(store, default_listeners(store))
    bus.start()
    agent = make_agent(store, clock, sink=bus)
    booked = whole_turn(agent, tenant.id, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    cancelled = whole_turn(
        agent, tenant.id, "Can you cancel the booking for John Smith?", booked.conversation_id
    )
    bus.close()
    assert [c.name for c in cancelled.tool_calls] == ["cancel_tour"]
    assert "I've cancelled John Smith's tour on Monday 15 March 2027 in Paris" in cancelled.reply
    (tour,) = store.list_tours(tenant.id).rows
    assert tour.status is TourStatus.CANCELLED
    assert told(store, tenant) == [
        ("booking_confirmation", "2027-03-15"),
        ("booking_cancelled", "2027-03-15"),
    ]


def test_book_then_move_and_the_customer_gets_the_new_date(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    bus = EventBus(store, default_listeners(store))
    bus.start()
    agent = make_agent(store, clock, sink=bus)
    whole_turn(agent, tenant.id, "Book a tour for Ana Silva on 2027-01-10 in Porto")
    moved = whole_turn(agent, tenant.id, "Please move Ana Silva's tour to 2027-01-17")
    bus.close()
    assert "moved from Sunday 10 January 2027 to Sunday 17 January 2027 in Porto" in moved.reply
    (tour,) = store.list_tours(tenant.id).rows
    assert (tour.tour_date.isoformat(), tour.status) == ("2027-01-17", TourStatus.BOOKED)
    assert told(store, tenant) == [
        ("booking_confirmation", "2027-01-10"),
        ("booking_rescheduled", "2027-01-17"),
    ]


def test_the_same_booking_asked_twice_is_one_tour_and_one_confirmation(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    bus = EventBus(store, default_listeners(store))
    bus.start()
    agent = make_agent(store, clock, sink=bus)
    whole_turn(agent, tenant.id, "Book a tour for Bob Lee on 2027-02-01 in Rome")
    again = whole_turn(agent, tenant.id, "Please book a tour for Bob LEE on 2027-02-01 in ROME")
    bus.close()
    assert "already booked" in again.reply
    assert store.list_tours(tenant.id).total == 1
    assert told(store, tenant) == [("booking_confirmation", "2027-02-01")]


def test_with_two_bookings_the_agent_asks_which_one_and_cancels_nothing(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    agent = make_agent(store, clock)
    whole_turn(agent, tenant.id, "Book a tour for Eve Adams on 2027-05-01 in Oslo")
    whole_turn(agent, tenant.id, "Book a tour for Eve Adams on 2027-05-08 in Oslo")
    asked = whole_turn(agent, tenant.id, "Cancel Eve Adams's tour")
    assert "several bookings" in asked.reply
    assert asked.reply.endswith("Which one do you mean?")
    assert {t.status for t in store.list_tours(tenant.id).rows} == {TourStatus.BOOKED}
    done = whole_turn(agent, tenant.id, "Cancel Eve Adams's tour on 2027-05-08", asked.conversation_id)
    assert "I've cancelled Eve Adams's tour on Saturday 8 May 2027" in done.reply
