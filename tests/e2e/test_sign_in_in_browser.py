"""Signing in to the dashboard in Chromium: the form, the HttpOnly cookie, what an operator
sees, sign-out, and the pause after repeated wrong passwords — with its audit entries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from dashboard.web import SESSION_COOKIE
from tests.conftest import make_workspace
from tests.e2e.conftest import running_dashboard, shoot

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard with an admin, an operator of the demo tenant, and a target for guessing."""
    database = tmp_path_factory.mktemp("sign-in") / "dashboard.sqlite3"
    store = SqliteStore(database)
    admin = make_workspace(store)
    for email, role, tenants in (
        ("boss@example.com", "admin", []),
        ("ana@example.com", "operator", [DEMO_TENANT_ID]),
        ("target@example.com", "operator", [DEMO_TENANT_ID]),
    ):
        admin.accounts.add_user(email, role, tenants, password=PASSWORD)
    store.close()
    with running_dashboard(database) as url:
        yield url


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_operator_signs_in_sees_only_its_tenant_and_signs_out(page: Page, site: str) -> None:
    page.goto(f"{site}/?tenant={SECOND_DEMO_TENANT_ID}")
    expect(page.get_by_role("heading", name="Voice Assistant Mini")).to_be_visible(timeout=30_000)
    assert "/account/sign-in" in page.url
    shoot(page, "sign-in")
    sign_in(page, "ana@example.com", PASSWORD)
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("The tenant in the link is not one you can open")).to_be_visible()
    expect(page.get_by_text("Signed in as ana@example.com · operator")).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    expect(page.get_by_role("link", name="Audit")).to_be_visible()
    (cookie,) = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find(SESSION_COOKIE) == -1
    shoot(page, "signed-in-operator")
    page.get_by_role("link", name="Sign out").click()
    expect(page.get_by_label("Password")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(site)
    expect(page.get_by_label("Password")).to_be_visible(timeout=30_000)


def test_wrong_passwords_pause_sign_in_and_the_admin_sees_each_attempt(page: Page, site: str) -> None:
    page.goto(f"{site}/account/sign-in")
    for _ in range(5):
        sign_in(page, "target@example.com", "not my password")
        expect(page.get_by_role("alert")).to_contain_text("the email or password is wrong")
    sign_in(page, "target@example.com", PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("too many failed sign-ins")
    shoot(page, "sign-in-paused")
    sign_in(page, "boss@example.com", PASSWORD)
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible(timeout=30_000)
    who = page.get_by_label("Who")
    who.fill("anonymous")
    who.press("Enter")
    expect(page.get_by_text("6 entries")).to_be_visible(timeout=10_000)
    shoot(page, "audit")
