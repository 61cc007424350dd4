"""A store that keeps nothing, to measure the agent loop by itself ("loop only" in the
benchmark tables): the same figure peers' loops are measured by, which persist nothing.

It answers only what a turn asks of a store (one demo tenant, a history of the message
being answered, a booking that is always new); nothing else of the `Store` protocol is there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import cast
from uuid import UUID

from agent_core.domain import (
    ChatMessage,
    Contact,
    JsonDict,
    Note,
    OutboxEvent,
    Tenant,
    ToolCallRecord,
    ToolCallRequest,
    Tour,
)
from agent_core.ids import new_id
from agent_core.store.base import Store, ToolEvents, ToolExecution, TurnOutcome, TurnStart
from agent_core.store.conversation_log import Outcome
from agent_core.store.demo_data import DEMO_TENANT_ID

PROMPT = "You are the booking assistant of Demo Tours. Be brief."


class _Writer:
    """Tools' writes that return what a store would and keep nothing."""

    def __init__(self, tenant_id: UUID, conversation_id: UUID) -> None:
        self._tenant_id, self._conversation_id = tenant_id, conversation_id

    def add_tour(self, customer_name: str, tour_date: date, location: str) -> tuple[Tour, bool]:
        tour = Tour(
            new_id(),
            self._tenant_id,
            customer_name,
            tour_date,
            location,
            self._conversation_id,
            datetime.now(UTC),
        )
        return tour, True

    def find_tours(self, customer_name: str, on: date | None, from_date: date) -> list[Tour]:
        return []

    def cancel_tour(self, tour: Tour) -> Tour:
        return tour

    def reschedule_tour(self, tour: Tour, new_date: date, new_location: str) -> Tour:
        return tour

    def add_note(self, content: str) -> Note:
        raise NotImplementedError("the loop-only benchmark books tours only")

    def upsert_contact(self, name: str, email: str | None, phone: str | None) -> tuple[Contact, bool]:
        raise NotImplementedError("the loop-only benchmark books tours only")


class _NoStore:
    def __init__(self) -> None:
        self._tenant = Tenant(DEMO_TENANT_ID, "Demo Tours", PROMPT, datetime.now(UTC))
        self._asked: dict[UUID, str] = {}

    def get_tenant(self, tenant_id: UUID) -> Tenant | None:
        return self._tenant if tenant_id == self._tenant.id else None

    def start_turn(
        self,
        tenant_id: UUID,
        conversation_id: UUID | None,
        user_message: str,
        *,
        events: Callable[[TurnStart], Sequence[OutboxEvent]] = lambda _: (),
        **_: object,
    ) -> TurnStart:
        start = TurnStart(conversation_id or new_id(), new_id())
        self._asked[start.conversation_id] = user_message
        events(start)
        return start

    def load_history(self, tenant_id: UUID, conversation_id: UUID, limit: int) -> list[ChatMessage]:
        return [ChatMessage("user", self._asked.pop(conversation_id))]

    def append_message(
        self, tenant_id: UUID, conversation_id: UUID, turn_id: UUID, message: ChatMessage
    ) -> None:
        return None

    def run_tool_call(
        self,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        call: ToolCallRequest,
        execute: ToolExecution,
        events: ToolEvents = lambda _: (),
        asked: ChatMessage | None = None,
        outcome: Outcome | None = None,
    ) -> tuple[ToolCallRecord, bool]:
        started = time.perf_counter()
        result: JsonDict = execute(_Writer(tenant_id, conversation_id))
        record = ToolCallRecord.finished(call, result, None, (time.perf_counter() - started) * 1000)
        events(record)
        return record, False

    def finish_turn(
        self,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        reply: ChatMessage | None,
        outcome: TurnOutcome,
        events: Sequence[OutboxEvent] = (),
    ) -> None:
        return None


def no_store() -> Store:
    """The store that keeps nothing, typed as the store the agent takes (it answers only a turn's calls)."""
    return cast(Store, _NoStore())
