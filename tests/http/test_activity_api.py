"""What happened, over HTTP: the conversation log with its filters, analytics for a tenant
and for every tenant, and stopping a running turn."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from tests.conftest import TEST_ADMIN
from tests.http.conftest import RunningApi

DEMO = str(DEMO_TENANT_ID)
LOG = f"/api/tenants/{DEMO}/conversations"


def chat(api: RunningApi, message: str, **headers: str) -> dict[str, Any]:
    response = api.client.post("/api/chat", json={"tenantId": DEMO, "message": message}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def talked(api: RunningApi) -> dict[str, str]:
    """Three conversations of the demo tenant: a booking, a note, a greeting."""
    return {
        "booking": chat(api, "I want to book a tour for John Smith on 2027-03-15 in Paris.")[
            "conversationId"
        ],
        "note": chat(api, "Please note that the client prefers morning tours.")["conversationId"],
        "greeting": chat(api, "Hello, what can you help me with?")["conversationId"],
    }


def listed(api: RunningApi, **params: str) -> list[str]:
    response = api.client.get(LOG, params=params)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["data"]]


def test_the_log_lists_every_conversation_with_what_it_did(api: RunningApi, talked: dict[str, str]) -> None:
    body = api.client.get(LOG).json()
    assert body["total"] == 3
    assert [row["id"] for row in body["data"]] == [talked["greeting"], talked["note"], talked["booking"]]
    booking = body["data"][2]
    assert booking["outcomes"] == ["booked"]
    assert booking["channel"] == "api"
    assert booking["firstMessage"].startswith("I want to book a tour for John Smith")
    assert (booking["turns"], booking["failedTurns"]) == (1, 0)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"outcome": "booked"}, ["booking"]),
        ({"outcome": "noted"}, ["note"]),
        ({"tool": "take_note"}, ["note"]),
        ({"customer": "john smith"}, ["booking"]),
        ({"q": "WHAT CAN YOU"}, ["greeting"]),
        ({"channel": "dashboard"}, []),
        ({"from": "2020-01-01", "to": "2020-01-31"}, []),
    ],
)
def test_the_log_filters_by_outcome_tool_customer_text_channel_and_day(
    api: RunningApi, talked: dict[str, str], params: dict[str, str], expected: list[str]
) -> None:
    assert listed(api, **params) == [talked[name] for name in expected]


def test_the_log_pages_with_a_cursor_until_the_last_row(api: RunningApi, talked: dict[str, str]) -> None:
    first = api.client.get(LOG, params={"limit": 2}).json()
    second = api.client.get(LOG, params={"limit": 2, "cursor": first["nextCursor"]}).json()
    assert [len(first["data"]), len(second["data"])] == [2, 1]
    assert second["nextCursor"] is None
    assert {r["id"] for r in first["data"] + second["data"]} == set(talked.values())


def test_a_text_in_very_many_conversations_says_its_total_is_a_lower_bound_and_pages_on(
    api: RunningApi, talked: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.runtime.store, "broad_search", 2)
    first = api.client.get(LOG, params={"q": "a", "limit": 2}).json()
    assert (first["total"], first["totalIsLowerBound"]) == (2, True)
    rest = api.client.get(LOG, params={"q": "a", "limit": 2, "cursor": first["nextCursor"]}).json()
    assert {r["id"] for r in first["data"] + rest["data"]} == set(talked.values())
    assert api.client.get(LOG).json()["totalIsLowerBound"] is False


@pytest.mark.parametrize(
    ("params", "field"),
    [({"outcome": "won"}, "outcome"), ({"channel": "fax"}, "channel"), ({"from": "yesterday"}, "from")],
)
def test_a_filter_that_makes_no_sense_is_a_422_naming_it(
    api: RunningApi, params: dict[str, str], field: str
) -> None:
    response = api.client.get(LOG, params=params)
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_analytics_count_the_tenants_turns_bookings_and_latency(
    api: RunningApi, talked: dict[str, str]
) -> None:
    today = datetime.now(UTC).date().isoformat()  # turns are stamped by the store's clock
    body = api.client.get(f"/api/tenants/{DEMO}/analytics").json()
    assert (body["tenantId"], body["lastDay"]) == (DEMO, today)
    assert len(body["days"]) == 30, "every day of the default range, quiet ones as zeros"
    assert body["days"][-1] == {
        "day": today,
        "conversations": 3,
        "turns": 3,
        "failedTurns": 0,
        "tokens": 0,
        "withheldClaims": 0,
    }
    assert (body["turns"], body["bookings"], body["cancellations"], body["withheldClaims"]) == (3, 1, 0, 0)
    assert {t["name"]: t["calls"] for t in body["tools"]} == {"book_tour": 1, "take_note": 1}
    assert body["latencyMs"]["turn"]["p50"] > 0
    assert body["estimatedCostUsd"] == 0.0, "the demo model uses no tokens"

    quiet = api.client.get(
        f"/api/tenants/{DEMO}/analytics", params={"from": "2020-01-01", "to": "2020-01-02"}
    )
    assert quiet.json()["turns"] == 0
    assert quiet.json()["latencyMs"]["turn"] == {"p50": None, "p90": None, "p99": None}


def test_analytics_refuse_a_range_backwards_or_longer_than_a_year(api: RunningApi) -> None:
    backwards = api.client.get(
        f"/api/tenants/{DEMO}/analytics", params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert (backwards.status_code, backwards.json()["error"]["message"]) == (
        422,
        "the first day is after the last day",
    )
    long = api.client.get("/api/analytics", params={"from": "2020-01-01", "to": "2026-01-01"})
    assert long.status_code == 422
    assert "at most 366 days" in long.json()["error"]["message"]


def test_only_admins_see_every_tenants_analytics_and_a_key_sees_its_own_tenant_only(
    api: RunningApi, talked: dict[str, str]
) -> None:
    admin = api.runtime.acting_as(TEST_ADMIN)
    admin.accounts.add_user("boss@example.com", "admin", password="correct horse battery staple")
    _, tenant_key = admin.accounts.create_api_key("phone gateway", DEMO_TENANT_ID)
    _, admin_key = admin.accounts.create_api_key("reporting", None)
    as_tenant = {"Authorization": f"Bearer {tenant_key}"}
    assert api.client.get("/api/analytics", headers=as_tenant).status_code == 403
    other = f"/api/tenants/{SECOND_DEMO_TENANT_ID}"
    assert api.client.get(f"{other}/analytics", headers=as_tenant).status_code == 403
    assert api.client.get(f"{other}/conversations", headers=as_tenant).status_code == 403
    everyone = api.client.get("/api/analytics", headers={"Authorization": f"Bearer {admin_key}"})
    assert everyone.status_code == 200
    assert (everyone.json()["tenantId"], everyone.json()["turns"]) == (None, 3)


@pytest.fixture
def slow_model() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(text="Far too late.", delay=20))
        yield server


def test_a_running_turn_is_stopped_over_the_api_and_its_stream_says_so(
    serve: Callable[..., RunningApi], slow_model: FakeOpenAIServer
) -> None:
    api = serve(openai_api_key="sk-test", openai_base_url=slow_model.base_url, openai_max_retries=0)
    events: list[tuple[str, Any]] = []
    started = threading.Event()

    def listen() -> None:
        with httpx.stream(
            "POST",
            f"{api.url}/api/chat",
            json={"tenantId": DEMO, "message": "Is anyone there?"},
            headers={"Accept": "text/event-stream"},
            timeout=30,
        ) as response:
            for block in response.iter_text():
                for part in block.strip().split("\n\n"):
                    name, data = part.split("\n")
                    events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
                    started.set()

    listener = threading.Thread(target=listen)
    listener.start()
    assert started.wait(10)
    name, first = events[0]
    assert name == "turn.started"
    stop = f"/api/tenants/{DEMO}/turns/{first['turnId']}/stop"
    assert (
        api.client.post(f"/api/tenants/{SECOND_DEMO_TENANT_ID}/turns/{first['turnId']}/stop").status_code
        == 404
    )
    response = api.client.post(stop)
    assert (response.status_code, response.json()) == (202, {"stopped": True})
    listener.join(10)
    assert not listener.is_alive()
    assert events[-1][0] == "error"
    assert events[-1][1]["error"]["code"] == "turn_stopped"
    assert events[-1][1]["error"]["message"] == "stopped by the local admin"
    assert api.client.post(stop).status_code == 404, "it is no longer running"
