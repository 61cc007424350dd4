"""Stopping a running turn: at once even while the model sends nothing, recorded as failed
with who stopped it, the conversation free for the next message, never across tenants."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from uuid import uuid4

import pytest
from openai import OpenAI

from agent_core.access.models import Principal, PrincipalKind, UserRole
from agent_core.agent.background import BackgroundTurn
from agent_core.agent.loop import Agent, AgentLimits
from agent_core.agent.steps import TurnStarted
from agent_core.agent.stopping import RunningTurns, interruptible
from agent_core.clock import FixedClock
from agent_core.domain import ChatMessage, Tenant, ToolSpec, Usage
from agent_core.errors import ModelUnavailableError, ShuttingDownError, TurnStoppedError
from agent_core.llm.base import Interrupt, KeepsNothingOpen, ModelDone, ModelEvent, Reading, TextDelta
from agent_core.llm.openai_model import OpenAIChatModel
from agent_core.store.base import Store
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from tests.conftest import make_agent, make_workspace, turn_steps, whole_turn


class SilentModel(KeepsNothingOpen):
    """Sends nothing until released, then one sentence; says whether its stream was closed."""

    name = "silent"
    reading = Reading.HELPER_THREAD

    def __init__(self) -> None:
        self.release = threading.Event()
        self.closed = threading.Event()

    def stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], interrupt: Interrupt | None = None
    ) -> Iterator[ModelEvent]:
        try:
            # The bound only keeps a broken test from hanging the suite.
            self.release.wait(30)
            yield TextDelta("Late answer.")
            yield ModelDone(Usage(), self.name)
        finally:
            self.closed.set()


class ChattyModel(KeepsNothingOpen):
    """Streams words without end, a little at a time."""

    name = "chatty"
    reading = Reading.HELPER_THREAD

    def stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], interrupt: Interrupt | None = None
    ) -> Iterator[ModelEvent]:
        pause = threading.Event()
        while True:
            pause.wait(0.001)
            yield TextDelta("word ")


def started(turn: BackgroundTurn) -> TurnStarted:
    assert turn.wait_began(10)
    first = turn.started
    assert first is not None, turn.error
    return first


def test_a_turn_waiting_on_a_silent_model_stops_at_once_and_is_marked_with_who_stopped_it(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    model = SilentModel()
    agent = make_agent(store, clock, model)
    turn = BackgroundTurn(lambda: turn_steps(agent, tenant.id, "Hello?"))
    first = started(turn)

    assert agent.stop_turn(tenant.id, first.turn_id, "stopped by ana@example.com")
    assert turn.wait_done(10)
    assert not model.release.is_set()  # it ended while the model was still silent
    assert isinstance(turn.error, TurnStoppedError)
    [record] = store.list_turns(tenant.id, first.conversation_id)
    assert (record.status, record.error) == ("failed", "stopped by ana@example.com")
    [failed] = store.events.find(tenant.id, names=["chat.turn.failed"])
    assert failed.event.payload["error"] == "stopped by ana@example.com"
    assert agent.leases.held == []

    # The conversation takes the next message; the abandoned answer is dropped and closed.
    model.release.set()
    assert model.closed.wait(10)
    assert [m.role for m in store.list_messages(tenant.id, first.conversation_id)] == ["user"]
    assert whole_turn(agent, tenant.id, "Hello again", first.conversation_id).reply == "Late answer."


def test_an_operator_stops_a_turn_of_their_tenant_and_the_conversation_names_them(
    store: Store, tenant: Tenant
) -> None:
    model = SilentModel()
    operator = Principal(PrincipalKind.USER, "ops@example.com", UserRole.OPERATOR, frozenset({tenant.id}))
    workspace = make_workspace(store, operator, model=model)
    turn = BackgroundTurn(lambda: turn_steps(workspace, tenant.id, "Hello?"))
    first = started(turn)
    try:
        assert workspace.stop_turn(tenant.id, first.turn_id)
        assert turn.wait_done(10)
    finally:
        model.release.set()
    assert [t.error for t in workspace.turns(tenant.id, first.conversation_id)] == [
        "stopped by ops@example.com"
    ]


def test_a_turn_streaming_without_end_stops_between_words(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    agent = make_agent(store, clock, ChattyModel(), limits=AgentLimits(max_reply_chars=10**9))
    turn = BackgroundTurn(lambda: turn_steps(agent, tenant.id, "Talk to me"))
    first = started(turn)
    assert agent.stop_turn(tenant.id, first.turn_id, "stopped by ops")
    assert turn.wait_done(10)
    assert isinstance(turn.error, TurnStoppedError)


def test_nobody_stops_another_tenants_turn_or_one_that_ended(
    store: Store, tenant: Tenant, other_tenant: Tenant, clock: FixedClock
) -> None:
    model = SilentModel()
    agent = make_agent(store, clock, model)
    turn = BackgroundTurn(lambda: turn_steps(agent, tenant.id, "Hello?"))
    first = started(turn)
    try:
        assert not agent.stop_turn(other_tenant.id, first.turn_id, "stopped by a stranger")
        assert not agent.stop_turn(tenant.id, uuid4(), "stopped by ops")
        assert not turn.wait_done(0.2)
    finally:
        model.release.set()
    assert turn.wait_done(10)
    assert turn.error is None
    assert not agent.stop_turn(tenant.id, first.turn_id, "too late")


def test_a_silent_model_cannot_hold_a_turn_past_its_deadline(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    model = SilentModel()
    agent = make_agent(store, clock, model, limits=AgentLimits(deadline_seconds=0.2))
    try:
        with pytest.raises(ModelUnavailableError, match=r"ran past its deadline of 0\.2 s"):
            whole_turn(agent, tenant.id, "Hello?")
        assert not model.release.is_set()
    finally:
        model.release.set()


def test_a_stop_ends_the_wait_on_the_real_client_reading_from_a_server_that_does_not_answer(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(text="Too late.", delay=20))
        client = OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
        agent: Agent = make_agent(store, clock, OpenAIChatModel(client, "gpt-4o-mini"))
        turn = BackgroundTurn(lambda: turn_steps(agent, tenant.id, "Hello?"))
        first = started(turn)
        assert agent.stop_turn(tenant.id, first.turn_id, "stopped by ops")
        assert turn.wait_done(10)
        assert isinstance(turn.error, TurnStoppedError)
        [record] = store.list_turns(tenant.id, first.conversation_id)
        assert record.error == "stopped by ops"


def _real_client_agent(
    store: Store, clock: FixedClock, server: FakeOpenAIServer, limits: AgentLimits | None = None
) -> Agent:
    client = OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
    return make_agent(store, clock, OpenAIChatModel(client, "gpt-4o-mini"), limits=limits)


def test_a_stop_between_pieces_of_a_real_answer_ends_the_turn_and_the_next_turn_reads_a_new_answer(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(text="Let me look that up for you.", silence_midway=20))
        server.enqueue(FakeCompletion(text="Here again."))
        agent = _real_client_agent(store, clock, server)
        turn = BackgroundTurn(lambda: turn_steps(agent, tenant.id, "Hello?"))
        first = started(turn)
        for _ in range(200):  # the answer has begun: its first words are sent, then it stalls
            if server.streaming:
                break
            threading.Event().wait(0.05)
        assert server.streaming
        threading.Event().wait(0.2)

        assert agent.stop_turn(tenant.id, first.turn_id, "stopped by ops")
        assert turn.wait_done(10)
        assert isinstance(turn.error, TurnStoppedError)
        assert agent.health.last is None  # a stop is not a failing model
        assert whole_turn(agent, tenant.id, "Hello again", first.conversation_id).reply == "Here again."


def test_a_stop_during_the_wait_before_a_retry_ends_the_turn_at_once(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(status=503, headers={"retry-after": "20"}))
        server.enqueue(FakeCompletion(text="Too late."))
        client = OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=1)
        agent = make_agent(store, clock, OpenAIChatModel(client, "gpt-4o-mini"))
        turn = BackgroundTurn(lambda: turn_steps(agent, tenant.id, "Hello?"))
        first = started(turn)
        for _ in range(200):  # the server asked for 20 s before the next try
            if server.requests:
                break
            threading.Event().wait(0.05)
        assert agent.stop_turn(tenant.id, first.turn_id, "stopped by ops")
        assert turn.wait_done(10)
        assert isinstance(turn.error, TurnStoppedError)
        assert len(server.requests) == 1


def test_a_silent_server_cannot_hold_a_turn_on_the_real_client_past_the_turns_deadline(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(text="Too late.", silence_before=20))
        agent = _real_client_agent(store, clock, server, AgentLimits(deadline_seconds=0.5))
        began = time.monotonic()
        with pytest.raises(ModelUnavailableError, match=r"ran past its deadline of 0\.5 s"):
            whole_turn(agent, tenant.id, "Hello?")
        assert time.monotonic() - began < 10  # not the 60 s the model's first bytes may take


def test_a_shutdown_ends_a_turn_waiting_on_the_real_client(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(text="Too late.", delay=20))
        agent = _real_client_agent(store, clock, server)
        turn = BackgroundTurn(lambda: turn_steps(agent, tenant.id, "Hello?"))
        first = started(turn)
        agent.cancel_running()
        assert turn.wait_done(10)
        assert isinstance(turn.error, ShuttingDownError)
        [record] = store.list_turns(tenant.id, first.conversation_id)
        assert record.status == "failed"


def test_a_wake_asked_for_after_the_stop_comes_at_once_and_none_after_the_block(tenant: Tenant) -> None:
    flag = RunningTurns().add(tenant.id, uuid4(), deadline=time.monotonic() + 60)
    woken: list[str] = []
    with flag.waking(lambda: woken.append("first")):
        flag.raise_flag("stopped by ops")
    assert woken == ["first"]
    with flag.waking(lambda: woken.append("late")):
        pass
    assert woken == ["first", "late"]
    flag.wake()
    assert woken == ["first", "late"]


def test_interruptible_passes_items_and_errors_through_and_stops_waiting_when_asked() -> None:
    assert list(interruptible(lambda: iter([1, 2, 3]), lambda: None)) == [1, 2, 3]

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("broken source")

    with pytest.raises(ValueError, match="broken source"):
        list(interruptible(failing, lambda: None))

    blocked = threading.Event()
    asked = threading.Event()

    def check() -> None:
        if asked.is_set():
            raise TurnStoppedError("stopped")

    def silent() -> Iterator[int]:
        blocked.wait(30)
        yield 1

    items = interruptible(silent, check)
    threading.Timer(0.1, asked.set).start()
    with pytest.raises(TurnStoppedError):
        next(items)
    assert not blocked.is_set()
    blocked.set()


def test_answers_stopped_while_their_model_hangs_never_hold_back_the_next_answer() -> None:
    hanging = threading.Event()

    def silent() -> Iterator[int]:
        hanging.wait(30)
        yield 0

    def refuse() -> None:
        raise TurnStoppedError("stopped")

    try:
        for _ in range(20):
            with pytest.raises(TurnStoppedError):
                next(interruptible(silent, refuse))
        # Twenty helper threads still wait on their silent models; the next answer gets its own.
        assert list(interruptible(lambda: iter("ok"), lambda: None)) == ["o", "k"]
    finally:
        hanging.set()


def test_a_background_turn_keeps_every_step_and_the_error_that_ended_it(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    agent = make_agent(store, clock)
    turn = BackgroundTurn(lambda: turn_steps(agent, tenant.id, "Hello"))
    assert turn.wait_done(10)
    steps = turn.steps()
    assert isinstance(steps[0], TurnStarted)
    assert turn.conversation_id == steps[0].conversation_id
    assert turn.error is None

    refused = BackgroundTurn(lambda: turn_steps(agent, tenant.id, "   "))
    assert refused.wait_done(10)
    assert refused.started is None
    assert "at least 1 character" in str(refused.error)

    def broken() -> Iterator[TurnStarted]:
        raise RuntimeError("secret internals")

    crashed = BackgroundTurn(broken)
    assert crashed.wait_done(10)
    assert str(crashed.error) == "the turn failed unexpectedly; the server log has the details"
