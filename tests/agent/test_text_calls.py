"""Tool calls a model writes as text are read back as calls, in every form models use, and
text that is not a call is left alone; while an answer streams, nothing that may be a call
reaches the caller."""

from __future__ import annotations

import json

import pytest

from agent_core.agent.text_calls import ReplyGate, TextCall, calls_in_text

BOOK = {"name": "John Smith", "date": "2027-03-15", "location": "Paris"}
BOOK_CALL = TextCall("book_tour", json.dumps(BOOK))


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"name": "book_tour", "arguments": BOOK}),
        f"```json\n{json.dumps({'name': 'book_tour', 'arguments': BOOK})}\n```",
        f"<tool_call>\n{json.dumps({'name': 'book_tour', 'arguments': BOOK})}\n</tool_call>",
        json.dumps({"name": "book_tour", "arguments": json.dumps(BOOK)}),
        json.dumps({"name": "book_tour", "parameters": BOOK}),
        json.dumps({"type": "function", "function": {"name": "book_tour", "arguments": BOOK}}),
        json.dumps([{"name": "book_tour", "arguments": BOOK}]),
    ],
)
def test_a_call_in_any_written_form_is_read_as_the_call(text: str) -> None:
    assert calls_in_text(text) == ([BOOK_CALL], "")


def test_words_around_a_written_call_stay_the_reply() -> None:
    text = f"Sure, one moment.\n```json\n{json.dumps({'name': 'book_tour', 'arguments': BOOK})}\n```"
    assert calls_in_text(text) == ([BOOK_CALL], "Sure, one moment.")


@pytest.mark.parametrize(
    "text",
    [
        "Your tour is on {date}: see you there!",
        '{"tour": "Paris", "date": "2027-03-15"}',
        "Use braces like {this} or [that].",
        '{"name": "book_tour", "arguments": "not json"}',
        "[" * 5000 + "]" * 5000,
    ],
)
def test_text_that_is_not_a_call_is_left_as_it_is(text: str) -> None:
    assert calls_in_text(text) == ([], text.strip())


def test_the_gate_holds_back_from_where_a_call_may_begin_even_across_pieces() -> None:
    gate = ReplyGate()
    pieces = ["Let me", " book that. `", "``json\n{", '"name": "book_tour"}\n```']
    assert [gate.feed(piece) for piece in pieces] == ["Let me", " book that. ", "", ""]
    assert gate.held() == '```json\n{"name": "book_tour"}\n```'


def test_the_gate_passes_plain_replies_on_at_once() -> None:
    gate = ReplyGate()
    assert [gate.feed(piece) for piece in ["Booked ", "for ", "Paris."]] == ["Booked ", "for ", "Paris."]
    assert gate.held() == ""
