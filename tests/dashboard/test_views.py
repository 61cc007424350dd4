"""Display helpers: literal text, tool calls where they happened, readable labels and diffs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

from agent_core.access.models import AuditAction, AuditEntry, PrincipalKind
from agent_core.domain import (
    Channel,
    ChatMessage,
    ToolCallRecord,
    ToolCallRequest,
    ToolCallStatus,
)
from agent_core.store.conversation_log import ConversationOverview
from dashboard.views import (
    audit_changes,
    audit_target,
    chat_items,
    conversation_label,
    escape_markdown,
    event_gist,
    prompt_diff,
    tool_call_label,
)


def test_markdown_special_characters_are_shown_literally() -> None:
    assert (
        escape_markdown("**bold** [x](http://e.st) $1 <b>")
        == "\\*\\*bold\\*\\* \\[x\\]\\(http://e\\.st\\) \\$1 \\<b\\>"
    )
    assert escape_markdown("line one\nline two") == "line one  \nline two"


def test_tool_call_labels_say_running_done_or_failed_with_duration() -> None:
    assert tool_call_label("book_tour", None) == "Running book_tour…"
    assert tool_call_label("book_tour", ToolCallStatus.SUCCEEDED, 1.234) == "book_tour succeeded · 1.2 ms"
    assert tool_call_label("take_note", ToolCallStatus.FAILED, 0.5) == "take_note failed · 0.5 ms"


def test_chat_items_place_each_tool_call_after_the_message_that_asked_for_it() -> None:
    done = ToolCallRecord.finished(
        ToolCallRequest("c1", "take_note", '{"content": "x"}'), {"note_id": "n"}, None, 0.2
    )
    messages = [
        ChatMessage("user", "note x"),
        ChatMessage(
            "assistant",
            "",
            (ToolCallRequest("c1", "take_note", '{"content": "x"}'), ToolCallRequest("c2", "book_tour", "{")),
        ),
        ChatMessage("tool", json.dumps({"ok": True}), tool_call_id="c1"),
        ChatMessage("assistant", "Noted."),
    ]
    items = chat_items(messages, [done])
    assert [(i.role, i.text) for i in items] == [
        ("user", "note x"),
        ("tool", ""),
        ("tool", ""),
        ("assistant", "Noted."),
    ]
    assert items[1].tool == done
    interrupted = items[2].tool
    assert interrupted is not None
    assert (interrupted.status, interrupted.error, interrupted.arguments) == (
        ToolCallStatus.FAILED,
        "interrupted before it ran",
        "{",
    )


def overview(turns: int, first_message: str, started: datetime) -> ConversationOverview:
    return ConversationOverview(
        uuid4(), started, started, first_message, turns, 0, 0, 0.0, (), Channel.DASHBOARD, "ana@example.com"
    )


def test_conversation_labels_count_the_callers_messages_in_the_business_time() -> None:
    started = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)
    label = conversation_label(overview(4, "x" * 80, started), ZoneInfo("Europe/Paris"))
    assert label.startswith("24 Nov 10:05 · 4 messages · ")
    assert label.endswith("…")
    assert len(label) < 80
    assert conversation_label(overview(1, "Hi", started)) == "24 Nov 09:05 · 1 message · Hi"


def test_tool_call_labels_show_the_arguments_without_opening_them() -> None:
    label = tool_call_label(
        "book_tour",
        ToolCallStatus.SUCCEEDED,
        0.42,
        {"name": "John Smith", "date": "2027-03-15", "location": "Paris"},
    )
    assert label == "book_tour succeeded · John Smith, 2027-03-15, Paris · 0.4 ms"
    assert tool_call_label("take_note", None, arguments='{"content": "unfinished') == (
        'Running take_note… · {"content": "unfinished'
    )


def test_events_say_what_they_are_about() -> None:
    assert event_gist("tool.called", {"tool": "book_tour", "arguments": {}}) == "book_tour"
    assert event_gist("tour.booked", {"name": "Ana", "date": "2027-01-10", "location": "Porto"}) == (
        "Ana · 2027-01-10 · Porto"
    )
    assert event_gist("chat.message.received", {"message": "hello   there"}) == "hello there"
    assert event_gist("unknown.event", {}) == ""


def test_audit_entries_name_records_and_say_what_changed() -> None:
    contact = AuditEntry(
        "ana@example.com",
        PrincipalKind.USER,
        AuditAction.CONTACT_CORRECTED,
        f"contact {uuid4()}",
        before={"name": "Sarah Jone", "email": None},
        after={"name": "Sarah Jones", "email": "sarah@example.com"},
    )
    assert audit_target(contact) == "contact Sarah Jones"
    assert audit_changes(contact) == "name: Sarah Jone → Sarah Jones; email: none → sarah@example.com"
    assert (
        audit_target(AuditEntry("x", PrincipalKind.CLI, AuditAction.USER_ADDED, "user a@b.c")) == "user a@b.c"
    )


def test_prompt_diffs_show_changed_lines_only() -> None:
    diff = prompt_diff("You are Ava.\nBe brief.", "You are Max.\nBe brief.", "version 1", "version 2")
    assert "-You are Ava." in diff
    assert "+You are Max." in diff
    assert prompt_diff("same", "same", "a", "b") == ""


def test_record_times_are_shown_in_the_businesss_zone() -> None:
    from datetime import UTC, date, datetime
    from uuid import uuid4
    from zoneinfo import ZoneInfo

    from agent_core.domain import Tour
    from dashboard.views import records_frame

    tour = Tour(
        uuid4(),
        uuid4(),
        "Ana Silva",
        date(2027, 1, 10),
        "Porto",
        None,
        datetime(2026, 11, 24, 23, 30, tzinfo=UTC),
    )
    assert records_frame([tour], ZoneInfo("Europe/Lisbon"))["Created"].tolist() == ["2026-11-24 23:30 WET"]
    assert records_frame([tour], ZoneInfo("Asia/Tokyo"))["Created"].tolist() == ["2026-11-25 08:30 JST"]
    assert list(records_frame([tour]).columns) == [
        "Customer",
        "Date",
        "Place",
        "Status",
        "Created",
        "Conversation",
        "Reference",
    ]
