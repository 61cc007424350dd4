"""What a streaming turn yields, in order, so a UI or an SSE stream can show it live."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from agent_core.domain import JsonDict, ToolCallRecord, TurnResult


@dataclass(frozen=True, slots=True)
class TurnStarted:
    """The user message is stored; the model is about to be called."""

    tenant_id: UUID
    conversation_id: UUID
    turn_id: UUID
    model: str


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """A tool call is about to run."""

    call_id: str
    name: str
    arguments: JsonDict | str


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """A tool call ended (or was a replay of an earlier execution)."""

    record: ToolCallRecord
    replayed: bool


@dataclass(frozen=True, slots=True)
class ReplyDelta:
    """A piece of the reply text."""

    text: str


@dataclass(frozen=True, slots=True)
class TurnFinished:
    """The turn is persisted; here is all of it."""

    result: TurnResult


TurnStep = TurnStarted | ToolCallStarted | ToolCallFinished | ReplyDelta | TurnFinished


def collect(steps: Iterable[TurnStep]) -> TurnResult:
    """Run a turn's steps to the end and return its result (for callers that do not show
    the turn as it happens)."""
    for step in steps:
        if isinstance(step, TurnFinished):
            return step.result
    raise AssertionError("the turn ended without TurnFinished")  # pragma: no cover
