"""Tool-call arguments as the store and the caller read them back."""

from __future__ import annotations

import pytest

from agent_core.domain import decode_arguments


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "Zoë Ødegård", "date": "2027-03-15"}',
        '{"name": "Zo\\u00eb \\ud83d\\ude00"}',  # escapes of a letter and of a whole emoji pair
    ],
)
def test_arguments_that_are_a_json_object_are_read_as_one(text: str) -> None:
    assert isinstance(decode_arguments(text), dict)


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "Ana \\ud800 Silva"}',  # the escape of a lone surrogate
        '{"name": "Ana \ud800 Silva"}',  # a lone surrogate itself, as a decoder may pass it on
        '["Ana Silva"]',  # JSON, but not an object
        '{"name": "Ana',  # cut off
    ],
)
def test_arguments_no_answer_could_carry_as_an_object_stay_the_text_they_came_as(text: str) -> None:
    assert decode_arguments(text) == text
