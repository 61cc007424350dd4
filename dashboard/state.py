"""The shared runtime, who is signed in, and the selected tenant, as every page reads them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import streamlit as st

from agent_core.access.authentication import LOCAL_PRINCIPAL
from agent_core.access.models import Action, Principal
from agent_core.domain import Tenant
from agent_core.errors import AgentCoreError
from agent_core.runtime import Runtime, shared_runtime
from agent_core.workspace import Workspace
from dashboard.passwords import choose_password_screen
from dashboard.web import SESSION_COOKIE, SIGN_IN_PATH

TENANT_KEY = "tenant_id"
# What the Users page says after adding a user or resetting a password, for its next run.
USERS_NOTICE = "users_notice"
USERS_SECRET = "users_secret"


@st.cache_resource(show_spinner="Starting the agent runtime…")
def _runtime() -> Runtime:
    return shared_runtime()


def get_runtime() -> Runtime:
    """The one runtime of this server process; stops the page with the reason if it cannot start."""
    try:
        return _runtime()
    except AgentCoreError as exc:
        st.error(f"The app cannot start: {exc}", icon=":material/block:")
        st.stop()


def _session_cookie() -> str | None:
    cookie = st.context.cookies.get(SESSION_COOKIE)
    # Outside a browser (AppTest) there are no cookies, and the value is not text.
    return cookie if isinstance(cookie, str) else None


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who this run acts as, and whether they must choose a password before anything else
    (signed in with email and a one-time password an admin gave them; single sign-on never
    asks for one)."""

    workspace: Workspace
    must_choose_password: bool = False


def _signed_in(runtime: Runtime) -> tuple[Principal | None, bool]:
    authenticator = runtime.authenticator
    if authenticator.local_mode():
        return LOCAL_PRINCIPAL, False
    user = authenticator.session_user(_session_cookie())
    if user is not None:
        return user.principal(), user.must_change_password
    if runtime.settings.sso_configured and st.user.is_logged_in:
        email = st.user.get("email")
        verified = bool(st.user.get("email_verified"))
        return authenticator.sso_principal(str(email) if email else None, verified), False
    return None, False


def signed_out_screen(runtime: Runtime) -> None:
    """What someone who is not signed in sees: the ways to sign in, nothing else."""
    st.title("Voice Assistant Mini")
    if runtime.settings.sso_configured and st.user.is_logged_in:
        email = st.user.get("email")
        st.error(
            f"You are signed in at the identity provider as {email or 'an account without an email'},"
            " but no user of this dashboard has that verified email. Ask an admin to add you.",
            icon=":material/no_accounts:",
        )
        st.button("Sign out", on_click=st.logout)
        return
    if show_one_time_password():
        # The first admin was just added from local mode, which ended with it.
        st.info("Local mode has ended: sign in as the admin you added.", icon=":material/lock:")
    else:
        st.info("Your session has ended or you are not signed in.", icon=":material/lock:")
    st.markdown(f"[Sign in with email and password]({SIGN_IN_PATH})")
    if runtime.settings.sso_configured:
        st.button("Continue with single sign-on", type="primary", on_click=st.login)


def show_one_time_password() -> bool:
    """The notice and the one-time password of the user just added or reset, shown once;
    True when there was one."""
    if notice := st.session_state.pop(USERS_NOTICE, None):
        st.success(notice, icon=":material/check_circle:")
    secret = st.session_state.pop(USERS_SECRET, None)
    if not secret:
        return False
    st.warning(
        "Copy this one-time password now and hand it over; it is not shown again. Signing in"
        " with it asks for a new password before anything else.",
        icon=":material/key:",
    )
    st.code(secret, language=None)
    return True


def signed_in(runtime: Runtime) -> SignedIn | None:
    """Who is signed in, checked again on every run with one look-up of the session (a
    session that expired, signed out or was disabled gives None)."""
    principal, must_choose = _signed_in(runtime)
    return None if principal is None else SignedIn(runtime.acting_as(principal), must_choose)


def get_workspace(runtime: Runtime) -> Workspace:
    """The workspace a page runs in; the page stops when nobody is signed in, or shows only
    the password choice to whom must make it (checked here as well as in the entry point:
    under `streamlit run` a page's own address can run the page alone)."""
    found = signed_in(runtime)
    if found is None:
        signed_out_screen(runtime)
        st.stop()
    if found.must_choose_password:
        choose_password_screen(found.workspace)
        st.stop()
    return found.workspace


def require_page(workspace: Workspace, action: Action) -> None:
    """Stop a page the principal may not open, saying why (links can reach any page)."""
    if not workspace.may(action):
        st.error(
            f"Your role ({workspace.principal.role.value}) cannot open this page.", icon=":material/block:"
        )
        st.stop()


def current_tenant(workspace: Workspace, action: Action = Action.READ) -> Tenant:
    """The tenant picked in the sidebar, read fresh from the store and checked for the principal."""
    tenant_id = st.session_state.get(TENANT_KEY)
    try:
        tenant = workspace.tenant(UUID(str(tenant_id)), action) if tenant_id else None
    except AgentCoreError:
        tenant = None
    if tenant is None:
        st.warning("Pick a tenant in the sidebar.")
        st.stop()
    return tenant


def session_key(tenant: Tenant, name: str) -> str:
    """A session-state key that belongs to one tenant, so a switch never shows another's state."""
    return f"{name}:{tenant.id}"
