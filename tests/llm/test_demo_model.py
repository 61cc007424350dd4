"""The offline demo model: understands paraphrases, asks instead of guessing, is honest."""

from __future__ import annotations

import json
from datetime import date

import pytest

from agent_core.clock import FixedClock
from agent_core.domain import ChatMessage, ToolCallRequest
from agent_core.llm.base import ModelDone, TextDelta
from agent_core.llm.demo_model import DemoModel
from agent_core.llm.demo_parsing import capitalized_run, find_date, find_email, find_phone
from agent_core.tools import default_registry

TODAY = date(2026, 11, 24)
SPECS = default_registry().specs


def answer(clock: FixedClock, *texts: str) -> tuple[str, list[ToolCallRequest]]:
    """The demo model's text and tool calls for a conversation of user/assistant turns."""
    messages = [ChatMessage("system", "You are Ava, the booking assistant of Demo Tours.")]
    for i, text in enumerate(texts):
        messages.append(ChatMessage("user" if i % 2 == 0 else "assistant", text))
    events = list(DemoModel(clock).stream(messages, SPECS))
    assert isinstance(events[-1], ModelDone)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    return text, [e for e in events if isinstance(e, ToolCallRequest)]


def only_call(calls: list[ToolCallRequest]) -> tuple[str, dict[str, object]]:
    (call,) = calls
    return call.name, json.loads(call.arguments)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "I want to book a tour for John Smith on 2025-03-15 in Paris.",
            ("John Smith", "2025-03-15", "Paris"),
        ),
        ("In Paris, on 2027-03-15, please book a tour for John Smith", ("John Smith", "2027-03-15", "Paris")),
        (
            "Could you reserve a tour in New York for Mary Ann Lee on December 3rd 2026?",
            ("Mary Ann Lee", "2026-12-03", "New York"),
        ),
        (
            "Book a walking tour on 3 December for Zoë Ångström-Lefèvre in São Paulo",
            ("Zoë Ångström-Lefèvre", "2026-12-03", "São Paulo"),
        ),
        (
            "Schedule a tour for Jean de la Fontaine tomorrow in Lyon",
            ("Jean de la Fontaine", "2026-11-25", "Lyon"),
        ),
        ("Book a tour for Ana Silva on March 15 in Lisbon", ("Ana Silva", "2027-03-15", "Lisbon")),
        ("Book a tour for Ana Silva next Friday in Lisbon", ("Ana Silva", "2026-11-27", "Lisbon")),
        ("book a tour for Ana Silva on 25/12/2027 in Lisbon", ("Ana Silva", "2027-12-25", "Lisbon")),
    ],
)
def test_booking_requests_in_many_phrasings(
    clock: FixedClock, message: str, expected: tuple[str, str, str]
) -> None:
    text, calls = answer(clock, message)
    if text.startswith("Just to confirm:"):
        # A date the caller did not spell out (tomorrow, next Friday) is confirmed first.
        assert expected[1] in {"2026-11-25", "2026-11-27"}
        text, calls = answer(clock, message, text, "yes")
    name, arguments = only_call(calls)
    assert name == "book_tour"
    assert (arguments["name"], arguments["date"], arguments["location"]) == expected
    assert text == ""


@pytest.mark.parametrize(
    ("message", "missing"),
    [
        ("I'd like to book a tour", "the customer's full name, the date and the location"),
        ("Book a tour in Rome", "the customer's full name and the date (so far: in Rome)"),
        ("Book a tour for John Smith in Rome", "the date (so far: John Smith, in Rome)"),
        (
            "Book a tour for John Smith tomorrow",
            "the location (so far: John Smith, Wednesday 25 November 2026)",
        ),
    ],
)
def test_missing_booking_details_are_asked_for_not_guessed(
    clock: FixedClock, message: str, missing: str
) -> None:
    text, calls = answer(clock, message)
    assert calls == []
    assert text == f"To book the tour I still need {missing}. Could you tell me?"


def test_an_ambiguous_date_is_asked_about(clock: FixedClock) -> None:
    text, calls = answer(clock, "Book a tour for John Smith on 03/04/2027 in Rome")
    assert calls == []
    assert "Does 03/04/2027 mean 3 April or 4 March?" in text


def test_an_answer_to_the_question_completes_the_booking(clock: FixedClock) -> None:
    question, _ = answer(clock, "Book a tour in Rome")
    _, calls = answer(clock, "Book a tour in Rome", question, "Zoë Martin, on 5 January 2027")
    assert only_call(calls) == ("book_tour", {"name": "Zoë Martin", "date": "2027-01-05", "location": "Rome"})


@pytest.mark.parametrize(
    ("message", "content"),
    [
        (
            "Please note that the client prefers morning tours and vegetarian meals.",
            "The client prefers morning tours and vegetarian meals.",
        ),
        ("Make a note: allergic to nuts", "Allergic to nuts"),
        ("Remember that she is travelling with a dog.", "She is travelling with a dog."),
    ],
)
def test_notes(clock: FixedClock, message: str, content: str) -> None:
    _, calls = answer(clock, message)
    assert only_call(calls) == ("take_note", {"content": content})


