"""A failed turn retried: every backend answers the stored message again without a second
copy, only for the conversation's last turn, and lists turns with how each ended."""

from __future__ import annotations

from uuid import uuid4

import pytest

from agent_core.domain import ChatMessage, Tenant, Usage
from agent_core.errors import ConflictError
from agent_core.store.base import Store, TurnOutcome, TurnStart


def fail(store: Store, tenant: Tenant, turn: TurnStart) -> None:
    outcome = TurnOutcome("failed", None, "m", Usage(), 1, 5.0, "the model server did not answer")
    store.finish_turn(tenant.id, turn.conversation_id, turn.turn_id, None, outcome)


def succeed(store: Store, tenant: Tenant, turn: TurnStart, reply: str) -> None:
    outcome = TurnOutcome("succeeded", reply, "m", Usage(), 1, 5.0, None)
    store.finish_turn(tenant.id, turn.conversation_id, turn.turn_id, ChatMessage("assistant", reply), outcome)


def test_a_retry_answers_the_stored_message_once_more_without_a_second_copy(
    store: Store, tenant: Tenant
) -> None:
    first = store.start_turn(tenant.id, None, "Book John Smith in Paris")
    fail(store, tenant, first)
    retry = store.start_turn(
        tenant.id, first.conversation_id, "Book John Smith in Paris", retry_of=first.turn_id
    )
    succeed(store, tenant, retry, "Booked.")
    assert store.list_messages(tenant.id, first.conversation_id) == [
        ChatMessage("user", "Book John Smith in Paris"),
        ChatMessage("assistant", "Booked."),
    ]
    turns = store.list_turns(tenant.id, first.conversation_id)
    assert [(t.id, t.status, t.retry_of) for t in turns] == [
        (first.turn_id, "failed", None),
        (retry.turn_id, "succeeded", first.turn_id),
    ]
    assert turns[0].error == "the model server did not answer"


def test_only_the_last_turn_and_only_once_it_failed_may_be_retried(store: Store, tenant: Tenant) -> None:
    first = store.start_turn(tenant.id, None, "Hello")
    fail(store, tenant, first)
    second = store.start_turn(tenant.id, first.conversation_id, "Are you there?")
    succeed(store, tenant, second, "Yes.")
    for retry_of, message in ((first.turn_id, "Hello"), (second.turn_id, "Are you there?"), (uuid4(), "Hi")):
        with pytest.raises(ConflictError, match="only the last message"):
            store.start_turn(tenant.id, first.conversation_id, message, retry_of=retry_of)
    third = store.start_turn(tenant.id, first.conversation_id, "Still there?")
    fail(store, tenant, third)
    with pytest.raises(ConflictError, match="only the last message"):
        store.start_turn(tenant.id, first.conversation_id, "Something else", retry_of=third.turn_id)
    assert len(store.list_turns(tenant.id, first.conversation_id)) == 3
    assert len(store.list_messages(tenant.id, first.conversation_id)) == 4


def test_another_tenant_sees_no_turns_and_cannot_retry_them(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    first = store.start_turn(tenant.id, None, "Hello")
    fail(store, tenant, first)
    assert store.list_turns(other_tenant.id, first.conversation_id) == []
    with pytest.raises(Exception, match="not found"):
        store.start_turn(other_tenant.id, first.conversation_id, "Hello", retry_of=first.turn_id)
