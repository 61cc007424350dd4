"""JSON shapes of the HTTP API. The same models serialise responses and describe them in
the OpenAPI document, so the document cannot drift from what is sent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from agent_core.domain import (
    ChatMessage,
    Contact,
    ConversationSummary,
    EventRecord,
    Note,
    Tenant,
    ToolCallRecord,
    Tour,
    TurnResult,
)


class Shape(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class ChatRequestBody(Shape):
    """Body of POST /api/chat (the seed's shape, plus an optional conversation id)."""

    tenant_id: UUID = Field(description="The tenant the caller speaks to")
    message: str = Field(
        min_length=1,
        max_length=4000,
        # Not blank, and no NUL characters (what the server checks; the length limit is
        # MAX_MESSAGE_CHARS, 4000 unless configured otherwise).
        json_schema_extra={"pattern": "^[^\\x00]*[^\\s\\x00][^\\x00]*$"},
        description="What the caller said",
    )
    conversation_id: UUID | None = Field(default=None, description="Continue this conversation")


class ToolCallOut(Shape):
    id: str
    name: str
    arguments: dict[str, Any] | str
    status: Literal["succeeded", "failed"]
    result: dict[str, Any] | None = None
    error: str | None = None
    duration_ms: float

    @classmethod
    def of(cls, record: ToolCallRecord) -> ToolCallOut:
        return cls(
            id=record.call_id,
            name=record.name,
            arguments=record.arguments,
            status=record.status.value,
            result=record.result,
            error=record.error,
            duration_ms=round(record.duration_ms, 3),
        )


class UsageOut(Shape):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatResponse(Shape):
    """One finished turn."""

    conversation_id: UUID
    turn_id: UUID
    reply: str
    tool_calls: list[ToolCallOut]
    model: str
    usage: UsageOut
    latency_ms: float

    @classmethod
    def of(cls, result: TurnResult) -> ChatResponse:
        return cls(
            conversation_id=result.conversation_id,
            turn_id=result.turn_id,
            reply=result.reply,
            tool_calls=[ToolCallOut.of(r) for r in result.tool_calls],
            model=result.model,
            usage=UsageOut(
                prompt_tokens=result.usage.prompt_tokens,
                completion_tokens=result.usage.completion_tokens,
                total_tokens=result.usage.total_tokens,
            ),
            latency_ms=round(result.latency_ms, 3),
        )


class ErrorDetail(Shape):
    field: str
    message: str


class ErrorInfo(Shape):
    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(Shape):
    """Every error, whatever the route: `{"error": {"code", "message", "details"}}`."""

    error: ErrorInfo


class ComponentOut(Shape):
    ok: bool
    backend: str
    detail: str


class HealthResponse(Shape):
    status: Literal["ok", "degraded", "down"]
    checks: dict[str, ComponentOut]


class TenantOut(Shape):
    id: UUID
    name: str
    created_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(id=tenant.id, name=tenant.name, created_at=tenant.created_at)


class TourOut(Shape):
    id: UUID
    customer_name: str
    tour_date: date
    location: str
    conversation_id: UUID | None
    created_at: datetime

    @classmethod
    def of(cls, tour: Tour) -> TourOut:
        return cls(
            id=tour.id,
            customer_name=tour.customer_name,
            tour_date=tour.tour_date,
            location=tour.location,
            conversation_id=tour.conversation_id,
            created_at=tour.created_at,
        )


class NoteOut(Shape):
    id: UUID
    content: str
    conversation_id: UUID | None
    created_at: datetime

    @classmethod
    def of(cls, note: Note) -> NoteOut:
        return cls(
            id=note.id, content=note.content, conversation_id=note.conversation_id, created_at=note.created_at
        )


class ContactOut(Shape):
    id: UUID
    name: str
    email: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(
            id=contact.id,
            name=contact.name,
            email=contact.email,
            phone=contact.phone,
            created_at=contact.created_at,
            updated_at=contact.updated_at,
        )


class ConversationOut(Shape):
    id: UUID
    created_at: datetime
    message_count: int
    last_message: str

    @classmethod
    def of(cls, summary: ConversationSummary) -> ConversationOut:
        return cls(
            id=summary.id,
            created_at=summary.created_at,
            message_count=summary.message_count,
            last_message=summary.last_message,
        )


class MessageOut(Shape):
    role: Literal["user", "assistant", "tool"]
    content: str
    tool_call_ids: list[str] = Field(default_factory=list)
    tool_call_id: str | None = None

    @classmethod
    def of(cls, message: ChatMessage) -> MessageOut:
        return cls(
            role=message.role,
            content=message.content,
            tool_call_ids=[c.id for c in message.tool_calls],
            tool_call_id=message.tool_call_id,
        )


class ConversationDetail(Shape):
    id: UUID
    messages: list[MessageOut]
    tool_calls: list[ToolCallOut]


class ListenerRunOut(Shape):
    listener: str
    status: Literal["pending", "running", "succeeded", "failed"]
    attempts: int
    last_error: str | None


class EventOut(Shape):
    id: UUID
    seq: int
    name: str
    payload: dict[str, Any]
    created_at: datetime
    runs: list[ListenerRunOut]

    @classmethod
    def of(cls, record: EventRecord) -> EventOut:
        event = record.event
        return cls(
            id=event.id,
            seq=event.seq,
            name=event.name,
            payload=event.payload,
            created_at=event.created_at,
            runs=[
                ListenerRunOut(
                    listener=r.listener,
                    status=r.status.value,
                    attempts=r.attempts,
                    last_error=r.last_error,
                )
                for r in record.runs
            ],
        )


class TenantList(Shape):
    data: list[TenantOut]


class TourPage(Shape):
    data: list[TourOut]
    total: int
    next_cursor: str | None


class NotePage(Shape):
    data: list[NoteOut]
    total: int
    next_cursor: str | None


class ContactPage(Shape):
    data: list[ContactOut]
    total: int
    next_cursor: str | None


class ConversationPage(Shape):
    data: list[ConversationOut]
    next_cursor: str | None


class EventPage(Shape):
    data: list[EventOut]
    next_cursor: str | None
