"""Stored history is made acceptable to chat APIs before it is sent."""

from __future__ import annotations

from agent_core.agent.history import model_ready
from agent_core.domain import ChatMessage, ToolCallRequest


def test_a_window_starting_mid_exchange_begins_at_the_next_user_message() -> None:
    history = [
        ChatMessage("tool", "{}", tool_call_id="old"),
        ChatMessage("assistant", "done"),
        ChatMessage("user", "next"),
    ]
    assert model_ready(history) == [ChatMessage("user", "next")]


def test_a_tool_call_without_a_result_gets_an_interrupted_result() -> None:
    call = ToolCallRequest("c1", "take_note", "{}")
    history = [
        ChatMessage("user", "note"),
        ChatMessage("assistant", "", (call,)),
        ChatMessage("user", "again"),
    ]
    repaired = model_ready(history)
    assert [m.role for m in repaired] == ["user", "assistant", "tool", "user"]
    assert repaired[2].tool_call_id == "c1"
    assert "interrupted" in repaired[2].content


def test_complete_exchanges_are_left_alone_and_orphan_results_dropped() -> None:
    call = ToolCallRequest("c1", "take_note", "{}")
    history = [
        ChatMessage("user", "note"),
        ChatMessage("assistant", "", (call,)),
        ChatMessage("tool", "{}", tool_call_id="c1"),
        ChatMessage("tool", "{}", tool_call_id="stray"),
        ChatMessage("assistant", "Noted"),
    ]
    assert model_ready(history) == [history[0], history[1], history[2], history[4]]
