"""`Idempotency-Key` on POST /api/chat: repeats, concurrent duplicates and retries after a
failure book once and get one answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer, booking_responder
from tests.http.conftest import RunningApi

DEMO = str(DEMO_TENANT_ID)
BOOKING = "I want to book a tour for John Smith on 2027-03-15 in Paris."


def post(api: RunningApi, key: str, message: str = BOOKING, **extra: Any) -> httpx.Response:
    return api.client.post(
        "/api/chat", json={"tenantId": DEMO, "message": message, **extra}, headers={"Idempotency-Key": key}
    )


def test_a_repeat_gets_the_first_answer_and_books_nothing_more(api: RunningApi) -> None:
    first = post(api, "order-1")
    again = post(api, "order-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert api.runtime.store.list_tours(DEMO_TENANT_ID).total == 1
    assert len(api.runtime.store.list_conversations(DEMO_TENANT_ID)) == 1


def test_the_same_key_with_another_body_is_refused(api: RunningApi) -> None:
    assert post(api, "order-2").status_code == 200
    response = post(api, "order-2", "Please note that Zoë prefers boats.")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert api.runtime.store.list_notes(DEMO_TENANT_ID).total == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_malformed_key_is_refused_before_anything_runs(api: RunningApi, key: str) -> None:
    response = post(api, key)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    assert api.runtime.store.list_conversations(DEMO_TENANT_ID) == []


@pytest.fixture
def slow_model() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(booking_responder(delay=0.3)) as model:
        yield model


def test_concurrent_duplicates_run_one_turn_and_all_get_its_answer(
    serve: Callable[..., RunningApi], slow_model: FakeOpenAIServer
) -> None:
    api = serve(openai_api_key="sk-test", openai_base_url=slow_model.base_url, openai_max_retries=0)
    pairs = 10
    answers: dict[str, list[httpx.Response]] = {f"pair-{i}": [] for i in range(pairs)}

    def send(key: str) -> None:
        answers[key].append(post(api, key, f"Book a tour please ({key})"))

    senders = [threading.Thread(target=send, args=(key,)) for key in answers for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=60)
    for responses in answers.values():
        assert [r.status_code for r in responses] == [200, 200]
        assert responses[0].json() == responses[1].json()
    assert api.runtime.store.list_tours(DEMO_TENANT_ID).total == pairs
    assert len(slow_model.requests) == 2 * pairs  # one tool call and one answer per turn


def test_a_retry_after_a_failure_runs_again_and_books_once(
    serve: Callable[..., RunningApi],
) -> None:
    arguments = json.dumps({"name": "Ana Silva", "date": "2027-01-10", "location": "Porto"})
    with FakeOpenAIServer() as model:
        model.enqueue(
            FakeCompletion(tool_calls=(("call_0", "book_tour", arguments),)),
            FakeCompletion(status=500, text="the model crashed after the booking"),
            FakeCompletion(tool_calls=(("call_0", "book_tour", arguments),)),
            FakeCompletion(text="Ana Silva is booked."),
        )
        api = serve(openai_api_key="sk-test", openai_base_url=model.base_url, openai_max_retries=0)
        failed = post(api, "retry-1", "Book Ana Silva in Porto on 2027-01-10")
        assert failed.status_code in (502, 503)
        assert {"conversationId", "turnId"} <= set(failed.json()["error"])
        retried = post(api, "retry-1", "Book Ana Silva in Porto on 2027-01-10")
    assert retried.status_code == 200
    assert retried.json()["toolCalls"][0]["result"]["already_booked"] is True
    assert api.runtime.store.list_tours(DEMO_TENANT_ID).total == 1
    assert post(api, "retry-1", "Book Ana Silva in Porto on 2027-01-10").json() == retried.json()


def test_a_streamed_turn_with_a_key_is_answered_again_as_json(api: RunningApi) -> None:
    body = {"tenantId": DEMO, "message": BOOKING}
    headers = {"Idempotency-Key": "stream-1", "Accept": "text/event-stream"}
    with api.client.stream("POST", "/api/chat", json=body, headers=headers) as response:
        blocks = [b for b in response.read().decode().split("\n\n") if b]
    done = next(b for b in blocks if b.startswith("event: done"))
    streamed = json.loads(done.split("\n")[1].removeprefix("data: "))
    again = post(api, "stream-1")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == streamed
    assert api.runtime.store.list_tours(DEMO_TENANT_ID).total == 1


def test_a_key_for_an_unknown_tenant_is_a_404_and_stores_nothing(api: RunningApi) -> None:
    response = api.client.post(
        "/api/chat",
        json={"tenantId": "e3e70682-c209-1cac-a29f-6fbed82c07cd", "message": "hi"},
        headers={"Idempotency-Key": "unknown-tenant"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_request_its_caller_may_not_make_takes_no_key(serve: Callable[..., RunningApi]) -> None:
    bound, everywhere = "b" * 20, "k" * 20
    api = serve(api_keys=f"{everywhere},{bound}:{DEMO}")
    clinic = str(SECOND_DEMO_TENANT_ID)
    refused = api.client.post(
        "/api/chat",
        json={"tenantId": clinic, "message": "Hello"},
        headers={"Idempotency-Key": "shared-key", "Authorization": f"Bearer {bound}"},
    )
    assert refused.status_code == 403
    # The key was never claimed: whoever may chat there gets a turn of its own, not the 403.
    allowed = api.client.post(
        "/api/chat",
        json={"tenantId": clinic, "message": "Hello"},
        headers={"Idempotency-Key": "shared-key", "Authorization": f"Bearer {everywhere}"},
    )
    assert allowed.status_code == 200
    assert "idempotent-replayed" not in allowed.headers
