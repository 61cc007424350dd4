"""The HTTP API with a real client over loopback: the seed's curl stories and every error."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from starlette.routing import Route

from agent_core.domain import (
    Contact,
    ListenerRun,
    Note,
    Tenant,
    ToolCallRecord,
    Tour,
    TurnResult,
    Usage,
)
from agent_core.http.routes import ApiRoutes
from agent_core.http.schemas import (
    ChatResponse,
    ContactOut,
    ConversationOut,
    DayOut,
    ListenerRunOut,
    NoteOut,
    Shape,
    TenantOut,
    ToolCallOut,
    ToolOut,
    TourOut,
    UsageOut,
)
from agent_core.store.analytics import DayCounts, ToolCounts
from agent_core.store.conversation_log import ConversationOverview
from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from tests.conftest import new_supabase_project
from tests.http.conftest import RunningApi
from tests.supabase.project import GrantMode, SupabaseProject

DEMO = str(DEMO_TENANT_ID)
BOOKING = "I want to book a tour for John Smith on 2027-03-15 in Paris."


def chat(api: RunningApi, message: str, tenant: str = DEMO, **extra: object) -> dict[str, Any]:
    response = api.client.post("/api/chat", json={"tenantId": tenant, "message": message, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_of(response: httpx.Response, *, of_turn: bool = False) -> dict[str, Any]:
    """The error of a response in the one shape; `of_turn`: it also names the turn it ended."""
    body = response.json()
    assert set(body) == {"error"}
    turn_keys = {"conversationId", "turnId"} if of_turn else set()
    assert set(body["error"]) == {"code", "message", "details"} | turn_keys
    error: dict[str, Any] = body["error"]
    return error


@pytest.fixture(scope="module")
def new_projects() -> Iterator[dict[str, SupabaseProject]]:
    """A project of each grant mode created for this module, schema.sql pasted in, as a new
    user has it."""
    with new_supabase_project(GrantMode.TODAY) as today, new_supabase_project(GrantMode.LEGACY) as legacy:
        yield {f"supabase-{GrantMode.TODAY}": today, f"supabase-{GrantMode.LEGACY}": legacy}


@pytest.fixture(
    params=[
        "sqlite",
        *(pytest.param(f"supabase-{mode}", marks=pytest.mark.postgres) for mode in GrantMode),
    ]
)
def seed_api(request: pytest.FixtureRequest, serve: Callable[..., RunningApi]) -> RunningApi:
    """The API on the embedded store, then on a new Supabase project of each grant mode (the
    real PostgREST): the seed's curl stories hold on every one."""
    if request.param == "sqlite":
        return serve()
    project = request.getfixturevalue("new_projects")[request.param]
    return serve(supabase_url=project.url, supabase_service_role_key=project.service_role_key)


def test_health_reports_each_component(seed_api: RunningApi) -> None:
    response = seed_api.client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"store", "cache", "model", "bus", "voice"}
    assert body["checks"]["model"]["backend"] == "demo (offline, rule-based)"


def test_health_is_503_when_the_store_is_unreachable(api: RunningApi) -> None:
    api.runtime.store.close()
    response = api.client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["status"] == "down"


def test_the_seed_chat_without_a_tool(seed_api: RunningApi) -> None:
    body = chat(seed_api, "Hello, what can you help me with?")
    assert body["toolCalls"] == []
    assert "I'm Ava" in str(body["reply"])
    assert set(body) == {"conversationId", "turnId", "reply", "toolCalls", "model", "usage", "latencyMs"}


