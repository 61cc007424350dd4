"""The agent loop: multi-step and parallel tool calls, idempotency, bounds, failures, streaming."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from uuid import uuid4

import pytest

from agent_core.agent.loop import AgentLimits
from agent_core.agent.steps import ReplyDelta, ToolCallFinished, ToolCallStarted, TurnFinished, TurnStarted
from agent_core.clock import FixedClock
from agent_core.domain import ChatMessage, JsonDict, Tenant, ToolCallRequest, ToolCallStatus, ToolSpec, Usage
from agent_core.errors import ConversationBusyError, ModelError, ModelUnavailableError
from agent_core.llm.base import Interrupt, KeepsNothingOpen, ModelEvent, Reading
from agent_core.llm.scripted import ScriptedModel, ScriptedReply
from agent_core.store.base import Store
from agent_core.tools import ToolContext, ToolRegistry
from agent_core.tools.book_tour import BOOK_TOUR, BookTourArgs
from tests.conftest import RecordingSink, make_agent, turn_steps, whole_turn


def call(tool: str, call_id: str | None = None, /, **arguments: object) -> ToolCallRequest:
    return ToolCallRequest(call_id or f"call_{uuid4().hex[:12]}", tool, json.dumps(arguments))


BOOKING = {"name": "John Smith", "date": "2027-03-15", "location": "Paris"}


def test_tools_can_be_chained_over_several_steps(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    model = ScriptedModel(
        [
            ScriptedReply(tool_calls=(call("book_tour", **BOOKING),), usage=Usage(10, 2)),
            ScriptedReply(tool_calls=(call("take_note", content="Booked via chain"),), usage=Usage(12, 3)),
            ScriptedReply("All done.", usage=Usage(14, 4)),
        ]
    )
    result = whole_turn(make_agent(store, clock, model), tenant.id, "Book and note")
    assert [c.name for c in result.tool_calls] == ["book_tour", "take_note"]
    assert result.model_calls == 3
    assert result.usage == Usage(36, 9)
    assert result.reply == "All done."
    roles = [m.role for m in store.list_messages(tenant.id, result.conversation_id)]
    assert roles == ["user", "assistant", "tool", "assistant", "tool", "assistant"]


def test_parallel_tool_calls_all_run_and_all_results_go_back(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    calls = (call("book_tour", **BOOKING), call("take_note", content="Vegetarian"))
    model = ScriptedModel([ScriptedReply(tool_calls=calls), ScriptedReply("Booked and noted.")])
    result = whole_turn(make_agent(store, clock, model), tenant.id, "Do both")
    assert [c.status for c in result.tool_calls] == [ToolCallStatus.SUCCEEDED] * 2
    second_request = model.requests[1][0]
    assert [m.tool_call_id for m in second_request[-2:]] == [c.id for c in calls]
    assert store.list_tours(tenant.id).total == 1
    assert store.list_notes(tenant.id).total == 1


def test_a_call_id_repeated_in_one_response_runs_once(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    twice = call("book_tour", "call_dup", **BOOKING)
    model = ScriptedModel([ScriptedReply(tool_calls=(twice, twice)), ScriptedReply("Booked.")])
    result = whole_turn(make_agent(store, clock, model), tenant.id, "Book")
    assert len(result.tool_calls) == 1
    assert store.list_tours(tenant.id).total == 1


def test_a_retried_call_id_is_not_executed_twice(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    sink = RecordingSink()
    same = call("book_tour", "call_retry", **BOOKING)
    model = ScriptedModel(
        [
            ScriptedReply(tool_calls=(same,)),
            ScriptedReply("Booked."),
            ScriptedReply(tool_calls=(same,)),
            ScriptedReply("Booked."),
        ]
    )
    agent = make_agent(store, clock, model, sink)
    first = whole_turn(agent, tenant.id, "Book")
    steps = list(turn_steps(agent, tenant.id, "Book (retry)", first.conversation_id))
    finished = [s for s in steps if isinstance(s, ToolCallFinished)]
    assert [s.replayed for s in finished] == [True]
    assert finished[0].record.result == first.tool_calls[0].result
    assert store.list_tours(tenant.id).total == 1
    assert sink.names.count("tour.booked") == 1


def test_the_tenant_comes_from_the_request_never_from_the_model(
    store: Store, tenant: Tenant, other_tenant: Tenant, clock: FixedClock
) -> None:
    model = ScriptedModel(
        [
            ScriptedReply(tool_calls=(call("book_tour", tenant_id=str(other_tenant.id), **BOOKING),)),
            ScriptedReply(tool_calls=(call("book_tour", **BOOKING),)),
            ScriptedReply("Booked."),
        ]
    )
    result = whole_turn(make_agent(store, clock, model), tenant.id, "Book it for the other tenant")
    refused, booked = result.tool_calls
    assert refused.status is ToolCallStatus.FAILED
    assert "tenant_id: Extra inputs are not permitted" in (refused.error or "")
    assert booked.status is ToolCallStatus.SUCCEEDED
    assert store.list_tours(tenant.id).total == 1
    assert store.list_tours(other_tenant.id).total == 0


def test_a_model_that_keeps_calling_tools_fails_the_turn_and_every_step_offers_them(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    notes = iter(range(100))

    def always_a_tool(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ScriptedReply:
        return ScriptedReply(tool_calls=(call("take_note", content=f"note {next(notes)}"),))

    model = ScriptedModel(always_a_tool)
    agent = make_agent(store, clock, model, limits=AgentLimits(max_steps=3))
    with pytest.raises(ModelError, match="kept calling tools for all 3 of its steps"):
        whole_turn(agent, tenant.id, "Loop forever")
    assert [len(tools) for _, tools in model.requests] == [len(agent.tools.specs)] * 3
    # The last step's call did not run; the turn shows as not answered.
    assert store.list_notes(tenant.id).total == 2
    [turn] = store.list_turns(tenant.id, store.list_conversations(tenant.id)[0].id)
    assert turn.status == "failed"


def test_a_model_failure_keeps_the_user_message_and_completed_tools(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    class FailsSecondTime(KeepsNothingOpen):
        name = "flaky"
        reading = Reading.DIRECT

        def __init__(self) -> None:
            self.calls = 0

        def stream(
            self,
            messages: Sequence[ChatMessage],
            tools: Sequence[ToolSpec],
            interrupt: Interrupt | None = None,
        ) -> Iterator[ModelEvent]:
            self.calls += 1
            if self.calls == 2:
                raise ModelUnavailableError("the model server failed (HTTP 503)")
            yield call("book_tour", **BOOKING)

    sink = RecordingSink()
    agent = make_agent(store, clock, FailsSecondTime(), sink)
    with pytest.raises(ModelUnavailableError):
        whole_turn(agent, tenant.id, "Book please")
    (conversation,) = store.list_conversations(tenant.id)
    roles = [m.role for m in store.list_messages(tenant.id, conversation.id)]
    assert roles == ["user", "assistant", "tool"]
    assert store.list_tours(tenant.id).total == 1
    assert sink.names[-1] == "chat.turn.failed"
    assert sink.events[-1][2]["error"] == "the model server failed (HTTP 503)"


def test_an_abandoned_stream_closes_the_turn_and_the_next_turn_still_works(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    sink = RecordingSink()
    model = ScriptedModel(
        [ScriptedReply(tool_calls=(call("book_tour", "call_cut", **BOOKING),)), ScriptedReply("Hi again.")]
    )
    agent = make_agent(store, clock, model, sink)
    stream = turn_steps(agent, tenant.id, "Book")
    started = next(stream)
    assert isinstance(started, TurnStarted)
    assert isinstance(next(stream), ToolCallStarted)
    stream.close()
    assert sink.events[-1][0] == "chat.turn.failed"
    assert sink.events[-1][2]["error"] == "interrupted"
    assert store.list_tours(tenant.id).total == 0
    result = whole_turn(agent, tenant.id, "Hello?", started.conversation_id)
    assert result.reply == "Hi again."
    sent = model.requests[-1][0]
    repaired = next(m for m in sent if m.role == "tool")
    assert repaired.tool_call_id == "call_cut"
    assert "interrupted" in repaired.content


class _BrokenBooking(RuntimeError):
    """What a tool whose code fails raises (not a ToolFailure: a bug, or a dependency down)."""


def _broken_book_tour(args: BookTourArgs, context: ToolContext) -> JsonDict:
    raise _BrokenBooking("the booking system fell over")


def test_a_call_that_failed_to_run_is_told_as_interrupted_next_turn_and_kept_once(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    model = ScriptedModel(
        [ScriptedReply(tool_calls=(call("book_tour", "call_broken", **BOOKING),)), ScriptedReply("Hi again.")]
    )
    agent = make_agent(store, clock, model)
    agent.tools = ToolRegistry([replace(BOOK_TOUR, handler=_broken_book_tour)])
    with pytest.raises(_BrokenBooking):
        whole_turn(agent, tenant.id, "Book John Smith in Paris")
    [conversation] = store.list_conversations(tenant.id)
    asked = [m for m in store.list_messages(tenant.id, conversation.id) if m.tool_calls]
    assert [c.id for m in asked for c in m.tool_calls] == ["call_broken"], "kept, and once"
    assert store.list_tool_calls(tenant.id, conversation.id) == []
    assert whole_turn(agent, tenant.id, "Hello?", conversation.id).reply == "Hi again."
    repaired = next(m for m in model.requests[-1][0] if m.role == "tool")
    assert (repaired.tool_call_id, "interrupted" in repaired.content) == ("call_broken", True)


def test_the_stream_yields_each_step_in_order(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    steps = list(turn_steps(make_agent(store, clock), tenant.id, "Please note that Zoë likes boats."))
    kinds = [type(s).__name__ for s in steps]
    assert kinds[:3] == ["TurnStarted", "ToolCallStarted", "ToolCallFinished"]
    assert set(kinds[3:-1]) == {"ReplyDelta"}
    assert kinds[-1] == "TurnFinished"
    finished = steps[-1]
    assert isinstance(finished, TurnFinished)
    assert "".join(s.text for s in steps if isinstance(s, ReplyDelta)).strip() == finished.result.reply


def test_any_agent_instance_can_continue_any_conversation(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    first = whole_turn(make_agent(store, clock), tenant.id, "Book a tour in Rome")
    assert "still need the customer's full name and the date" in first.reply
    second = whole_turn(
        make_agent(store, clock), tenant.id, "Zoë Martin, on December 3rd 2026", first.conversation_id
    )
    (booking,) = second.tool_calls
    assert booking.arguments == {"name": "Zoë Martin", "date": "2026-12-03", "location": "Rome"}
    assert booking.status is ToolCallStatus.SUCCEEDED


def test_the_model_sees_the_tenant_prompt_today_and_the_honesty_rule(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    model = ScriptedModel([ScriptedReply("ok")])
    whole_turn(make_agent(store, clock, model), tenant.id, "Hi")
    system = model.requests[0][0][0]
    assert system.role == "system"
    assert system.content.startswith(tenant.system_prompt)
    assert "Today is Tuesday 24 November 2026 (UTC)" in system.content
    assert "Never say that something was booked" in system.content


def test_text_from_a_tool_step_and_the_answer_become_paragraphs(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    model = ScriptedModel(
        [
            ScriptedReply("Let me book that.", tool_calls=(call("book_tour", **BOOKING),)),
            ScriptedReply("Booked."),
        ]
    )
    assert (
        whole_turn(make_agent(store, clock, model), tenant.id, "Book").reply == "Let me book that.\n\nBooked."
    )


def test_a_model_that_says_nothing_fails_the_turn_with_the_reason(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    with pytest.raises(ModelError, match="the model sent an empty answer"):
        whole_turn(make_agent(store, clock, ScriptedModel([ScriptedReply("")])), tenant.id, "Hi")
    [conversation] = store.list_conversations(tenant.id)
    [turn] = store.list_turns(tenant.id, conversation.id)
    assert (turn.status, turn.error) == ("failed", "the model sent an empty answer")
    assert [m.role for m in store.list_messages(tenant.id, conversation.id)] == ["user"]


def test_the_same_booking_asked_twice_books_once_and_confirms_once(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    sink = RecordingSink()
    agent = make_agent(store, clock, sink=sink)
    message = "I want to book a tour for John Smith on 2027-03-15 in Paris."
    first = whole_turn(agent, tenant.id, message)
    # A client that never saw the answer sends it again, in a new conversation.
    second = whole_turn(agent, tenant.id, message)
    assert store.list_tours(tenant.id).total == 1
    assert second.tool_calls[0].result is not None
    assert second.tool_calls[0].result["already_booked"] is True
    assert "already booked" in second.reply
    assert "I haven't booked it twice" in second.reply
    assert first.tool_calls[0].result is not None
    assert second.tool_calls[0].result["booking_id"] == first.tool_calls[0].result["booking_id"]
    assert sink.names.count("tour.booked") == 1
    assert sink.names.count("tool.called") == 2


def test_a_second_message_while_the_conversation_answers_is_refused(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    agent = make_agent(store, clock)
    running = turn_steps(agent, tenant.id, "Hello")
    started = next(running)
    assert isinstance(started, TurnStarted)
    with pytest.raises(ConversationBusyError):
        whole_turn(agent, tenant.id, "Are you there?", started.conversation_id)
    list(running)
    assert whole_turn(agent, tenant.id, "Are you there?", started.conversation_id).reply


def test_every_event_of_a_turn_is_stored_with_its_write(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    sink = RecordingSink()
    result = whole_turn(
        make_agent(store, clock, sink=sink),
        tenant.id,
        "I want to book a tour for John Smith on 2027-03-15 in Paris.",
    )
    stored = [r.event.name for r in store.events.find(tenant.id)]
    assert (
        stored
        == sink.names
        == [
            "chat.message.received",
            "tool.called",
            "tour.booked",
            "chat.reply.sent",
        ]
    )
    assert all(
        r.event.payload.get("conversation_id") == str(result.conversation_id)
        for r in store.events.find(tenant.id)
    )


def test_a_failed_turn_is_recorded_with_its_event_and_releases_its_lease(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    def down(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ScriptedReply:
        raise ModelUnavailableError("the model is down")

    agent = make_agent(store, clock, ScriptedModel(down))
    with pytest.raises(ModelUnavailableError):
        whole_turn(agent, tenant.id, "Hello")
    assert agent.leases.held == []
    [failed] = store.events.find(tenant.id, names=["chat.turn.failed"])
    assert failed.event.payload["error"] == "the model is down"


def test_oversized_model_output_fails_the_turn_and_stores_none_of_it(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    huge = call("take_note", content="x" * 20_000)
    agent = make_agent(store, clock, ScriptedModel([ScriptedReply(tool_calls=(huge,))]))
    with pytest.raises(ModelError, match="arguments over 16000 characters"):
        whole_turn(agent, tenant.id, "Note this")
    agent = make_agent(store, clock, ScriptedModel([ScriptedReply("y" * 20_000)]))
    with pytest.raises(ModelError, match="reply ran over 16000 characters"):
        whole_turn(agent, tenant.id, "Talk a lot")
    assert store.list_notes(tenant.id).total == 0
    stored = [m for c in store.list_conversations(tenant.id) for m in store.list_messages(tenant.id, c.id)]
    assert [m.role for m in stored] == ["user", "user"]


def test_no_step_starts_after_the_turns_deadline(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    def slow(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ScriptedReply:
        time.sleep(0.05)
        return ScriptedReply(tool_calls=(call("take_note", content="again"),))

    agent = make_agent(
        store, clock, ScriptedModel(slow), limits=AgentLimits(max_steps=10, deadline_seconds=0.01)
    )
    with pytest.raises(ModelUnavailableError, match="ran past its deadline"):
        whole_turn(agent, tenant.id, "Keep going")
    assert store.list_notes(tenant.id).total == 0  # the first answer came after the deadline


def test_a_stream_closed_right_after_it_started_still_closes_the_turn(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    agent = make_agent(store, clock)
    stream = turn_steps(agent, tenant.id, "Hello")
    started = next(stream)
    assert isinstance(started, TurnStarted)
    stream.close()  # e.g. an SSE client that hung up after `turn.started`
    assert agent.leases.held == []
    [failed] = store.events.find(tenant.id, names=["chat.turn.failed"])
    assert failed.event.payload["error"] == "interrupted"
    assert whole_turn(agent, tenant.id, "Hello again", started.conversation_id).reply
