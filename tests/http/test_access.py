"""Who may call what over HTTP: the API outside local mode, managed keys per tenant, health
that tells strangers only ok/degraded, and the dashboard's sign-in form and page gate."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import httpx
import pytest

from agent_core.access.authentication import LOCAL_PRINCIPAL
from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from dashboard.web import SESSION_COOKIE
from tests.conftest import TEST_ADMIN
from tests.http.conftest import RunningApi

DEMO, CLINIC = str(DEMO_TENANT_ID), str(SECOND_DEMO_TENANT_ID)
PASSWORD = "correct horse battery staple"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def guarded(serve: Callable[..., RunningApi]) -> RunningApi:
    """The API once the first user exists: no longer local mode."""
    running = serve()
    running.runtime.acting_as(TEST_ADMIN).accounts.add_user("boss@example.com", "admin", password=PASSWORD)
    return running


def test_once_a_user_exists_every_route_needs_a_key_and_health_says_only_ok(guarded: RunningApi) -> None:
    for response in (
        guarded.client.get("/api/tenants"),
        guarded.client.get("/api/openapi.json"),
        guarded.client.get(f"/api/tenants/{DEMO}/tours"),
        guarded.client.post("/api/chat", json={"tenantId": DEMO, "message": "hi"}),
    ):
        assert response.status_code == 401, response.request.url
        assert response.headers["www-authenticate"] == "Bearer"
    assert guarded.client.get("/api/health").json() == {"status": "ok"}
    assert guarded.runtime.store.list_conversations(DEMO_TENANT_ID) == []


def test_a_tenant_key_reads_and_chats_for_its_tenant_only(guarded: RunningApi) -> None:
    admin = guarded.runtime.acting_as(TEST_ADMIN)
    _, secret = admin.accounts.create_api_key("demo gateway", DEMO_TENANT_ID)
    auth = bearer(secret)
    assert [t["id"] for t in guarded.client.get("/api/tenants", headers=auth).json()["data"]] == [DEMO]
    assert guarded.client.get(f"/api/tenants/{DEMO}/tours", headers=auth).status_code == 200
    assert (
        guarded.client.post("/api/chat", json={"tenantId": DEMO, "message": "hi"}, headers=auth).status_code
        == 200
    )
    for path in ("", "/tours", "/notes", "/contacts", "/conversations", "/events"):
        refused = guarded.client.get(f"/api/tenants/{CLINIC}{path}", headers=auth)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "forbidden"
    chat = guarded.client.post("/api/chat", json={"tenantId": CLINIC, "message": "hi"}, headers=auth)
    assert chat.status_code == 403
    assert guarded.runtime.store.list_conversations(SECOND_DEMO_TENANT_ID) == []
    health = guarded.client.get("/api/health", headers=auth).json()
    assert set(health["checks"]) == {"store", "cache", "model", "bus", "voice"}
    assert guarded.client.get("/api/openapi.json", headers=auth).status_code == 200


def test_a_revoked_key_is_refused_from_the_next_request(guarded: RunningApi) -> None:
    admin = guarded.runtime.acting_as(TEST_ADMIN)
    key, secret = admin.accounts.create_api_key("temp", None)
    assert len(guarded.client.get("/api/tenants", headers=bearer(secret)).json()["data"]) == 2
    admin.accounts.revoke_api_key(key.id)
    assert guarded.client.get("/api/tenants", headers=bearer(secret)).status_code == 401


def test_on_a_public_address_the_api_is_closed_even_before_a_user_exists(
    serve: Callable[..., RunningApi],
) -> None:
    running = serve(host="0.0.0.0")
    assert running.client.get("/api/tenants").status_code == 401
    assert running.client.get("/api/health").json() == {"status": "ok"}


def test_in_local_mode_the_api_is_open_and_health_shows_each_part(api: RunningApi) -> None:
    assert api.client.get("/api/tenants").status_code == 200
    assert "checks" in api.client.get("/api/health").json()
    assert api.runtime.authenticator.local_mode()
    assert LOCAL_PRINCIPAL.label == "the local admin"


# -- the dashboard's sign-in -----------------------------------------------------------


@pytest.fixture
def site(serve: Callable[..., RunningApi]) -> RunningApi:
    running = serve(dashboard=True)
    running.runtime.acting_as(TEST_ADMIN).accounts.add_user(
        "ana@example.com", "operator", [DEMO_TENANT_ID], password=PASSWORD
    )
    running.client.follow_redirects = False
    return running


def sign_in(site: RunningApi, password: str, **headers: str) -> httpx.Response:
    return site.client.post(
        "/account/sign-in",
        data={"email": "ana@example.com", "password": password, "next": "/records?tenant=x"},
        headers=headers,
    )


def test_a_page_load_without_a_session_goes_to_the_sign_in_form(site: RunningApi) -> None:
    response = site.client.get("/records?tenant=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/account/sign-in?next=%2Frecords%3Ftenant%3D1"
    form = site.client.get(response.headers["location"])
    assert form.status_code == 200
    assert '<input type="hidden" name="next" value="/records?tenant=1">' in form.text


def test_signing_in_sets_an_http_only_cookie_and_goes_back_where_the_user_was(site: RunningApi) -> None:
    response = sign_in(site, PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/records?tenant=x"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=43200" in cookie
    token = response.cookies[SESSION_COOKIE]
    principal = site.runtime.authenticator.session_principal(token)
    assert principal is not None
    assert principal.label == "ana@example.com"
    assert site.client.get("/").status_code != 303  # the gate lets the session through
    out = site.client.get("/account/sign-out")
    assert out.headers["location"] == "/account/sign-in?signed-out"
    assert site.runtime.authenticator.session_principal(token) is None
    assert "You are signed out." in site.client.get(out.headers["location"]).text


def test_a_wrong_password_is_a_401_page_and_the_sixth_try_is_paused(site: RunningApi) -> None:
    for _ in range(5):
        wrong = sign_in(site, "not the password")
        assert wrong.status_code == 401
        assert "the email or password is wrong" in wrong.text
        assert "set-cookie" not in wrong.headers
    paused = sign_in(site, PASSWORD)
    assert paused.status_code == 429
    assert int(paused.headers["retry-after"]) > 0
    assert "too many failed sign-ins" in paused.text


def test_a_sign_in_posted_from_another_site_is_refused(site: RunningApi) -> None:
    response = sign_in(site, PASSWORD, origin="https://evil.example")
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_after_sign_in_the_user_never_leaves_the_site(site: RunningApi, target: str) -> None:
    response = site.client.post(
        "/account/sign-in", data={"email": "ana@example.com", "password": PASSWORD, "next": target}
    )
    assert response.headers["location"] == "/"


def test_no_password_or_key_is_stored_in_plain_text(guarded: RunningApi, tmp_path: object) -> None:
    import sqlite3

    admin = guarded.runtime.acting_as(TEST_ADMIN)
    _, one_time = admin.accounts.add_user("viewer@example.com", "viewer", [DEMO_TENANT_ID])
    _, secret = admin.accounts.create_api_key("gateway", DEMO_TENANT_ID)
    signed_in = guarded.runtime.authenticator.sign_in("boss@example.com", PASSWORD, "127.0.0.1")
    assert one_time is not None
    database = guarded.runtime.settings.sqlite_path
    dump = "\n".join(sqlite3.connect(database).iterdump())
    for plain in (PASSWORD, one_time, secret, signed_in.token):
        assert plain not in dump
    assert "$argon2id$" in dump
    assert UUID(str(DEMO_TENANT_ID)).hex  # the dump is the real database, not an empty one
