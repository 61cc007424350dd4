"""A real model's answers, replayed: what Qwen2.5-Coder-1.5B-Instruct (llama.cpp's
`llama-server`, offline) streamed to this app, recorded byte for byte and sent again by the
local OpenAI-compatible server through the real `openai` client and the HTTP API.

The recordings (`recordings/qwen25-coder-1.5b.jsonl` here) are the exchanges of
`../shared/real-model/recordings/exchanges.jsonl` that show each behaviour, by `seq`: tool
calls written as text (1, 2, 31, 41), the same call asked for again and again (28–30, 38–40).
They are replayed in order; what the app sends the model in between is not matched, as the
answers of a real model cannot depend on it here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from tests.http.conftest import RunningApi, failed_turn

RECORDINGS = Path(__file__).parent / "recordings" / "qwen25-coder-1.5b.jsonl"
DEMO = str(DEMO_TENANT_ID)


def recorded(*seqs: int) -> list[FakeCompletion]:
    """The recorded answers of these exchanges, in that order."""
    found = {row["seq"]: row for row in map(json.loads, RECORDINGS.read_text().splitlines())}
    return [FakeCompletion(recorded=tuple(found[seq]["response_chunks"])) for seq in seqs]


@pytest.fixture
def api(model_api: RunningApi) -> RunningApi:
    return model_api


def streamed(api: RunningApi, message: str) -> list[tuple[str, Any]]:
    """The turn's server-sent events, as (event, data)."""
    body = {"tenantId": DEMO, "message": message}
    with api.client.stream("POST", "/api/chat", json=body, headers={"Accept": "text/event-stream"}) as reply:
        text = "".join(reply.iter_text())
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def chat(api: RunningApi, message: str) -> httpx.Response:
    return api.client.post("/api/chat", json={"tenantId": DEMO, "message": message})


def test_a_booking_written_as_bare_json_is_booked_and_no_json_reaches_the_caller(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    # Recorded: the app answered the caller with this JSON, and booked nothing.
    model.enqueue(*recorded(2), FakeCompletion(text="Booked John Smith for Paris on 15 March."))
    events = streamed(api, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    assert [name for name, _ in events if name != "reply.delta"] == [
        "turn.started",
        "tool.started",
        "tool.finished",
        "done",
    ]
    said = "".join(data["text"] for name, data in events if name == "reply.delta")
    assert said == "Booked John Smith for Paris on 15 March."
    [(tool, call)] = [(d["name"], d) for n, d in events if n == "tool.finished"]
    assert (tool, call["status"]) == ("book_tour", "succeeded")
    tours = api.runtime.store.list_tours(DEMO_TENANT_ID).rows
    assert [(t.customer_name, t.tour_date.isoformat(), t.location) for t in tours] == [
        ("John Smith", "2027-03-15", "Paris")
    ]


def test_a_call_to_a_tool_that_does_not_exist_written_as_text_fails_the_turn_honestly(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    model.enqueue(*recorded(1))  # {"name": "welcome", "arguments": {}}
    response = chat(api, "Hello, what can you help me with?")
    assert response.status_code == 502
    assert failed_turn(api, response) == (
        "the model wrote a call to 'welcome' as text; it is not a tool it may use here"
    )


def test_the_same_note_asked_for_four_times_is_stored_once_and_the_loop_fails_the_turn(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    # Recorded: three identical notes stored, then the call as a ```json reply (step 4, no tools).
    model.enqueue(*recorded(38, 39, 40, 41))
    response = chat(api, "Please note that John Smith is allergic to peanuts.")
    assert response.status_code == 502
    assert "kept calling tools for all 4 of its steps" in failed_turn(api, response)
    notes = api.runtime.store.list_notes(DEMO_TENANT_ID).rows
    assert [n.content for n in notes] == ["John Smith is allergic to peanuts."]
    # The model was told, each time, that the call had already run.
    told = [m for m in model.requests[-1]["messages"] if m["role"] == "tool"]
    assert [json.loads(m["content"]).get("repeated", False) for m in told] == [False, True, True]


def test_a_failed_cancel_asked_for_again_and_again_runs_once(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    model.enqueue(*recorded(28, 29, 30, 31))
    response = chat(api, "Cancel the booking for Nobody Here.")
    assert response.status_code == 502
    conversation = UUID(response.json()["error"]["conversationId"])
    calls = api.runtime.store.list_tool_calls(DEMO_TENANT_ID, conversation)
    assert [(c.name, c.status.value) for c in calls] == [("cancel_tour", "failed")]


def test_a_phone_the_model_invented_does_not_overwrite_the_person_who_has_it(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    sarah = json.dumps({"name": "Sarah Jones", "phone": "+1-555-0123"})
    model.enqueue(
        FakeCompletion(tool_calls=(("call_sarah", "update_contact_info", sarah),)),
        FakeCompletion(text="Saved Sarah Jones's phone."),
    )
    assert chat(api, "Update contact info for Sarah Jones: phone is +1-555-0123.").status_code == 200
    # Recorded: update_contact_info(Ana Silva, "anasantos@gmail.com", "+1-555-0123"), never said.
    model.enqueue(*recorded(15), FakeCompletion(text="Which phone number should I save for Ana Silva?"))
    response = chat(api, "Book a walking tour for Ana Silva on 2027-01-10 in Porto.")
    assert response.json()["reply"] == "Which phone number should I save for Ana Silva?"
    [call] = response.json()["toolCalls"]
    assert (call["name"], call["status"]) == ("update_contact_info", "failed")
    assert "on file for Sarah Jones, not Ana Silva" in call["error"]
    contacts = api.runtime.store.list_contacts(DEMO_TENANT_ID).rows
    assert [(c.name, c.email, c.phone) for c in contacts] == [("Sarah Jones", None, "+1-555-0123")]


def test_a_booking_on_another_day_than_the_callers_next_friday_is_not_written(
    api: RunningApi, model: FakeOpenAIServer
) -> None:
    # Recorded: "next Friday" booked on Tuesday 2026-12-08. The tests' today is Tuesday 24 November.
    model.enqueue(*recorded(47), FakeCompletion(text="Do you mean Friday 27 November?"))
    response = chat(api, "Book a tour next Friday in Madrid for Carlos Ruiz.")
    assert response.json()["reply"] == "Do you mean Friday 27 November?"
    [call] = response.json()["toolCalls"]
    assert (call["name"], call["status"]) == ("book_tour", "failed")
    assert call["error"] == (
        "the caller said 'next Friday', which is Friday 2026-11-27, but date is Tuesday 2026-12-08:"
        " nothing was written. Ask the caller which day they mean."
    )
    assert api.runtime.store.list_tours(DEMO_TENANT_ID).total == 0
