"""The unbacked-claim check: a reply may state only what a tool of its turn completed."""

from __future__ import annotations

import pytest

from agent_core.domain import ToolCallRecord, ToolCallStatus
from agent_core.scenarios.claims import unbacked_claims


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
    assert unbacked_claims(reply, [call("book_tour")]) == []
    assert unbacked_claims(reply, []) != []
    assert unbacked_claims(reply, [call("book_tour", ToolCallStatus.FAILED)]) != []
    assert unbacked_claims(reply, [call("take_note")]) != []


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
    assert unbacked_claims(reply, [call(tool)]) == []
    assert unbacked_claims(reply, [call("find_tours")]) != []


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
    assert unbacked_claims(reply, []) == []


def test_each_claiming_sentence_is_reported() -> None:
    found = unbacked_claims("Booked you in! I've also noted your diet.", [call("take_note")])
    assert len(found) == 1
    assert "a booking" in found[0]
    assert "Booked you in!" in found[0]
