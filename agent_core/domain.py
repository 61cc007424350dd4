"""Records the agent reads and writes. Plain frozen dataclasses: cheap on the hot path."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

JsonDict = dict[str, Any]
Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class Tenant:
    """A business using the agent, with its own system prompt and data."""

    id: UUID
    name: str
    system_prompt: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Tour:
    """A booked tour."""

    id: UUID
    tenant_id: UUID
    customer_name: str
    tour_date: date
    location: str
    conversation_id: UUID | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Note:
    """A free-text note about a caller."""

    id: UUID
    tenant_id: UUID
    content: str
    conversation_id: UUID | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    """A person the business keeps details for; unique per tenant by case-folded name."""

    id: UUID
    tenant_id: UUID
    name: str
    email: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """A tool call as the model asked for it: arguments are the model's raw JSON text."""

    id: str
    name: str
    arguments: str

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the argument text: with the call id and conversation, what makes a call
        the same call (a server reusing ids per response cannot replay another's result)."""
        return fingerprint(self.arguments)


def fingerprint(text: str) -> str:
    """Hex SHA-256 of a text's UTF-8 bytes (the stores' SQL computes the same)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation in the chat-completions shape."""

    role: Role
    content: str
    tool_calls: tuple[ToolCallRequest, ...] = ()
    tool_call_id: str | None = None


class ToolCallStatus(StrEnum):
    """How a tool call ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """A tool call after it ran (or was refused), as persisted and shown to users.

    `model_content` is the exact text the model read as the call's result; it is stored with
    the call and replayed byte for byte, so every backend shows the model the same text.
    """

    call_id: str
    name: str
    arguments: JsonDict | str
    status: ToolCallStatus
    result: JsonDict | None
    error: str | None
    duration_ms: float
    model_content: str

    @classmethod
    def finished(
        cls, call: ToolCallRequest, result: JsonDict | None, error: str | None, duration_ms: float
    ) -> ToolCallRecord:
        """The record of a call that just ran: succeeded with `result`, or failed with `error`."""
        if error is None:
            status = ToolCallStatus.SUCCEEDED
            content = json.dumps({"ok": True, "result": result}, default=str, ensure_ascii=False)
        else:
            status = ToolCallStatus.FAILED
            content = json.dumps({"ok": False, "error": error}, ensure_ascii=False)
        return cls(
            call.id, call.name, decode_arguments(call.arguments), status, result, error, duration_ms, content
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts reported by the model (zero for the demo model)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class TurnResult:
    """Everything one turn produced."""

    tenant_id: UUID
    conversation_id: UUID
    turn_id: UUID
    reply: str
    tool_calls: tuple[ToolCallRecord, ...]
    usage: Usage
    model: str
    latency_ms: float
    model_calls: int
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """A conversation as listed for a tenant."""

    id: UUID
    tenant_id: UUID
    created_at: datetime
    message_count: int
    last_message: str


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What the model is told about a tool: name, purpose and JSON schema of its arguments."""

    name: str
    description: str
    parameters: JsonDict


def decode_arguments(text: str) -> JsonDict | str:
    """Tool-call arguments as an object when the model sent a JSON object, else the raw text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text


@dataclass(frozen=True, slots=True)
class PromptVersion:
    """One saved version of a tenant's system prompt."""

    tenant_id: UUID
    version: int
    prompt: str
    author: str
    created_at: datetime


class EventName(StrEnum):
    """Every event the agent emits: what listeners subscribe to and the event log filters by."""

    MESSAGE_RECEIVED = "chat.message.received"
    TOOL_CALLED = "tool.called"
    TOOL_FAILED = "tool.failed"
    TOUR_BOOKED = "tour.booked"
    NOTE_TAKEN = "note.taken"
    CONTACT_UPDATED = "contact.updated"
    REPLY_SENT = "chat.reply.sent"
    TURN_FAILED = "chat.turn.failed"


class RunStatus(StrEnum):
    """Where a listener's handling of one event stands."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened for a tenant; `seq` orders events and serves as a cursor."""

    id: UUID
    tenant_id: UUID
    name: str
    payload: JsonDict
    created_at: datetime
    seq: int = 0


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An event stored in the transaction of the change it describes, with a pending run for
    each listener named; the in-process bus only delivers it after the commit."""

    event: Event
    listeners: tuple[str, ...]


class KeyState(StrEnum):
    """Where a request sent with an idempotency key stands."""

    CLAIMED = "claimed"  # this request runs it
    RUNNING = "running"  # an earlier request with the key is running it: wait
    DONE = "done"  # answered before: send that answer again
    MISMATCH = "mismatch"  # the key was used for a different request


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """The outcome of presenting an idempotency key; `response` is set when DONE."""

    state: KeyState
    status: int | None = None
    response: JsonDict | None = None


@dataclass(frozen=True, slots=True)
class ListenerRun:
    """One listener's handling of one event."""

    event_id: UUID
    listener: str
    status: RunStatus
    attempts: int
    last_error: str | None
    duration_ms: float | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event with the runs of the listeners it was handed to."""

    event: Event
    runs: tuple[ListenerRun, ...]


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message queued for an integration to send (confirmation email, CRM sync, ...)."""

    id: UUID
    tenant_id: UUID
    kind: str
    event_id: UUID
    payload: JsonDict
    created_at: datetime
