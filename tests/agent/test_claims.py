"""The unbacked-claim check: a reply may state only what a tool of its turn completed, and a
sentence that states more never reaches the caller."""

from __future__ import annotations

import pytest

from agent_core.agent.claims import MAX_LISTED, ClaimFilter, unbacked_claims
from agent_core.clock import FixedClock, utcnow
from agent_core.domain import Claim, Tenant, ToolCallRecord, ToolCallStatus
from agent_core.llm.scripted import ScriptedModel, ScriptedReply
from agent_core.store.analytics import AnalyticsQuery
from agent_core.store.base import Store
from agent_core.tools import default_registry
from dashboard.views import claims_held_back
from tests.conftest import RecordingSink, make_agent, whole_turn

BACKING = default_registry().backing
"""What each of our tools' success backs, as the tools declare it."""


def unbacked(reply: str, calls: list[ToolCallRecord]) -> list[str]:
    return unbacked_claims(reply, calls, BACKING)


def call(name: str, status: ToolCallStatus = ToolCallStatus.SUCCEEDED) -> ToolCallRecord:
    error = None if status is ToolCallStatus.SUCCEEDED else "date is in the past"
    return ToolCallRecord(f"call_{name}", name, {}, status, {} if error is None else None, error, 1.0, "{}")


@pytest.mark.parametrize(
    "reply",
    [
        "Done: I've booked a tour for John Smith on Friday in Paris.",
        "Your tour is reserved. See you then!",
        "Great news - the booking is confirmed.",
    ],
)
def test_a_booking_claim_needs_a_booking_that_succeeded(reply: str) -> None:
    assert unbacked(reply, [call("book_tour")]) == []
    assert unbacked(reply, []) != []
    assert unbacked(reply, [call("book_tour", ToolCallStatus.FAILED)]) != []
    assert unbacked(reply, [call("take_note")]) != []


@pytest.mark.parametrize(
    ("reply", "tool"),
    [
        ("Noted: prefers mornings.", "take_note"),
        ("I've made a note of that.", "take_note"),
        ("I've updated Sarah's email.", "update_contact_info"),
        ("Your tour has been cancelled.", "cancel_tour"),
        ("Your tour is moved to Friday.", "reschedule_tour"),
    ],
)
def test_each_kind_of_change_needs_its_own_tool(reply: str, tool: str) -> None:
    assert unbacked(reply, [call(tool)]) == []
    assert unbacked(reply, [call("find_tours")]) != []


@pytest.mark.parametrize(
    "reply",
    [
        "I couldn't book that: the date is in the past. Nothing was saved.",
        "It was not booked.",
        "Just to confirm: book a tour for Maria on Friday? Please say yes or no.",
        "Shall I have it booked for Friday?",
        "I can book tours, take notes and update contact details.",
    ],
)
def test_refusals_questions_and_offers_claim_nothing(reply: str) -> None:
    assert unbacked(reply, []) == []


def test_each_claiming_sentence_is_reported() -> None:
    found = unbacked("Booked you in! I've also noted your diet.", [call("take_note")])
    assert len(found) == 1
    assert "a booking" in found[0]
    assert "Booked you in!" in found[0]


def test_a_streamed_reply_is_passed_on_a_sentence_at_a_time_without_its_unbacked_claim() -> None:
    claims = ClaimFilter([], BACKING)
    pieces = ["Hello John", ". I've booked", " your tour for Friday. ", "Anything", " else?"]
    assert [claims.feed(piece) for piece in pieces] == ["", "Hello John. ", "", "", ""]
    assert claims.end() == "Anything else?"
    assert claims.withheld == ['claims a booking no tool completed: "I\'ve booked your tour for Friday."']
    assert claims.honest_sentence() == "Nothing has been booked yet — shall I try that again?"


def test_a_claim_the_turns_tools_back_is_passed_on() -> None:
    done = [call("take_note")]
    claims = ClaimFilter(done, BACKING)
    assert claims.feed("Noted: prefers mornings. ") == "Noted: prefers mornings. "
    assert (claims.withheld, claims.honest_sentence()) == ([], "")


def test_the_caller_never_hears_a_claim_no_tool_completed_and_the_turn_says_so(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    sink = RecordingSink()
    model = ScriptedModel(lambda messages, tools: ScriptedReply("Great! I've booked John Smith for Paris."))
    result = whole_turn(make_agent(store, clock, model, sink=sink), tenant.id, "Book John Smith in Paris")
    assert result.reply == "Great! Nothing has been booked yet — shall I try that again?"
    assert result.withheld_claims == (
        'claims a booking no tool completed: "I\'ve booked John Smith for Paris."',
    )
    [sent] = [payload for name, _, payload in sink.events if name == "chat.reply.sent"]
    assert sent["withheld_claims"] == list(result.withheld_claims)
    assert store.list_tours(tenant.id).total == 0
    # The transcript keeps what was held back, and Analytics counts it.
    [recorded] = store.list_turns(tenant.id, result.conversation_id)
    assert recorded.withheld_claims == result.withheld_claims
    assert claims_held_back([recorded]) == {0: result.withheld_claims}
    today = utcnow().date()  # the store stamps turns with the real time
    assert store.analytics(AnalyticsQuery(tenant.id, today, today)).withheld_claims == 1


def test_a_turn_whose_claims_its_tools_back_keeps_nothing_held_back(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    result = whole_turn(make_agent(store, clock), tenant.id, "Book John Smith in Paris on 2027-03-15")
    assert result.withheld_claims == ()
    [recorded] = store.list_turns(tenant.id, result.conversation_id)
    assert recorded.withheld_claims == ()
    today = utcnow().date()  # the store stamps turns with the real time
    assert store.analytics(AnalyticsQuery(tenant.id, today, today)).withheld_claims == 0


def test_a_sentence_ends_when_the_blank_after_its_full_stop_arrives_in_the_next_piece() -> None:
    claims = ClaimFilter([], BACKING)
    assert [claims.feed(piece) for piece in ["Hi John.", " I've noted", " it."]] == ["", "Hi John. ", ""]
    assert claims.end() == ""
    assert claims.honest_sentence() == "Nothing has been noted yet — shall I try that again?"


def test_a_model_repeating_a_claim_endlessly_is_read_once_and_listed_a_bounded_number_of_times() -> None:
    claims = ClaimFilter([], BACKING)
    for _ in range(3000):
        assert claims.feed("Booked it. ") == ""
    assert len(claims.withheld) == MAX_LISTED
    assert claims.honest_sentence() == "Nothing has been booked yet — shall I try that again?"


def test_what_backs_a_claim_is_what_the_tool_declares_not_its_name() -> None:
    said = "You're booked for yoga on Friday."
    assert unbacked_claims(said, [call("book_class")], {"book_class": frozenset({Claim.BOOKING})}) == []
    assert unbacked_claims(said, [call("book_class")], {"book_class": frozenset({Claim.NOTE})}) != []
    assert unbacked_claims(said, [call("book_class")], {}) != [], "a tool nobody declared backs nothing"