@pytest.mark.parametrize(
    ("message", "arguments"),
    [
        (
            "Update contact info for Sarah Jones: email is sarah@example.com, phone is +1-555-0123.",
            {"name": "Sarah Jones", "email": "sarah@example.com", "phone": "+1-555-0123"},
        ),
        (
            "Sarah Jones's email is sarah.j@example.org",
            {"name": "Sarah Jones", "email": "sarah.j@example.org"},
        ),
        (
            "Change the phone number for Renée Dupont to +33 6 12 34 56 78",
            {"name": "Renée Dupont", "phone": "+33 6 12 34 56 78"},
        ),
    ],
)
def test_contact_updates(clock: FixedClock, message: str, arguments: dict[str, str]) -> None:
    _, calls = answer(clock, message)
    assert only_call(calls) == ("update_contact_info", arguments)


def test_a_contact_without_name_or_details_is_asked_about(clock: FixedClock) -> None:
    text, calls = answer(clock, "The email is someone@example.com")
    assert calls == []
    assert "Whose contact details are these?" in text
    text, calls = answer(clock, "Update contact info for Sarah Jones")
    assert calls == []
    assert "What should I update for Sarah Jones" in text


def test_several_requests_in_one_message_become_parallel_calls(clock: FixedClock) -> None:
    _, calls = answer(
        clock, "Book a tour for Ana Silva on 2027-01-10 in Porto and note that she is vegetarian."
    )
    assert [c.name for c in calls] == ["book_tour", "take_note"]
    assert len({c.id for c in calls}) == 2


@pytest.mark.parametrize("question", ["Who are you?", "Are you a bot?", "Which model is this?"])
def test_it_says_what_it_is(clock: FixedClock, question: str) -> None:
    text, calls = answer(clock, question)
    assert calls == []
    assert "offline demo model" in text
    assert "rule-based" in text


def test_the_greeting_uses_the_tenant_persona(clock: FixedClock) -> None:
    text, _ = answer(clock, "Hello, what can you help me with?")
    assert text.startswith("Hello! I'm Ava, the booking assistant of Demo Tours.")


def test_tool_results_are_reported_as_they_are() -> None:
    clock = FixedClock.__new__(FixedClock)
    call = ToolCallRequest("c1", "book_tour", "{}")
    messages = [
        ChatMessage("user", "book"),
        ChatMessage("assistant", "", (call,)),
        ChatMessage(
            "tool", json.dumps({"ok": False, "error": "date: 2025-03-15 is in the past"}), tool_call_id="c1"
        ),
    ]
    text = "".join(e.text for e in DemoModel(clock).stream(messages, SPECS) if isinstance(e, TextDelta))
    assert (
        text
        == "I couldn't book the tour: Saturday 15 March 2025 has already passed — which date would you like?"
    )


@pytest.mark.parametrize(
    ("error", "plain"),
    [
        (
            "invalid arguments: email: value is not a valid email address",
            "that email address doesn't look right",
        ),
        ("invalid arguments: phone: not a phone number", "that phone number doesn't look right"),
        ("book_tour is not enabled for this business", "a member of staff will help you"),
        ("the store is busy (SQLITE_BUSY)", "nothing was saved. Could you give me the details again?"),
    ],
)
def test_a_refusal_reaches_the_caller_in_plain_words(error: str, plain: str) -> None:
    call = ToolCallRequest("c1", "update_contact_info", "{}")
    messages = [
        ChatMessage("user", "update"),
        ChatMessage("assistant", "", (call,)),
        ChatMessage("tool", json.dumps({"ok": False, "error": error}), tool_call_id="c1"),
    ]
    text = "".join(
        e.text
        for e in DemoModel(FixedClock.__new__(FixedClock)).stream(messages, SPECS)
        if isinstance(e, TextDelta)
    )
    assert plain in text
    assert error not in text


def test_date_parsing_rules() -> None:
    assert find_date("on 2027-02-30", TODAY) is not None
    assert find_date("on 2027-02-30", TODAY).iso == "2027-02-30"  # type: ignore[union-attr]
    assert find_date("the day after tomorrow", TODAY).iso == "2026-11-26"  # type: ignore[union-attr]
    assert find_date("on the 1st of March", TODAY).iso == "2027-03-01"  # type: ignore[union-attr]
    assert find_date("on November 24", TODAY).iso == "2026-11-24"  # type: ignore[union-attr]
    assert find_date("no date here", TODAY) is None


def test_name_email_and_phone_rules() -> None:
    assert capitalized_run("John Smith on Monday") == "John Smith"
    assert capitalized_run("Maria van der Berg, please") == "Maria van der Berg"
    assert capitalized_run("tomorrow") is None
    assert capitalized_run("March 3") is None
    assert find_email("write to a.b+c@mail.example.co.uk.") == "a.b+c@mail.example.co.uk"
    assert find_phone("on 2027-03-15 call +44 20 7946 0958") == "+44 20 7946 0958"
    assert find_phone("booked for 2027-03-15") is None
