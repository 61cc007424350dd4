"""Every refusal in one table: the SQL functions raise exactly the table's words with its
codes, and each comes back to the caller as the table's error, on every backend."""

from __future__ import annotations

import re
from datetime import date
from uuid import uuid4

import psycopg
import pytest

from agent_core.access.models import AuditAction, AuditEntry, PrincipalKind
from agent_core.domain import ChangedBy, Tenant, TourChange
from agent_core.errors import ConflictError, ConversationBusyError, InvalidInputError, NotFoundError
from agent_core.store.base import Store
from agent_core.store.refusals import (
    BOOKING_CHANGED,
    CONVERSATION_BUSY,
    NOT_RETRYABLE,
    PROMPT_CHANGED,
    REFUSALS,
    UNKNOWN_CONVERSATION,
    StaleBooking,
    function_error,
)
from tests.conftest import in_a_tool_turn

_RAISE = re.compile(
    r"RAISE\s+EXCEPTION\s+'((?:[^']|'')*)'(?:\s*,[^;]*?)?\s+USING\s+ERRCODE\s*=\s*'(\w+)'", re.S
)


@pytest.mark.postgres
def test_every_refusal_a_sql_function_raises_is_in_the_table_word_for_word(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as connection:
        sources = [
            str(source)
            for (source,) in connection.execute(
                "SELECT prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
            ).fetchall()
        ]
    raised = [match for source in sources for match in _RAISE.findall(source)]
    assert len(raised) == sum(source.count("RAISE EXCEPTION") for source in sources)
    table = {(refusal.words, refusal.code) for refusal in REFUSALS}
    said = {(words.replace("''", "'").replace("%", "{}"), code) for words, code in raised}
    assert said == table


def test_what_a_function_raised_comes_back_as_the_tables_error() -> None:
    conversation = "0b7c4f0e-5b0e-4b4e-9d0e-6f1d3c1a2b3c"
    unknown = function_error("PT404", f"conversation {conversation} not found for this tenant")
    assert isinstance(unknown, NotFoundError)
    assert str(unknown) == str(UNKNOWN_CONVERSATION(conversation))
    retry = function_error("VA422", NOT_RETRYABLE.words)
    assert isinstance(retry, ConflictError)
    assert retry.code == "not_retryable"
    assert isinstance(function_error("VA422", BOOKING_CHANGED.words), InvalidInputError)
    assert isinstance(function_error("VA412", "the booking changed since the tool looked"), StaleBooking)
    assert str(function_error("PT409", str(PROMPT_CHANGED(4, 3)))) == str(PROMPT_CHANGED(4, 3))
    # Words of another release still get their code's error; other codes are not ours.
    assert isinstance(function_error("VA422", "some newer refusal"), InvalidInputError)
    assert isinstance(function_error("23505", "duplicate key value"), InvalidInputError)
    assert function_error("XX000", "internal error") is None


def test_every_backend_refuses_in_the_tables_words(store: Store, tenant: Tenant) -> None:
    booked, _ = in_a_tool_turn(
        store, tenant.id, "book_tour", lambda writer: writer.add_tour("Ana Silva", date(2027, 3, 15), "Porto")
    )
    operator = ChangedBy("operator", "ops@example.com")
    audit = AuditEntry("ops@example.com", PrincipalKind.USER, AuditAction.TOUR_CANCELLED, "tour", tenant.id)
    seen_booked = TourChange.cancel(booked, operator)
    store.change_tour(tenant.id, seen_booked, audit=audit, events=lambda _: ())
    with pytest.raises(InvalidInputError) as refused:
        store.change_tour(tenant.id, TourChange.cancel(booked, operator), audit=audit, events=lambda _: ())
    assert str(refused.value) == str(BOOKING_CHANGED())

    unknown = uuid4()
    with pytest.raises(NotFoundError) as missing:
        store.start_turn(tenant.id, unknown, "Hello")
    assert str(missing.value) == str(UNKNOWN_CONVERSATION(unknown))

    running = store.start_turn(tenant.id, None, "Hello")
    with pytest.raises(ConversationBusyError) as busy:
        store.start_turn(tenant.id, running.conversation_id, "Hello again")
    assert str(busy.value) == str(CONVERSATION_BUSY(running.conversation_id))
