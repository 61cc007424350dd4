"""SQLite reads a conversation's rows through that conversation's keys, whatever the size of
its tenant: a plan that walks all of a tenant's rows gets slower with every conversation."""

from __future__ import annotations

import json

from agent_core.domain import ChatMessage, ToolCallRequest, Usage
from agent_core.store.base import TurnOutcome
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore


def test_a_conversations_tool_calls_are_read_by_its_own_key_and_listed_in_the_order_they_ran() -> None:
    store = SqliteStore(":memory:")
    turn = store.start_turn(DEMO_TENANT_ID, None, "Book Ana and Li")
    # Ran in an order their keys do not sort in (Li before Ana); the third is the first again.
    for name in ("Li Wei", "Ana Silva", "Li Wei"):
        call = ToolCallRequest(f"call_{name}_{len(name)}", "book_tour", json.dumps({"name": name}))
        store.run_tool_call(DEMO_TENANT_ID, turn.conversation_id, turn.turn_id, call, lambda _: {"ok": True})
    done = TurnOutcome("succeeded", "Booked.", "m", Usage(), 1, 5.0)
    store.finish_turn(
        DEMO_TENANT_ID, turn.conversation_id, turn.turn_id, ChatMessage("assistant", "Booked."), done
    )
    statements: list[str] = []
    store._connection.set_trace_callback(statements.append)

    calls = store.list_tool_calls(DEMO_TENANT_ID, turn.conversation_id)

    store._connection.set_trace_callback(None)
    assert [c.call_id for c in calls] == ["call_Li Wei_6", "call_Ana Silva_9"]
    [read] = [s for s in statements if "FROM tool_calls" in s]
    plan = " ".join(row["detail"] for row in store._connection.execute(f"EXPLAIN QUERY PLAN {read}"))
    assert "conversation_id=?" in plan, plan


def test_a_turn_looks_for_a_running_turn_of_its_conversation_among_the_running_turns_alone() -> None:
    store = SqliteStore(":memory:")
    done = TurnOutcome("succeeded", "Hello.", "m", Usage(), 1, 5.0)
    conversation = None
    for _ in range(3):
        turn = store.start_turn(DEMO_TENANT_ID, conversation, "Hi")
        conversation = turn.conversation_id
        store.finish_turn(
            DEMO_TENANT_ID, conversation, turn.turn_id, ChatMessage("assistant", "Hello."), done
        )
    statements: list[str] = []
    store._connection.set_trace_callback(statements.append)

    store.start_turn(DEMO_TENANT_ID, conversation, "Hi again")

    store._connection.set_trace_callback(None)
    [check] = [s for s in statements if "AS busy" in s]
    plan = " ".join(row["detail"] for row in store._connection.execute(f"EXPLAIN QUERY PLAN {check}"))
    # Not the conversation's every turn (turns_conversation), which a long call made slower.
    assert "USING INDEX turns_running (tenant_id=? AND conversation_id=?" in plan, plan
