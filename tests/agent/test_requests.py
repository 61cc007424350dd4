"""A turn's request as the API documents it and as it is checked: the two agree on what a
blank message is, so a message the document allows is never refused as empty."""

from __future__ import annotations

import re

import pytest

from agent_core.agent.requests import TurnRequest, parse_turn_request
from agent_core.errors import InvalidInputError
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.submitted import BLANK


def test_the_blank_class_is_exactly_what_validation_strips() -> None:
    blank = re.compile(f"[{BLANK}]")
    # Every character validation strips is whitespace to Python too; ask it about each of those.
    for code in (c for c in range(0x110000) if chr(c).isspace() or blank.fullmatch(chr(c))):
        try:
            parse_turn_request({"tenantId": str(DEMO_TENANT_ID), "message": chr(code)}, 4000)
            stripped = False
        except InvalidInputError:
            stripped = True
        assert stripped == bool(blank.fullmatch(chr(code))), hex(code)


@pytest.mark.parametrize("message", ["\u0085", " \u2028\t", "\u3000"])
def test_a_message_of_whitespace_is_refused_and_the_document_says_so(message: str) -> None:
    pattern = TurnRequest.model_json_schema(by_alias=True)["properties"]["message"]["pattern"]
    assert re.search(pattern, message) is None
    with pytest.raises(InvalidInputError, match="message"):
        parse_turn_request({"tenantId": str(DEMO_TENANT_ID), "message": message}, 4000)


@pytest.mark.parametrize("message", ["hi", "\ufeff", "\x1c", " \u0085 ok "])
def test_a_message_with_words_matches_the_document_and_is_taken(message: str) -> None:
    pattern = TurnRequest.model_json_schema(by_alias=True)["properties"]["message"]["pattern"]
    assert re.search(pattern, message) is not None
    assert parse_turn_request({"tenantId": str(DEMO_TENANT_ID), "message": message}, 4000).message