def test_the_seed_tool_stories(seed_api: RunningApi) -> None:
    api = seed_api
    booked = chat(api, BOOKING)
    (call,) = booked["toolCalls"]
    assert (call["name"], call["status"], call["arguments"]["location"]) == (
        "book_tour",
        "succeeded",
        "Paris",
    )
    assert set(call) == {"id", "name", "arguments", "status", "result", "error", "durationMs"}
    noted = chat(api, "Please note that the client prefers morning tours and vegetarian meals.")
    assert noted["toolCalls"][0]["name"] == "take_note"
    contact = chat(
        api, "Update contact info for Sarah Jones: email is sarah@example.com, phone is +1-555-0123."
    )
    assert contact["toolCalls"][0]["result"]["email"] == "sarah@example.com"
    seed_date = chat(api, "I want to book a tour for John Smith on 2025-03-15 in Paris.")
    assert seed_date["toolCalls"][0]["status"] == "failed"
    assert "in the past" in seed_date["toolCalls"][0]["error"]


def test_a_conversation_continues_with_its_id(api: RunningApi) -> None:
    first = chat(api, "Book a tour in Rome")
    second = chat(api, "Zoë Martin, on 5 January 2027", conversationId=first["conversationId"])
    assert second["conversationId"] == first["conversationId"]
    assert second["toolCalls"][0]["arguments"] == {
        "name": "Zoë Martin",
        "date": "2027-01-05",
        "location": "Rome",
    }


def conversations(api: RunningApi) -> int:
    return len(api.runtime.store.list_conversations(DEMO_TENANT_ID))


@pytest.mark.parametrize(
    ("body", "status", "code", "fields"),
    [
        ({"tenantId": "not-a-uuid", "message": ""}, 422, "validation_error", {"tenantId", "message"}),
        ({"message": "hi"}, 422, "validation_error", {"tenantId"}),
        ({"tenantId": DEMO, "message": "x" * 4001}, 422, "validation_error", {"message"}),
        ({"tenantId": DEMO, "message": 42}, 422, "validation_error", {"message"}),
        (
            {"tenantId": DEMO, "message": "hi", "conversationId": "nope"},
            422,
            "validation_error",
            {"conversationId"},
        ),
        ([1, 2], 422, "validation_error", {"body"}),
        ({"tenantId": str(uuid4()), "message": "hi"}, 404, "not_found", set()),
        ({"tenantId": DEMO, "message": "hi", "conversationId": str(uuid4())}, 404, "not_found", set()),
    ],
)
def test_bad_chat_requests_get_a_clear_error_and_write_nothing(
    api: RunningApi, body: object, status: int, code: str, fields: set[str]
) -> None:
    before = conversations(api)
    response = api.client.post("/api/chat", json=body)
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code
    assert {d["field"] for d in error["details"]} == fields
    assert conversations(api) == before


