"""Turning stored messages into a history the model accepts."""

from __future__ import annotations

import json
from collections.abc import Sequence

from agent_core.domain import ChatMessage

_INTERRUPTED = json.dumps({"ok": False, "error": "interrupted before it finished; it did not run"})


def model_ready(history: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Start at a user message and pair every tool call with a result.

    A window cut from a long conversation may begin mid-exchange, and a turn that died
    between asking for a tool and recording its result leaves a call without one; chat
    APIs reject both, so such gaps are closed here rather than failing every later turn.
    """
    start = next((i for i, m in enumerate(history) if m.role == "user"), len(history))
    repaired: list[ChatMessage] = []
    open_calls: list[str] = []
    for message in history[start:]:
        if message.role == "tool":
            if message.tool_call_id in open_calls:
                open_calls.remove(message.tool_call_id)
                repaired.append(message)
            continue
        repaired.extend(ChatMessage("tool", _INTERRUPTED, tool_call_id=c) for c in open_calls)
        open_calls = [c.id for c in message.tool_calls]
        repaired.append(message)
    repaired.extend(ChatMessage("tool", _INTERRUPTED, tool_call_id=c) for c in open_calls)
    return repaired
