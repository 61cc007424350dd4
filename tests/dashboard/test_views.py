"""Display helpers: literal text, tool calls where they happened, readable labels and diffs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

from agent_core.domain import (
    ChatMessage,
    ConversationSummary,
    ToolCallRecord,
    ToolCallRequest,
    ToolCallStatus,
)
from dashboard.views import chat_items, conversation_label, escape_markdown, prompt_diff, tool_call_label


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


def test_conversation_labels_are_short() -> None:
    summary = ConversationSummary(uuid4(), uuid4(), datetime(2026, 11, 24, 9, 5, tzinfo=UTC), 6, "x" * 80)
    label = conversation_label(summary)
    assert label.startswith("24 Nov 09:05 · 6 msgs · ")
    assert label.endswith("…")
    assert len(label) < 80


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
        "Reference",
    ]