def test_malformed_json_is_400(api: RunningApi) -> None:
    response = api.client.post(
        "/api/chat", content=b'{"tenantId": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_oversized_bodies_are_413(api: RunningApi) -> None:
    response = api.client.post(
        "/api/chat", content=b"x" * 70_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


def test_unknown_routes_and_methods_use_the_error_shape(api: RunningApi) -> None:
    assert error_of(api.client.get("/api/nope"))["code"] == "not_found"
    response = api.client.get("/api/chat")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"
    # The methods of the route that takes the path, not of every template it would fit.
    export = api.client.options(f"/api/tenants/{DEMO}/scenarios/export")
    assert (export.status_code, export.headers["allow"]) == (405, "GET, HEAD")


def test_an_unreachable_model_is_503_and_the_message_is_kept(serve: Callable[..., RunningApi]) -> None:
    api = serve(openai_api_key="sk-test", openai_base_url="http://127.0.0.1:9/v1", openai_max_retries=0)
    response = api.client.post("/api/chat", json={"tenantId": DEMO, "message": "hello"})
    assert response.status_code == 503
    error = error_of(response, of_turn=True)
    assert error["code"] == "model_unavailable"
    (conversation,) = api.runtime.store.list_conversations(DEMO_TENANT_ID)
    assert conversation.last_message == "hello"
    # The client can retry in the same conversation: the error names it.
    assert error["conversationId"] == str(conversation.id)


def test_the_turn_streams_as_server_sent_events(api: RunningApi) -> None:
    with api.client.stream(
        "POST",
        "/api/chat",
        json={"tenantId": DEMO, "message": BOOKING},
        headers={"Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [
            (
                block.split("\n")[0].removeprefix("event: "),
                json.loads(block.split("\n")[1].removeprefix("data: ")),
            )
            for block in response.read().decode().strip().split("\n\n")
        ]
    names = [name for name, _ in events]
    assert names[:3] == ["turn.started", "tool.started", "tool.finished"]
    assert names[-1] == "done"
    assert set(names[3:-1]) == {"reply.delta"}
    assert events[2][1]["status"] == "succeeded"
    done = events[-1][1]
    assert done["reply"] == "".join(data["text"] for name, data in events if name == "reply.delta").strip()


def test_a_streamed_turn_for_an_unknown_tenant_is_a_plain_404(api: RunningApi) -> None:
    response = api.client.post(
        "/api/chat", json={"tenantId": str(uuid4()), "message": "hi"}, headers={"Accept": "text/event-stream"}
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_records_are_read_page_by_page_with_a_cursor(api: RunningApi) -> None:
    for day in ("2027-01-05", "2027-02-05", "2027-03-05"):
        chat(api, f"Book a tour for Ana Silva on {day} in Porto")
    first = api.client.get(f"/api/tenants/{DEMO}/tours", params={"limit": 2}).json()
    assert [t["tourDate"] for t in first["data"]] == ["2027-01-05", "2027-02-05"]
    assert first["total"] == 3
    second = api.client.get(
        f"/api/tenants/{DEMO}/tours", params={"limit": 2, "cursor": first["nextCursor"]}
    ).json()
    assert [t["tourDate"] for t in second["data"]] == ["2027-03-05"]
    assert second["nextCursor"] is None
    filtered = api.client.get(
        f"/api/tenants/{DEMO}/tours", params={"from": "2027-02-01", "order": "desc"}
    ).json()
    assert [t["tourDate"] for t in filtered["data"]] == ["2027-03-05", "2027-02-05"]
    assert api.client.get(f"/api/tenants/{SECOND_DEMO_TENANT_ID}/tours").json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [{"cursor": "not-ours"}, {"limit": 0}, {"limit": "many"}, {"from": "yesterday"}, {"sort": "tenant_id"}],
)
def test_bad_list_parameters_are_422(api: RunningApi, params: dict[str, str | int]) -> None:
    response = api.client.get(f"/api/tenants/{DEMO}/tours", params=params)
    assert response.status_code == 422
    assert error_of(response)["code"] == "validation_error"


def test_notes_contacts_conversations_and_events_are_readable(api: RunningApi) -> None:
    booked = chat(api, BOOKING)
    chat(api, "Please note that Zoë likes boats.")
    chat(api, "Update contact info for Sarah Jones: email is sarah@example.com")
    assert api.client.get(f"/api/tenants/{DEMO}/notes").json()["data"][0]["content"] == "Zoë likes boats."
    assert api.client.get(f"/api/tenants/{DEMO}/contacts", params={"search": "sarah"}).json()["total"] == 1
    listed = api.client.get(f"/api/tenants/{DEMO}/conversations", params={"limit": 2}).json()
    assert len(listed["data"]) == 2
    assert listed["nextCursor"] is not None
    detail = api.client.get(f"/api/tenants/{DEMO}/conversations/{booked['conversationId']}").json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert detail["toolCalls"][0]["name"] == "book_tour"
    other = api.client.get(f"/api/tenants/{SECOND_DEMO_TENANT_ID}/conversations/{booked['conversationId']}")
    assert other.status_code == 404
    api.runtime.bus.close()
    events = api.client.get(f"/api/tenants/{DEMO}/events", params={"limit": 100}).json()
    names = [e["name"] for e in events["data"]]
    assert "tour.booked" in names
    assert (
        api.client.get(f"/api/tenants/{DEMO}/events", params={"cursor": events["nextCursor"]}).json()["data"]
        == []
    )


def test_tenants_are_listed_and_unknown_ones_are_404(api: RunningApi) -> None:
    names = [t["name"] for t in api.client.get("/api/tenants").json()["data"]]
    assert names == ["Demo Tours", "Harbour Clinic"]
    assert api.client.get(f"/api/tenants/{uuid4()}/tours").status_code == 404
    assert api.client.get("/api/tenants/not-a-uuid/tours").status_code == 422


KEY = "k" * 20
BOUND = "b" * 20


@pytest.fixture
def locked(serve: Callable[..., RunningApi]) -> RunningApi:
    return serve(api_keys=f"{KEY},{BOUND}:{DEMO}")


def test_with_api_keys_every_route_but_health_needs_one(locked: RunningApi) -> None:
    assert locked.client.get("/api/health").status_code == 200
    for response in (
        locked.client.get("/api/tenants"),
        locked.client.post("/api/chat", json={"tenantId": DEMO, "message": "hi"}),
        locked.client.get("/api/tenants", headers={"Authorization": "Bearer wrong-key-wrong-key"}),
        locked.client.get("/api/tenants", headers={"Authorization": f"Basic {KEY}"}),
    ):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert error_of(response)["code"] == "unauthorized"
    ok = locked.client.get("/api/tenants", headers={"Authorization": f"Bearer {KEY}"})
    assert len(ok.json()["data"]) == 2


def test_a_tenant_bound_key_is_refused_for_other_tenants(locked: RunningApi) -> None:
    auth = {"Authorization": f"Bearer {BOUND}"}
    assert [t["id"] for t in locked.client.get("/api/tenants", headers=auth).json()["data"]] == [DEMO]
    own = locked.client.post("/api/chat", json={"tenantId": DEMO, "message": "hi"}, headers=auth)
    assert own.status_code == 200
    other = str(SECOND_DEMO_TENANT_ID)
    refused = locked.client.post("/api/chat", json={"tenantId": other, "message": "hi"}, headers=auth)
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "forbidden"
    assert locked.client.get(f"/api/tenants/{other}/tours", headers=auth).status_code == 403
    assert locked.runtime.store.list_conversations(SECOND_DEMO_TENANT_ID) == []


def test_the_openapi_document_describes_every_route(api: RunningApi) -> None:
    document = api.client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper()) for path, operations in document["paths"].items() for method in operations
    }

    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(word.title() for word in rest)

    catch_all = "/api/{path:path}"
    mounted = {
        (re.sub(r"\{(\w+)\}", lambda m: "{" + camel(m.group(1)) + "}", route.path), method)
        for route in ApiRoutes(lambda: api.runtime).routes()
        # OpenAPI describes HTTP operations: not the catch-all, nor the live call's WebSocket.
        if isinstance(route, Route) and route.path != catch_all
        for method in route.methods or ()
        if method != "HEAD"  # Starlette adds HEAD to every GET
    }
    assert documented == mounted
    assert "ChatResponse" in document["components"]["schemas"]


def test_every_reference_in_the_openapi_document_resolves(api: RunningApi) -> None:
    document = api.client.get("/api/openapi.json").json()

    def references(node: object) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [r for value in node.values() for r in references(value)]
        if isinstance(node, list):
            return [r for item in node for r in references(item)]
        return []

    found = references(document)
    assert found
    for reference in found:
        target: object = document
        for part in reference.removeprefix("#/").split("/"):
            assert isinstance(target, dict)
            assert part in target, f"{reference} does not resolve"
            target = target[part]


@pytest.mark.parametrize(
    "raw",
    [b'{"tenantId": "%s", "message": "hi \\u0000"}', b'{"tenantId": "%s", "message": "half \\ud800 pair"}'],
)
def test_text_a_database_cannot_store_is_refused_not_a_server_error(api: RunningApi, raw: bytes) -> None:
    response = api.client.post(
        "/api/chat", content=raw % DEMO.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == "message"


@pytest.mark.parametrize(
    ("model", "record"),
    [
        (TenantOut, Tenant),
        (TourOut, Tour),
        (NoteOut, Note),
        (ContactOut, Contact),
        (ConversationOut, ConversationOverview),
        (DayOut, DayCounts),
        (ToolOut, ToolCounts),
        (ToolCallOut, ToolCallRecord),
        (ChatResponse, TurnResult),
        (UsageOut, Usage),
        (ListenerRunOut, ListenerRun),
    ],
)
def test_every_response_field_is_read_from_its_domain_record(model: type[Shape], record: type) -> None:
    attributes = {f.name for f in dataclasses.fields(record)}
    attributes |= {name for name, value in vars(record).items() if isinstance(value, property)}
    # A field reads the attribute of its own name, or the one its explicit validation alias names.
    sources = {
        str(field.validation_alias) if field.alias_priority == 2 and field.validation_alias else name
        for name, field in model.model_fields.items()
    }
    assert sources <= attributes


def test_a_message_to_a_conversation_that_is_answering_is_409(api: RunningApi) -> None:
    first = chat(api, "Hello")
    # Another client's turn in the same conversation is still running (it holds the lease).
    api.runtime.store.start_turn(DEMO_TENANT_ID, UUID(first["conversationId"]), "Still typing")
    response = api.client.post(
        "/api/chat",
        json={"tenantId": DEMO, "message": "Are you there?", "conversationId": first["conversationId"]},
    )
    assert response.status_code == 409
    assert response.headers["retry-after"] == "1"
    assert error_of(response)["code"] == "conversation_busy"


@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_not_sent_as_json_is_415_and_runs_nothing(api: RunningApi, kind: str) -> None:
    body = json.dumps({"tenantId": DEMO, "message": BOOKING}).encode()
    response = api.client.post("/api/chat", content=body, headers={"Content-Type": kind})
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert api.runtime.store.list_conversations(DEMO_TENANT_ID) == []


def test_json_nested_too_deeply_is_a_400_not_a_crash(api: RunningApi) -> None:
    deep = b'{"tenantId": "' + DEMO.encode() + b'", "message": "hi", "x": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    response = api.client.post("/api/chat", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["message"] == "the body's JSON is nested too deeply"


def test_a_cursor_past_the_last_row_is_an_empty_page(api: RunningApi) -> None:
    response = api.client.get(f"/api/tenants/{DEMO}/tours", params={"cursor": "9" * 12})
    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["nextCursor"] is None


@pytest.mark.parametrize("cursor", ["9" * 13, "-1", "bzox", "1.0"])
def test_a_cursor_that_is_not_a_position_is_refused(api: RunningApi, cursor: str) -> None:
    response = api.client.get(f"/api/tenants/{DEMO}/tours", params={"cursor": cursor})
    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == "cursor"


def test_only_the_allowed_host_names_are_answered(serve: Callable[..., RunningApi]) -> None:
    api = serve(allowed_hosts="agent.example.com, 127.0.0.1")
    assert api.client.get("/api/health").status_code == 200
    rebound = api.client.get("/api/health", headers={"Host": "attacker.example"})
    assert rebound.status_code == 400
    assert error_of(rebound)["code"] == "unknown_host"
    named = api.client.get("/api/health", headers={"Host": "Agent.Example.com:8501"})
    assert named.status_code == 200


def test_a_retry_of_a_turn_that_did_not_fail_is_a_conflict_and_runs_nothing(api: RunningApi) -> None:
    answered = chat(api, "Hello")
    conversation = answered["conversationId"]
    retry = {"conversationId": conversation, "retryOf": answered["turnId"]}
    response = api.client.post("/api/chat", json={"tenantId": DEMO, "message": "Hello", **retry})
    assert response.status_code == 409
    assert error_of(response)["code"] == "not_retryable"
    assert len(api.runtime.store.list_turns(DEMO_TENANT_ID, UUID(conversation))) == 1
