"""Safe prompt changes over HTTP: draft, run, publish through the gate, roll back, scenarios
as JSON and YAML — with the API's error shape, and never across tenants."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from tests.conftest import TEST_ADMIN
from tests.http.conftest import RunningApi

DEMO, CLINIC = str(DEMO_TENANT_ID), str(SECOND_DEMO_TENANT_ID)
BASE = f"/api/tenants/{DEMO}"


def test_a_draft_is_tried_then_blocked_then_fixed_and_published(api: RunningApi) -> None:
    client = api.client
    assert client.get(f"{BASE}/prompt/draft").status_code == 404
    saved = client.put(f"{BASE}/prompt/draft", json={"prompt": "You are Max, the host of Acme."})
    assert saved.status_code == 200
    assert (saved.json()["baseVersion"], saved.json()["author"]) == (1, "the local admin")
    run = client.post(f"{BASE}/scenario-runs", json={"target": "draft", "repetitions": 2})
    assert run.status_code == 201
    assert (run.json()["passed"], run.json()["summary"]) == (False, "4 of 5 scenarios passed")
    blocked = client.post(f"{BASE}/prompt/publish", json={})
    assert blocked.status_code == 409
    error = blocked.json()["error"]
    assert error["code"] == "gate_blocked"
    run_id = error["details"][0]["message"]
    report = client.get(f"{BASE}/scenario-runs/{run_id}").json()["report"]
    greeting = next(r for r in report["results"] if r["name"] == "Greets without using a tool")
    assert "Acme" in greeting["attempts"][0]["steps"][0]["reply"]
    client.put(f"{BASE}/prompt/draft", json={"prompt": "You are Max, the host of Demo Tours."})
    published = client.post(f"{BASE}/prompt/publish", json={})
    assert published.status_code == 200
    assert (published.json()["version"], published.json()["run"]["passed"]) == (2, True)
    assert client.get(f"{BASE}/prompt/draft").status_code == 404
    reply = client.post("/api/chat", json={"tenantId": DEMO, "message": "Hello"}).json()["reply"]
    assert "Max" in reply
    targets = [r["target"] for r in client.get(f"{BASE}/scenario-runs").json()["data"]]
    assert targets == ["draft", "draft", "draft"]


def test_a_roll_back_past_failing_scenarios_needs_an_admins_reason(
    serve: Callable[..., RunningApi],
) -> None:
    api = serve()
    admin = api.runtime.acting_as(TEST_ADMIN)
    admin.prompts.publish(DEMO_TENANT_ID, "You are Bo of Nowhere.", override_reason="setting up the test")
    admin.prompts.publish(DEMO_TENANT_ID, "You are Ava of Demo Tours.")
    blocked = api.client.post(f"{BASE}/prompt/rollback", json={"version": 2})
    assert blocked.status_code == 409
    forced = api.client.post(
        f"{BASE}/prompt/rollback", json={"version": 2, "overrideReason": "customer asked"}
    )
    assert forced.status_code == 200  # local mode acts as an admin
    assert forced.json()["overridden"] is True
    missing = api.client.post(f"{BASE}/prompt/rollback", json={"version": 9})
    assert missing.status_code == 404


def test_scenarios_are_added_replaced_deleted_and_moved_as_yaml(api: RunningApi) -> None:
    client = api.client
    created = client.post(
        f"{BASE}/scenarios",
        json={"name": "Says hi", "steps": [{"say": "Hello", "expect": {"replyContains": ["hi"]}}]},
    )
    assert created.status_code == 422
    assert created.json()["error"]["details"][0]["field"].startswith("steps.0.expect")
    created = client.post(
        f"{BASE}/scenarios",
        json={"name": "Says hi", "steps": [{"say": "Hello", "expect": {"no_tools": True}}]},
    )
    assert created.status_code == 201
    scenario_id = created.json()["id"]
    replaced = client.put(
        f"{BASE}/scenarios/{scenario_id}", json={"name": "Says hello", "steps": [{"say": "Hello"}]}
    )
    assert replaced.json()["name"] == "Says hello"
    names = [s["name"] for s in client.get(f"{BASE}/scenarios").json()["data"]]
    assert "Says hello" in names
    assert len(names) == 6
    exported = client.get(f"{BASE}/scenarios/export").json()["yaml"]
    moved = client.post(f"/api/tenants/{CLINIC}/scenarios/import", json={"yaml": exported})
    assert moved.json() == {"added": 1, "replaced": 5}
    assert client.delete(f"{BASE}/scenarios/{scenario_id}").status_code == 204
    assert client.delete(f"{BASE}/scenarios/{scenario_id}").status_code == 404
    bad = client.post(f"{BASE}/scenarios/import", json={"yaml": "- {name: A, steps: []}"})
    assert bad.status_code == 422
    assert len(client.get(f"{BASE}/scenarios").json()["data"]) == 5


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/prompt/draft", {"prompt": ""}),
        ("PUT", "/prompt/draft", {"prompt": "x", "extra": 1}),
        ("POST", "/prompt/publish", {"overrideReason": 5}),
        ("POST", "/scenario-runs", {"target": "tomorrow"}),
        ("POST", "/scenario-runs", {"repetitions": 21}),
        ("POST", "/scenarios/import", {"yaml": "a: ["}),
    ],
)
def test_bad_bodies_are_422_and_write_nothing(api: RunningApi, method: str, path: str, body: object) -> None:
    answer = api.client.request(method, f"{BASE}{path}", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "validation_error"
    assert api.runtime.store.get_prompt_draft(DEMO_TENANT_ID) is None
    assert api.runtime.store.list_scenario_runs(DEMO_TENANT_ID) == []


def test_a_tenant_key_cannot_reach_another_tenants_drafts_scenarios_or_runs(
    serve: Callable[..., RunningApi],
) -> None:
    api = serve()
    admin = api.runtime.acting_as(TEST_ADMIN)
    admin.accounts.add_user("boss@example.com", "admin", password="correct horse battery staple")
    _, secret = admin.accounts.create_api_key("demo gateway", DEMO_TENANT_ID)
    auth = {"Authorization": f"Bearer {secret}"}
    other = f"/api/tenants/{CLINIC}"
    for method, path, body in (
        ("GET", "/prompt/draft", None),
        ("PUT", "/prompt/draft", {"prompt": "You are Eve."}),
        ("POST", "/prompt/publish", {}),
        ("GET", "/scenarios", None),
        ("GET", "/scenarios/export", None),
        ("POST", "/scenario-runs", {}),
        ("GET", "/scenario-runs", None),
    ):
        refused = api.client.request(method, f"{other}{path}", json=body, headers=auth)
        assert refused.status_code == 403, path
    assert api.runtime.store.get_prompt_draft(SECOND_DEMO_TENANT_ID) is None
    assert api.client.get(f"{BASE}/scenarios", headers=auth).status_code == 200
