"""What the API document says of submitted values and what validation does agree exactly:
a text the pattern allows is taken, one it refuses is refused, and JSON numbers are numbers."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from agent_core.errors import StorableText
from agent_core.submitted import WholeNumber, text_field, text_pattern

LIMITS = [(0, 5), (1, 1), (1, 6), (2, 6), (5, 9), (1, None)]
# Blanks of every kind, NUL, and plain letters: the characters the rule is about.
PIECES = st.text(st.sampled_from(list(" \t\n\x85\xa0\u2003\u3000\ufeff\x1c\x00ab")), max_size=14)


def model(min_chars: int, max_chars: int | None) -> type[BaseModel]:
    class Submitted(BaseModel):
        model_config = ConfigDict(str_strip_whitespace=True)

        text: StorableText = text_field(min_chars, max_chars)

    return Submitted


def accepted(form: type[BaseModel], text: str) -> bool:
    try:
        form.model_validate({"text": text})
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("min_chars", "max_chars"), LIMITS)
def test_the_documented_pattern_takes_exactly_what_validation_takes(
    min_chars: int, max_chars: int | None
) -> None:
    form = model(min_chars, max_chars)
    pattern = form.model_json_schema()["properties"]["text"]["pattern"]
    assert pattern == text_pattern(min_chars, max_chars)
    assert "maxLength" not in form.model_json_schema()["properties"]["text"]

    @settings(max_examples=300, deadline=None, database=None)
    @given(PIECES)
    def agree(text: str) -> None:
        assert bool(re.search(pattern, text)) == accepted(form, text), repr(text)

    agree()


class Count(BaseModel):
    count: WholeNumber


@pytest.mark.parametrize(("sent", "taken"), [(3, 3), (3.0, 3), (-2.0, -2)])
def test_a_whole_number_is_taken_as_json_writes_it(sent: object, taken: int) -> None:
    assert Count.model_validate({"count": sent}).count == taken


@pytest.mark.parametrize("sent", ["3", True, 3.5, None])
def test_what_json_does_not_call_a_whole_number_is_refused(sent: object) -> None:
    with pytest.raises(ValidationError):
        Count.model_validate({"count": sent})
