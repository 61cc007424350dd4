"""The API's reference page: the OpenAPI document in Swagger UI, every file served by the
app itself, and only for those who may read the document (or are signed in beside it)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from dashboard.web import SESSION_COOKIE
from tests.conftest import TEST_ADMIN
from tests.http.conftest import RunningApi

PASSWORD = "correct horse battery staple"


def embedded_document(page: str) -> object:
    found = re.search(r'<script id="openapi-document" type="application/json">(.*?)</script>', page, re.S)
    assert found is not None, "the page carries the document"
    return json.loads(found.group(1))


def test_the_reference_page_shows_the_openapi_document_with_files_of_its_own(
    serve: Callable[..., RunningApi],
) -> None:
    api = serve()
    page = api.client.get("/api/docs")
    assert page.status_code == 200
    assert embedded_document(page.text) == api.client.get("/api/openapi.json").json()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, "the page loads its script and style"
    for source in sources:
        assert source.startswith("/api/docs/"), f"{source} would leave the app (a CDN)"
        served = api.client.get(source)
        assert served.status_code == 200, source
        assert served.content, source


def test_once_the_api_needs_a_key_the_page_needs_one_or_a_dashboard_session(
    serve: Callable[..., RunningApi],
) -> None:
    site = serve(dashboard=True)
    admin = site.runtime.acting_as(TEST_ADMIN)
    admin.accounts.add_user("boss@example.com", "admin", password=PASSWORD)
    refused = site.client.get("/api/docs")
    assert refused.status_code == 401
    assert "openapi-document" not in refused.text
    assert "Sign in" in refused.text
    assert site.client.get("/api/docs", headers={"Authorization": "Bearer not-a-key"}).status_code == 401
    _, secret = admin.accounts.create_api_key("docs reader", None)
    assert site.client.get("/api/docs", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    signed_in = site.client.post(
        "/account/sign-in", data={"email": "boss@example.com", "password": PASSWORD, "next": "/"}
    )
    assert SESSION_COOKIE in signed_in.cookies
    page = site.client.get("/api/docs")  # the client sends the session cookie back
    assert page.status_code == 200
    assert "openapi-document" in page.text
