"""The dashboard as each kind of person sees it: local mode's banner, the sign-in screen once
a user exists, and what an operator, a viewer and an admin (signed in by single sign-on,
which AppTest can seed) can see and do."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from dashboard.navigation import pages_for
from tests.conftest import ROOT, make_workspace


@pytest.fixture
def sso(monkeypatch: pytest.MonkeyPatch) -> None:
    """Single sign-on configured (the provider is never called: AppTest seeds the identity)."""
    monkeypatch.setenv("OIDC_SERVER_METADATA_URL", "http://127.0.0.1:9/.well-known/openid-configuration")
    monkeypatch.setenv("OIDC_CLIENT_ID", "dashboard")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "not-a-real-secret")


def add_users(database: Path) -> None:
    store = SqliteStore(database)
    admin = make_workspace(store)
    admin.accounts.add_user("boss@example.com", "admin")
    admin.accounts.add_user("ana@example.com", "operator", [DEMO_TENANT_ID])
    admin.accounts.add_user("vic@example.com", "viewer", [DEMO_TENANT_ID])
    store.close()


def as_user(app: AppTest, email: str, *, verified: bool = True) -> AppTest:
    app.user = {"is_logged_in": True, "email": email, "email_verified": verified}
    return app


def test_with_no_user_the_dashboard_runs_in_local_mode_and_says_so(app: AppTest) -> None:
    app.run()
    assert any("Local mode, no sign-in" in w.value for w in app.warning)
    assert app.subheader[0].value == "Chat · Demo Tours"


def test_once_a_user_exists_nothing_shows_without_signing_in(app: AppTest, app_env: Path) -> None:
    add_users(app_env)
    app.run()
    assert not app.exception
    assert "not signed in" in app.info[0].value
    assert "[Sign in with email and password](/account/sign-in)" in app.markdown[0].value
    assert len(app.sidebar.selectbox) == 0
    assert not [s.value for s in app.subheader]


def test_an_operator_sees_only_its_tenant_even_from_a_link_to_another(
    app: AppTest, app_env: Path, sso: None
) -> None:
    add_users(app_env)
    as_user(app, "ana@example.com")
    app.query_params["tenant"] = str(SECOND_DEMO_TENANT_ID)
    app.run()
    assert not app.exception
    assert "is not one you can open" in app.sidebar.warning[0].value
    assert app.sidebar.selectbox[0].options == ["Demo Tours"]
    assert app.subheader[0].value == "Chat · Demo Tours"
    app.switch_page("pages/audit.py").run()
    assert not app.exception
    for admin_page in ("users.py", "api_keys.py"):
        page = as_user(AppTest.from_file(str(ROOT / "pages" / admin_page)), "ana@example.com").run()
        assert "Your role (operator) cannot open this page" in page.error[0].value


def test_a_viewer_reads_but_cannot_chat_edit_or_replay(app: AppTest, app_env: Path, sso: None) -> None:
    add_users(app_env)
    as_user(app, "vic@example.com")
    app.run()
    assert app.chat_input[0].disabled
    app.switch_page("pages/prompts.py").run()
    assert not app.exception
    assert len(app.text_area) == 0
    assert len(app.button) == 0
    assert "Trying a draft needs an operator or admin role." in [i.value for i in app.info]
    app.switch_page("pages/scenarios.py").run()
    assert not app.exception
    assert [b.disabled for b in app.button if b.label == "Run scenarios"] == [True]
    assert len(app.text_area) == 0
    app.switch_page("pages/records.py").run()
    assert not app.exception
    audit = as_user(AppTest.from_file(str(ROOT / "pages" / "audit.py")), "vic@example.com").run()
    assert "Your role (viewer) cannot open this page" in audit.error[0].value


@pytest.mark.parametrize(
    ("role", "pages"),
    [
        (
            "admin",
            [
                "Chat",
                "Conversations",
                "Analytics",
                "Records",
                "Prompts",
                "Scenarios",
                "Events",
                "Audit",
                "Settings",
                "Users",
                "API keys",
                "Account",
            ],
        ),
        (
            "operator",
            [
                "Chat",
                "Conversations",
                "Analytics",
                "Records",
                "Prompts",
                "Scenarios",
                "Events",
                "Audit",
                "Account",
            ],
        ),
        (
            "viewer",
            ["Chat", "Conversations", "Analytics", "Records", "Prompts", "Scenarios", "Events", "Account"],
        ),
    ],
)
def test_the_menu_offers_each_role_its_pages(tmp_path: Path, role: str, pages: list[str]) -> None:
    store = SqliteStore(tmp_path / "menu.sqlite3")
    user, _ = make_workspace(store).accounts.add_user(f"{role}@example.com", role, [DEMO_TENANT_ID])
    assert [p.title for p in pages_for(make_workspace(store, user.principal()))] == pages
    store.close()


def test_an_identity_nobody_added_gets_no_access(app: AppTest, app_env: Path, sso: None) -> None:
    add_users(app_env)
    as_user(app, "stranger@example.com").run()
    assert "no user of this dashboard has that verified email" in app.error[0].value
    assert len(app.sidebar.selectbox) == 0
    as_user(app, "ana@example.com", verified=False).run()
    assert "no user of this dashboard" in app.error[0].value


def test_an_admin_adds_a_user_and_the_audit_page_shows_who_did_it(
    app: AppTest, app_env: Path, sso: None
) -> None:
    add_users(app_env)
    as_user(app, "boss@example.com")
    app.run()
    app.switch_page("pages/users.py").run()
    assert not app.exception
    form = app.text_input
    form[0].input("new.operator@example.com")
    app.multiselect[0].select(DEMO_TENANT_ID)
    app.button[0].click().run()
    assert not app.exception
    assert "Added new.operator@example.com as operator" in app.success[0].value
    assert len(app.code[0].value) >= 16  # the one-time password, shown once
    app.switch_page("pages/audit.py").run()
    frame = app.dataframe[0].value
    added = frame[frame["Action"] == "user.added"]
    assert "boss@example.com" in added["Who"].tolist()
    assert "user new.operator@example.com" in added["What"].tolist()
