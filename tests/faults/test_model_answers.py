"""A misbehaving model never reaches a caller or the records as if it had answered. Each
fault is served by a local OpenAI-compatible server to the real `openai` client, through the
HTTP API: the turn fails with the reason (not answered), nothing of the bad answer is written,
and no request ends in a 500 or a cut stream."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from tests.http.conftest import RunningApi, failed_turn

DEMO = str(DEMO_TENANT_ID)


def booking(name: str) -> str:
    return json.dumps({"name": name, "date": "2027-03-15", "location": "Paris"})


@pytest.fixture
def api(model_api: RunningApi) -> RunningApi:
    return model_api


def chat(api: RunningApi, message: str) -> httpx.Response:
    return api.client.post("/api/chat", json={"tenantId": DEMO, "message": message})


def booked(api: RunningApi, *names: str) -> list[str]:
    rows = api.runtime.store.list_tours(DEMO_TENANT_ID).rows
    return [t.customer_name for t in rows if t.customer_name in names]


def test_two_different_calls_with_one_id_fail_the_turn_and_book_neither(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    model.enqueue(
        FakeCompletion(
            tool_calls=(
                ("call_1", "book_tour", booking("Ana Lima")),
                ("call_1", "book_tour", booking("Ben Cole")),
            )
        )
    )
    response = chat(api, "Book Ana Lima and Ben Cole on 2027-03-15 in Paris")
    assert response.status_code == 502
    assert "two different tool calls with the same id 'call_1'" in failed_turn(api, response)
    assert booked(api, "Ana Lima", "Ben Cole") == []


def test_the_same_call_sent_twice_in_one_answer_runs_once(api: RunningApi, model: FakeOpenAIServer) -> None:
    model.enqueue(
        FakeCompletion(
            tool_calls=(
                ("call_2", "book_tour", booking("Cy Dorn")),
                ("call_2", "book_tour", booking("Cy Dorn")),
            )
        ),
        FakeCompletion(text="Booked Cy."),
    )
    response = chat(api, "Book Cy Dorn on 2027-03-15 in Paris")
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["toolCalls"]] == ["call_2"]
    assert booked(api, "Cy Dorn") == ["Cy Dorn"]


def test_an_empty_answer_is_a_failed_turn_not_an_apology(api: RunningApi, model: FakeOpenAIServer) -> None:
    model.enqueue(FakeCompletion(text=""))
    response = chat(api, "Hello?")
    assert response.status_code == 502
    assert failed_turn(api, response) == "the model sent an empty answer"


def test_steps_used_up_by_a_tool_loop_are_a_failed_turn(api: RunningApi, model: FakeOpenAIServer) -> None:
    # Every answer asks for a look-up again (every step offers the tools).
    loop = [
        FakeCompletion(tool_calls=((f"call_loop_{i}", "find_tours", json.dumps({"name": "Dee Eve"})),))
        for i in range(4)
    ]
    model.enqueue(*loop)
    response = chat(api, "What is booked for Dee Eve?")
    assert response.status_code == 502
    assert failed_turn(api, response) == (
        "the model kept calling tools for all 4 of its steps without answering; the calls of the last"
        " one did not run"
    )


def test_an_answer_with_more_tool_calls_than_the_cap_runs_none(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    notes = tuple((f"call_note_{i}", "take_note", json.dumps({"content": f"note {i}"})) for i in range(300))
    model.enqueue(FakeCompletion(tool_calls=notes))
    before = api.runtime.store.list_notes(DEMO_TENANT_ID).total
    response = chat(api, "Take some notes")
    assert response.status_code == 502
    assert "more than 8 tool calls in one answer; none of them ran" in failed_turn(api, response)
    assert api.runtime.store.list_notes(DEMO_TENANT_ID).total == before


def surrogate_answer() -> FakeCompletion:
    """A booking whose name holds the JSON escape of a lone surrogate, as a model once sent."""
    arguments = '{"name": "Ana \\ud800 Silva", "date": "2027-03-15", "location": "Paris"}'
    return FakeCompletion(tool_calls=(("call_s", "book_tour", arguments),))


def test_a_lone_surrogate_in_tool_arguments_is_refused_without_a_500(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    model.enqueue(surrogate_answer(), FakeCompletion(text="Could you spell the name again?"))
    response = chat(api, "Book Ana Silva on 2027-03-15 in Paris")
    assert response.status_code == 200
    [call] = response.json()["toolCalls"]
    assert call["status"] == "failed"
    assert call["error"].startswith("invalid arguments")
    assert isinstance(call["arguments"], str)  # shown as the model sent it, escaped
    assert response.json()["reply"] == "Could you spell the name again?"
    assert not [t for t in api.runtime.store.list_tours(DEMO_TENANT_ID).rows if "Ana" in t.customer_name]


def sse_events(response: httpx.Response) -> list[tuple[str, Any]]:
    events = []
    for block in response.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_a_lone_surrogate_on_the_stream_reaches_the_end_of_the_stream(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    model.enqueue(surrogate_answer(), FakeCompletion(text="Could you spell the name again?"))
    response = api.client.post(
        "/api/chat",
        json={"tenantId": DEMO, "message": "Book Ana Silva"},
        headers={"Accept": "text/event-stream"},
    )
    assert response.status_code == 200
    names = [name for name, _ in sse_events(response)]
    assert names[0] == "turn.started"
    assert names[-1] == "done"
    assert "tool.finished" in names


def test_a_failed_answer_on_the_stream_ends_with_an_error_event(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    model.enqueue(FakeCompletion(text=""))
    response = api.client.post(
        "/api/chat", json={"tenantId": DEMO, "message": "Hello?"}, headers={"Accept": "text/event-stream"}
    )
    name, data = sse_events(response)[-1]
    assert name == "error"
    assert data["error"]["code"] == "model_error"
    assert data["error"]["message"] == "the model sent an empty answer"
