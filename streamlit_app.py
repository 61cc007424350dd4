"""Operator dashboard entry point: sign-in, page frame, tenant selector, status, navigation."""

from __future__ import annotations

from uuid import UUID

import streamlit as st

from agent_core.access.models import Action, PrincipalKind
from agent_core.errors import InvalidInputError
from agent_core.runtime import Runtime
from agent_core.workspace import Workspace
from dashboard.navigation import pages_for
from dashboard.passwords import choose_password_screen
from dashboard.state import (
    TENANT_KEY,
    get_runtime,
    signed_in,
    signed_out_screen,
)
from dashboard.views import escape_markdown
from dashboard.web import PRODUCT_ICON, SIGN_OUT_PATH

PICKER_KEY = "tenant_picker"

# A file of ours: a Material icon here made every page fetch it from a font host, offline too.
st.set_page_config(page_title="Voice Assistant Mini", page_icon=str(PRODUCT_ICON), layout="wide")


def _parse(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def tenant_selector(workspace: Workspace) -> None:
    """Pick one of the principal's tenants by name; the choice lives in the URL
    (?tenant=<id>) so links reopen it. A link to a tenant the principal may not see shows
    nothing of it, and does not say whether it exists."""
    tenants = workspace.tenants()
    if not tenants:
        if workspace.may(Action.ADMINISTER):
            st.sidebar.info("No tenants yet: add one below.")
        else:
            st.sidebar.info("No tenant is assigned to you yet: ask an admin.")
        st.session_state.pop(TENANT_KEY, None)
        return
    ids = [t.id for t in tenants]
    names = {t.id: t.name for t in tenants}
    current = _parse(str(st.session_state.get(TENANT_KEY) or ""))
    if current not in names:
        current = _parse(st.query_params.get("tenant"))
        if current is not None and current not in names:
            st.sidebar.warning("The tenant in the link is not one you can open; showing your first one.")
        current = current if current in names else ids[0]
    # The session's tenant is the source of truth; the picker follows it (a tenant chosen
    # elsewhere, e.g. just added, shows here) and a pick in the picker updates it.
    st.session_state[TENANT_KEY] = str(current)
    st.session_state[PICKER_KEY] = current
    st.sidebar.selectbox(
        "Tenant",
        ids,
        format_func=lambda i: names[i],
        key=PICKER_KEY,
        on_change=switch_tenant,
    )
    st.query_params["tenant"] = str(current)


def switch_tenant() -> None:
    """The picked tenant becomes the session's; a conversation in the link was the old
    tenant's, so the link stops naming it."""
    st.session_state[TENANT_KEY] = str(st.session_state[PICKER_KEY])
    st.query_params.pop("conversation", None)


def add_tenant_form(workspace: Workspace) -> None:
    """A small form to add a tenant with its first system prompt (admins)."""
    with (
        st.sidebar.popover("Add a tenant", width="stretch"),
        st.form("add_tenant", clear_on_submit=True),
    ):
        name = st.text_input("Business name", max_chars=100)
        prompt = st.text_area(
            "System prompt",
            value=(
                "You are the friendly assistant of this business."
                " Book tours, take notes and keep contacts up to date."
            ),
            height=120,
        )
        if st.form_submit_button("Add tenant", type="primary"):
            try:
                tenant = workspace.create_tenant(name, prompt)
            except InvalidInputError as exc:
                st.error(str(exc))
            else:
                st.session_state[TENANT_KEY] = str(tenant.id)
                st.query_params["tenant"] = str(tenant.id)
                st.rerun()


def local_mode_banner(api_open: bool) -> str:
    """Who can use the dashboard and the API while nobody signs in, as it is right now."""
    api = (
        "The API at `/api` answers without a key too, until the first API key is made."
        if api_open
        else "The API needs a key (`Authorization: Bearer …`): one was made, and revoking keys"
        " does not reopen it."
    )
    return (
        "**Local mode, no sign-in.** Anyone who can open this page on this machine uses the"
        f" dashboard as an admin. {api} Add the first admin on the Users page (or"
        " `vam users add you@example.com --role admin`) and everyone signs in from then on."
    )


def who_is_signed_in(runtime: Runtime, workspace: Workspace) -> None:
    """The principal, its role, and the way out; the local-mode banner when nobody signs in."""
    principal = workspace.principal
    if principal.kind is PrincipalKind.LOCAL:
        st.warning(local_mode_banner(runtime.authenticator.api_open()), icon=":material/lock_open:")
        return
    st.sidebar.caption(f"Signed in as **{escape_markdown(principal.label)}** · {principal.role.value}")
    st.sidebar.markdown(f'<a href="{SIGN_OUT_PATH}" target="_self">Sign out</a>', unsafe_allow_html=True)


@st.fragment(run_every="10s")
def status_panel(runtime: Runtime) -> None:
    """What the app runs on, each part healthy or not (refreshes by itself)."""
    parts = runtime.health()
    failing = [part.name for part in parts if not part.ok]
    # A part that is down opens the panel in red: the people watching must not have to look.
    with st.expander(
        f"System status: {', '.join(failing)} not working" if failing else "System status",
        expanded=bool(failing),
        icon=":material/error:" if failing else ":material/check_circle:",
    ):
        for part in parts:
            if part.ok:
                st.markdown(f":material/check_circle: **{part.name}**: `{part.backend}`")
                st.caption(part.detail)
            else:
                st.error(f"**{part.name}** (`{part.backend}`): {part.detail}", icon=":material/error:")


runtime = get_runtime()
found = signed_in(runtime)
if found is None:
    # A navigation of its own: without one, Streamlit would list every file in pages/.
    st.navigation([st.Page(lambda: signed_out_screen(runtime), title="Sign in")], position="hidden").run()
    st.stop()
workspace: Workspace = found.workspace
if found.must_choose_password:
    st.navigation(
        [st.Page(lambda: choose_password_screen(workspace), title="Choose your password")], position="hidden"
    ).run()
    st.stop()
st.sidebar.title("Voice Assistant Mini")
who_is_signed_in(runtime, workspace)
tenant_selector(workspace)
if workspace.may(Action.ADMINISTER):
    add_tenant_form(workspace)
if runtime.agent.model.name.startswith("demo"):
    st.sidebar.caption(
        "Model: offline demo model (rule-based, no API key). Set OPENAI_API_KEY for a real one."
    )
else:
    st.sidebar.caption(f"Model: {runtime.agent.model.name}")
st.sidebar.markdown(
    '<a href="/api/docs" target="_blank">API reference</a>',
    unsafe_allow_html=True,
    help="The HTTP API's routes, in a new tab",
)
with st.sidebar:
    status_panel(runtime)

st.navigation(
    [
        st.Page(page.script, title=page.title, icon=page.icon, default=page.script == "pages/chat.py")
        for page in pages_for(workspace)
    ]
).run()
