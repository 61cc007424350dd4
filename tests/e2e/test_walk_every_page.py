"""Every page of the dashboard in Chromium, as an admin and as an operator: each opens
without an error, with a heading, and is photographed (`make screenshots` writes these to
docs/screenshots/, which the README shows)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from dashboard.navigation import pages_for
from tests.conftest import make_workspace, whole_turn
from tests.e2e.conftest import running_dashboard, shoot

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """The dashboard with an admin and an operator of the demo tenant, and a conversation; its
    URL, and each user's menu as the role gives it (`pages_for`)."""
    database = tmp_path_factory.mktemp("walk") / "dashboard.sqlite3"
    store = SqliteStore(database)
    admin = make_workspace(store)
    users = [
        admin.accounts.add_user("boss@example.com", "admin", password=PASSWORD)[0],
        admin.accounts.add_user("ana@example.com", "operator", [DEMO_TENANT_ID], password=PASSWORD)[0],
    ]
    menus = {u.email: [p.title for p in pages_for(make_workspace(store, u.principal()))] for u in users}
    booked = whole_turn(admin, DEMO_TENANT_ID, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    whole_turn(
        admin, DEMO_TENANT_ID, "Please note that the client prefers morning tours.", booked.conversation_id
    )
    store.close()
    with running_dashboard(database) as url:
        yield url, menus


@pytest.mark.parametrize("email", ["boss@example.com", "ana@example.com"])
def test_every_page_opens_without_an_error(
    page: Page, site: tuple[str, dict[str, list[str]]], email: str
) -> None:
    url, menus = site
    pages = menus[email]
    assert len(pages) >= 9, "every page a role opens is walked"
    page.goto(f"{url}/account/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    menu = page.get_by_test_id("stSidebarNav")
    # Each link's text is its icon's name, then its title.
    expect(menu.get_by_role("link")).to_have_text([re.compile(f"{re.escape(title)}$") for title in pages])
    role = email.split("@", maxsplit=1)[0]
    for title in pages:
        menu.get_by_role("link", name=title, exact=True).click()
        expect(page.get_by_test_id("stMain").get_by_role("heading").first).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("stStatusWidget").get_by_text("Running")).to_have_count(0, timeout=30_000)
        # For the photograph: tables and charts draw after the run.
        page.wait_for_load_state("networkidle")  # each widget's code, loaded when first shown
        expect(page.locator("[data-testid^=stSkeleton]")).to_have_count(0, timeout=30_000)
        page.wait_for_timeout(500)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        shoot(page, f"walk-{role}-{title.lower().replace(' ', '-')}")


def test_the_api_reference_renders_in_the_browser_for_a_signed_in_user(
    page: Page, site: tuple[str, dict[str, list[str]]]
) -> None:
    url, _ = site
    page.goto(f"{url}/account/sign-in?next=/api/docs")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("/api/chat").first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="voice-assistant-mini", exact=False).first).to_be_visible()
    shoot(page, "api-docs")
