"""Single sign-on end to end: the dashboard (`python server.py` with OIDC_* set) signs people
in through a real OpenID Connect provider (node-oidc-provider on the machine's Node.js,
with its development login screens), driven in Chromium. Only an identity whose verified
email an admin added gets in, with that user's role."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from agent_core.testing.net import free_port, wait_for_http
from tests.conftest import ROOT, make_workspace, service_missing
from tests.e2e.conftest import running_dashboard, shoot

pytestmark = pytest.mark.browser
PROVIDER = ROOT / "tests" / "oidc"
CLIENT_ID, CLIENT_SECRET = "voice-assistant-dashboard", "test-client-secret-not-for-production"


@pytest.fixture(scope="module")
def identity_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """node-oidc-provider on a free port; yields its issuer URL and the dashboard's port."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        service_missing(
            "Node.js and npm are needed for the OpenID Connect provider (apt-get install nodejs npm)"
        )
    if not (PROVIDER / "node_modules" / "oidc-provider").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PROVIDER, check=True, capture_output=True)
    port, dashboard_port = free_port(), free_port()
    redirect = f"http://127.0.0.1:{dashboard_port}/oauth2callback"
    # A file, not a pipe: nobody reads a pipe while the tests run (see tests/e2e/conftest.py).
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [node, "provider.mjs", str(port), CLIENT_ID, CLIENT_SECRET, redirect],
            cwd=PROVIDER,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://127.0.0.1:{port}"
    if not wait_for_http(f"{issuer}/.well-known/openid-configuration", timeout=30):
        process.kill()
        process.wait()
        pytest.fail(f"the OIDC provider did not start: {log.read_text(errors='replace')}")
    yield issuer, dashboard_port
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, identity_provider: tuple[str, int]) -> Iterator[str]:
    issuer, port = identity_provider
    database = tmp_path_factory.mktemp("sso") / "dashboard.sqlite3"
    store = SqliteStore(database)
    admin = make_workspace(store)
    admin.accounts.add_user("boss@example.com", "admin")
    admin.accounts.add_user("sso.ana@example.com", "operator", [DEMO_TENANT_ID], sso_only=True)
    store.close()
    with running_dashboard(
        database,
        PORT=str(port),
        OIDC_SERVER_METADATA_URL=f"{issuer}/.well-known/openid-configuration",
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
    ) as url:
        yield url


def through_the_provider(page: Page, site: str, login: str) -> None:
    """From the dashboard's sign-in form to the provider's login and back."""
    page.goto(site)
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.get_by_role("button", name="Continue with single sign-on").click(timeout=30_000)
    page.locator("input[name=login]").fill(login, timeout=30_000)
    page.locator("input[name=password]").fill("anything")
    page.locator("button[type=submit]").click()
    consent = page.locator("button[type=submit]")
    consent.wait_for(timeout=30_000)
    consent.click()


def test_an_added_user_signs_in_through_the_provider_with_their_role(page: Page, site: str) -> None:
    through_the_provider(page, site, "sso.ana@example.com")
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Signed in as sso.ana@example.com · operator")).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    shoot(page, "signed-in-sso")
    page.get_by_role("link", name="Sign out").click()
    # Signing out ends the provider's session too: its page asks to confirm.
    page.locator("button[autofocus], button[type=submit]").first.click(timeout=30_000)
    expect(page.get_by_label("Password")).to_be_visible(timeout=30_000)
    page.goto(site)
    expect(page.get_by_label("Password")).to_be_visible(timeout=30_000)  # the identity cookie is gone


def test_an_identity_no_admin_added_gets_nothing(page: Page, site: str) -> None:
    through_the_provider(page, site, "stranger@example.com")
    expect(page.get_by_text("no user of this dashboard has that verified email")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_have_count(0)
    expect(page.get_by_role("link", name="users")).to_have_count(0)  # no page list either
