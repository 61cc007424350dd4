"""How callers really talk — speech-to-text output, introductions, lists, follow-ups — through
the whole agent with the demo model, on each store: what is written is what they said, and
anything the rules only inferred is confirmed before it is written."""

from __future__ import annotations

from agent_core.agent.loop import Agent
from agent_core.clock import FixedClock
from agent_core.domain import Tenant, TurnResult
from agent_core.store.base import Store
from tests.conftest import make_agent, whole_turn


def talk(agent: Agent, tenant: Tenant, *messages: str) -> list[TurnResult]:
    """The messages as one conversation; each turn's result."""
    results: list[TurnResult] = []
    for message in messages:
        conversation = results[-1].conversation_id if results else None
        results.append(whole_turn(agent, tenant.id, message, conversation))
    return results


def test_a_spoken_date_is_confirmed_then_booked(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    asked, booked = talk(
        make_agent(store, clock),
        tenant,
        "um hi i want to book a tour for james wilson on the third of march twenty twenty seven in boston",
        "yes",
    )
    assert asked.tool_calls == ()
    assert "Just to confirm: book a tour for James Wilson on Wednesday 3 March 2027 in Boston?" in asked.reply
    (call,) = booked.tool_calls
    assert call.arguments == {"name": "James Wilson", "date": "2027-03-03", "location": "Boston"}
    (tour,) = store.list_tours(tenant.id).rows
    assert (tour.customer_name, tour.tour_date.isoformat(), tour.location) == (
        "James Wilson",
        "2027-03-03",
        "Boston",
    )


def test_a_spelled_out_email_and_an_introduction_update_the_contact(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    (result,) = talk(
        make_agent(store, clock), tenant, "hi it's priya shah my email is priya dot shah at outlook dot com"
    )
    (call,) = result.tool_calls
    assert call.arguments == {"name": "Priya Shah", "email": "priya.shah@outlook.com"}
    (contact,) = store.list_contacts(tenant.id).rows
    assert (contact.name, contact.email) == ("Priya Shah", "priya.shah@outlook.com")


def test_a_phone_number_read_digit_by_digit_is_saved_as_digits(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    (result,) = talk(
        make_agent(store, clock),
        tenant,
        "this is emma lund calling my number is oh seven seven oh oh nine double oh one two three",
    )
    (call,) = result.tool_calls
    assert call.arguments == {"name": "Emma Lund", "phone": "07700900123"}


def test_two_bookings_in_one_message_are_both_made(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    (result,) = talk(
        make_agent(store, clock),
        tenant,
        "Book Ella Stone in Sydney on 2027-01-15 and another tour for Jack Stone in Melbourne on 2027-01-20",
    )
    assert [c.arguments for c in result.tool_calls] == [
        {"name": "Ella Stone", "date": "2027-01-15", "location": "Sydney"},
        {"name": "Jack Stone", "date": "2027-01-20", "location": "Melbourne"},
    ]
    assert sorted(t.customer_name for t in store.list_tours(tenant.id).rows) == ["Ella Stone", "Jack Stone"]
    assert "Ella Stone" in result.reply
    assert "Jack Stone" in result.reply


def test_cancel_that_one_after_a_look_up_cancels_the_booking_looked_up(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    agent = make_agent(store, clock)
    whole_turn(agent, tenant.id, "Book Nina Simone in Paris on 2027-02-02")
    whole_turn(agent, tenant.id, "Book Sam Wood in Rome on 2027-02-03")
    looked_up, cancelled = talk(agent, tenant, "What is booked for Nina Simone?", "cancel that one")
    assert [c.name for c in looked_up.tool_calls] == ["find_tours"]
    (call,) = cancelled.tool_calls
    assert (call.name, call.arguments) == ("cancel_tour", {"name": "Nina Simone"})
    live = {t.customer_name: t.status.value for t in store.list_tours(tenant.id).rows}
    assert live == {"Nina Simone": "cancelled", "Sam Wood": "booked"}


def test_a_bare_list_is_confirmed_before_anything_is_booked(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    asked, booked = talk(
        make_agent(store, clock), tenant, "We need a booking: Daniel Okafor, Nairobi, 2027-06-18.", "yes"
    )
    assert asked.tool_calls == ()
    assert "Daniel Okafor" in asked.reply
    assert "Nairobi" in asked.reply
    (call,) = booked.tool_calls
    assert call.arguments == {"name": "Daniel Okafor", "date": "2027-06-18", "location": "Nairobi"}


def test_an_answer_to_a_date_question_is_never_taken_for_a_place(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    asked, booked = talk(
        make_agent(store, clock), tenant, "Book a tour for Max Kahn in Vienna", "2027-02-02 then"
    )
    assert "I still need the date" in asked.reply
    (call,) = booked.tool_calls
    assert call.arguments == {"name": "Max Kahn", "date": "2027-02-02", "location": "Vienna"}


def test_a_date_not_on_the_calendar_is_asked_about_and_nothing_is_written(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    (result,) = talk(make_agent(store, clock), tenant, "Book a tour for John Smith on 2027-13-45 in Paris")
    assert result.tool_calls == ()
    assert "2027-13-45 is not one. Which date do you mean?" in result.reply
    assert store.list_tours(tenant.id).total == 0


def test_a_refused_date_reaches_the_caller_in_plain_words(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    (result,) = talk(make_agent(store, clock), tenant, "Book a tour for John Smith on 2025-03-15 in Paris")
    assert result.reply == (
        "I couldn't book the tour: Saturday 15 March 2025 has already passed — which date would you like?"
    )
    assert "invalid arguments" not in result.reply


def test_a_yes_out_of_the_blue_and_a_policy_question_write_nothing(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    results = talk(
        make_agent(store, clock), tenant, "yes that's right", "Can I change the name on a booking?"
    )
    assert all(r.tool_calls == () for r in results)
    assert store.list_tours(tenant.id).total == 0
    assert store.list_contacts(tenant.id).total == 0


def test_a_phone_number_not_understood_is_asked_for_not_dropped_in_silence(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    (result,) = talk(
        make_agent(store, clock),
        tenant,
        "I'm Eve Moss, my email is eve.moss@example.com and my number is five five five",
    )
    (call,) = result.tool_calls
    assert call.arguments == {"name": "Eve Moss", "email": "eve.moss@example.com"}
    assert "I didn't catch the phone number — could you say it again?" in result.reply
    assert "eve.moss@example.com" in result.reply


def test_two_bookings_said_in_words_are_both_confirmed_then_both_booked(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    asked, booked = talk(
        make_agent(store, clock),
        tenant,
        "book ann lee in rome on the third of march and bob lee in rome on the fourth of march",
        "yes",
    )
    assert asked.tool_calls == ()
    assert "Ann Lee on Wednesday 3 March 2027" in asked.reply
    assert "Bob Lee on Thursday 4 March 2027" in asked.reply
    assert [c.arguments["name"] for c in booked.tool_calls if isinstance(c.arguments, dict)] == [
        "Ann Lee",
        "Bob Lee",
    ]
    assert sorted(t.customer_name for t in store.list_tours(tenant.id).rows) == ["Ann Lee", "Bob Lee"]
