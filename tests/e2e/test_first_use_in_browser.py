"""A first-time admin in Chromium, from local mode to signing in: the banner tells whether
the API needs a key (a key made and revoked closes it for good), a key is for one tenant
unless chosen otherwise, the first user can only be an admin, its one-time password is shown
once local mode has ended, and signing in with it asks for a password of one's own first."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from agent_core.store.demo_data import SECOND_DEMO_TENANT_ID
from tests.e2e.conftest import running_dashboard, shoot

pytestmark = pytest.mark.browser
OWN_PASSWORD = "a passphrase of my own"


@pytest.fixture
def fresh_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_dashboard(tmp_path_factory.mktemp("first-use") / "dashboard.sqlite3") as url:
        yield url


def api_status(url: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}/api/tenants") as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def open_page(page: Page, name: str, heading: str) -> None:
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=30_000)


def test_a_first_admin_goes_from_local_mode_to_a_password_of_their_own(
    page: Page, fresh_install: str
) -> None:
    page.goto(fresh_install)
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("answers without a key too, until the first API key is made")).to_be_visible()
    assert api_status(fresh_install) == 200

    open_page(page, "API keys", "API keys")
    expect(page.get_by_test_id("stMain").get_by_label("Tenant")).to_have_value("Demo Tours")  # not all
    page.get_by_label("Name").fill("phone gateway")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("Copy this key now")).to_be_visible(timeout=30_000)
    page.get_by_text("Yes, revoke phone gateway").click()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_text("Revoked phone gateway.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("The API needs a key")).to_be_visible()
    assert api_status(fresh_install) == 401, "the banner said so"
    shoot(page, "first-use-api-closed")

    open_page(page, "Users", "Users")
    expect(page.get_by_text("The first user must be an admin")).to_be_visible()
    expect(page.get_by_role("combobox", name="Role")).to_have_value("admin")
    page.get_by_label("Email").fill("boss@example.com")
    page.get_by_role("button", name="Add user").click()
    # Said on the Users page, or on the sign-in screen when local mode had ended by the rerun.
    expect(page.get_by_text("Local mode has ended").first).to_be_visible(timeout=30_000)
    # The password's code block may render a moment after the notice in the same run.
    password_block = page.locator("code").last
    expect(password_block).to_have_text(re.compile(r"^\s*\S{12,}\s*$"), timeout=30_000)
    one_time = password_block.inner_text().strip()
    shoot(page, "first-use-one-time-password")

    # Local mode ends within a second of the first user (the server checks at most that
    # often); until then the sign-in form sends back to the dashboard.
    deadline = time.monotonic() + 10
    while page.goto(f"{fresh_install}/account/sign-in") and "/account/sign-in" not in page.url:
        assert time.monotonic() < deadline, "local mode did not end"
        page.wait_for_timeout(200)
    page.get_by_label("Email").fill("boss@example.com")
    page.get_by_label("Password").fill(one_time)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("link", name="Records")).to_have_count(0)
    page.goto(f"{fresh_install}/records")  # a page's own address leads to the same screen
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Records · Demo Tours")).to_have_count(0)
    page.keyboard.press("Escape")  # Streamlit's "Page not found" notice
    page.get_by_label("One-time password").fill(one_time)
    page.get_by_label("New password", exact=True).fill(OWN_PASSWORD)
    page.get_by_label("New password again").fill(OWN_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed.")).to_be_visible(timeout=30_000)
    shoot(page, "first-use-password-chosen")

    page.goto(f"{fresh_install}/account/sign-in")
    page.get_by_label("Email").fill("boss@example.com")
    page.get_by_label("Password").fill(OWN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Signed in as boss@example.com · admin")).to_be_visible()


def test_a_link_to_a_page_is_the_first_visit_and_opens_it_inside_the_app(
    page: Page, fresh_install: str
) -> None:
    # Before the entry point has run once, Streamlit would run pages/records.py alone.
    page.goto(f"{fresh_install}/records?tenant={SECOND_DEMO_TENANT_ID}")
    expect(page.get_by_role("heading", name="Records · Harbour Clinic")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stSidebar").get_by_text("Voice Assistant Mini")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="streamlit app")).to_have_count(0)
