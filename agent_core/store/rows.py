"""Rows as the stores receive them (dicts from SQLite, PostgreSQL or PostgREST JSON) to
domain records. Drivers differ in what they decode (UUIDs, dates, JSON), so every value is
normalised here."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from agent_core.domain import (
    ChangedBy,
    ChatMessage,
    Contact,
    ConversationSummary,
    Event,
    EventRecord,
    ListenerRun,
    Note,
    OutboxMessage,
    PromptDraft,
    PromptVersion,
    RunStatus,
    ScenarioRunRecord,
    StoredScenario,
    Tenant,
    ToolCallRecord,
    ToolCallRequest,
    ToolCallStatus,
    Tour,
    TourChange,
    TourChangeKind,
    TourStatus,
    TurnRecord,
    decode_arguments,
)

Row = dict[str, Any]


def as_uuid(value: Any) -> UUID:
    """UUID from a driver value (UUID in Postgres, text in SQLite)."""
    return value if isinstance(value, UUID) else UUID(str(value))


def as_datetime(value: Any) -> datetime:
    """Aware datetime from a driver value."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def as_date(value: Any) -> date:
    """Date from a driver value."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def as_json(value: Any) -> Any:
    """Decoded JSON from a driver value (decoded jsonb in Postgres, text in SQLite)."""
    return json.loads(value) if isinstance(value, str) else value


def tenant_from_row(row: Row) -> Tenant:
    return Tenant(
        as_uuid(row["id"]),
        row["name"],
        row["system_prompt"],
        as_datetime(row["created_at"]),
        as_json(row.get("settings")) or {},
    )


def tour_from_row(row: Row) -> Tour:
    return Tour(
        id=as_uuid(row["id"]),
        tenant_id=as_uuid(row["tenant_id"]),
        customer_name=row["customer_name"],
        tour_date=as_date(row["tour_date"]),
        location=row["location"],
        conversation_id=as_uuid(row["conversation_id"]) if row["conversation_id"] else None,
        created_at=as_datetime(row["created_at"]),
        status=TourStatus(row["status"]),
    )


def note_from_row(row: Row) -> Note:
    return Note(
        id=as_uuid(row["id"]),
        tenant_id=as_uuid(row["tenant_id"]),
        content=row["content"],
        conversation_id=as_uuid(row["conversation_id"]) if row["conversation_id"] else None,
        created_at=as_datetime(row["created_at"]),
        customer_name=row.get("customer_name"),
    )


def contact_from_row(row: Row) -> Contact:
    return Contact(
        id=as_uuid(row["id"]),
        tenant_id=as_uuid(row["tenant_id"]),
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
    )


def message_from_row(row: Row) -> ChatMessage:
    calls = as_json(row["tool_calls"]) or []
    return ChatMessage(
        role=row["role"],
        content=row["content"],
        tool_calls=tuple(ToolCallRequest(c["id"], c["name"], c["arguments"]) for c in calls),
        tool_call_id=row["tool_call_id"],
    )


def tool_call_from_row(row: Row) -> ToolCallRecord:
    return ToolCallRecord(
        call_id=row["call_id"],
        name=row["name"],
        arguments=decode_arguments(row["arguments"]),
        status=ToolCallStatus(row["status"]),
        result=as_json(row["result"]),
        error=row["error"],
        duration_ms=float(row["duration_ms"] or 0.0),
        model_content=row["model_content"],
    )


def prompt_version_from_row(row: Row) -> PromptVersion:
    return PromptVersion(
        as_uuid(row["tenant_id"]),
        int(row["version"]),
        row["prompt"],
        row["author"],
        as_datetime(row["created_at"]),
    )


def event_from_row(row: Row) -> Event:
    return Event(
        id=as_uuid(row["id"]),
        tenant_id=as_uuid(row["tenant_id"]),
        name=row["name"],
        payload=as_json(row["payload"]),
        created_at=as_datetime(row["created_at"]),
        seq=int(row["seq"]),
    )


def listener_run_from_row(row: Row, event_id: UUID) -> ListenerRun:
    return ListenerRun(
        event_id=event_id,
        listener=row["listener"],
        status=RunStatus(row["status"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        duration_ms=None if row["duration_ms"] is None else float(row["duration_ms"]),
        updated_at=as_datetime(row["updated_at"]),
    )


def records_from_joined_rows(rows: list[Row]) -> list[EventRecord]:
    """Group rows of `events LEFT JOIN listener_runs` into records, keeping event order."""
    grouped: dict[int, tuple[Event, list[ListenerRun]]] = {}
    for row in rows:
        seq = int(row["seq"])
        if seq not in grouped:
            grouped[seq] = (event_from_row(row), [])
        if row["listener"] is not None:
            grouped[seq][1].append(listener_run_from_row(row, as_uuid(row["id"])))
    return [EventRecord(event, tuple(runs)) for event, runs in grouped.values()]


def conversation_from_row(row: Row) -> ConversationSummary:
    return ConversationSummary(
        as_uuid(row["id"]),
        as_uuid(row["tenant_id"]),
        as_datetime(row["created_at"]),
        int(row["message_count"]),
        row["last_message"],
    )


def outbox_from_row(row: Row) -> OutboxMessage:
    return OutboxMessage(
        as_uuid(row["id"]),
        as_uuid(row["tenant_id"]),
        row["kind"],
        as_uuid(row["event_id"]),
        as_json(row["payload"]),
        as_datetime(row["created_at"]),
    )


def tour_change_from_row(row: Row) -> TourChange:
    return TourChange(
        tour_id=as_uuid(row["tour_id"]),
        kind=TourChangeKind(row["kind"]),
        from_date=as_date(row["from_date"]),
        from_location=row["from_location"],
        to_date=as_date(row["to_date"]) if row["to_date"] else None,
        to_location=row["to_location"],
        by=ChangedBy(
            row["by_kind"],
            row["by_label"],
            as_uuid(row["conversation_id"]) if row["conversation_id"] else None,
        ),
        id=as_uuid(row["id"]),
        created_at=as_datetime(row["created_at"]),
    )


def draft_from_row(row: Row) -> PromptDraft:
    return PromptDraft(
        as_uuid(row["tenant_id"]),
        row["prompt"],
        int(row["base_version"]),
        row["author"],
        as_datetime(row["updated_at"]),
    )


def scenario_from_row(row: Row) -> StoredScenario:
    return StoredScenario(
        as_uuid(row["id"]),
        as_uuid(row["tenant_id"]),
        row["name"],
        as_json(row["spec"]),
        row["author"],
        as_datetime(row["updated_at"]),
    )


def scenario_run_from_row(row: Row) -> ScenarioRunRecord:
    return ScenarioRunRecord(
        as_uuid(row["id"]),
        as_uuid(row["tenant_id"]),
        row["target"],
        row["model"],
        bool(row["passed"]),
        row["summary"],
        as_json(row["report"]),
        row["started_by"],
        as_datetime(row["created_at"]),
    )


def scenario_run_values(run: ScenarioRunRecord) -> Row:
    """A run as the row every backend writes."""
    return {
        "id": run.id,
        "tenant_id": run.tenant_id,
        "target": run.target,
        "model": run.model,
        "passed": run.passed,
        "summary": run.summary,
        "report": run.report,
        "started_by": run.started_by,
        "created_at": run.created_at,
    }


def turn_from_row(row: Row) -> TurnRecord:
    return TurnRecord(
        as_uuid(row["id"]),
        row["status"],
        row["user_message"],
        row["error"],
        as_uuid(row["retry_of"]) if row.get("retry_of") else None,
        as_datetime(row["started_at"]),
        tuple(as_json(row.get("withheld_claims")) or ()),
        bool(row.get("spoken")),
    )
