"""Operator dashboard entry point: page frame, tenant selector, status, navigation."""

from __future__ import annotations

from uuid import UUID

import streamlit as st

from agent_core.errors import InvalidInputError
from agent_core.runtime import Runtime
from dashboard.state import TENANT_KEY, get_runtime

PICKER_KEY = "tenant_picker"

st.set_page_config(page_title="Voice Assistant Mini", page_icon=":material/support_agent:", layout="wide")


def _parse(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def tenant_selector(runtime: Runtime) -> None:
    """Pick a tenant by name; the choice lives in the URL (?tenant=<id>) so links reopen it."""
    tenants = runtime.store.list_tenants()
    if not tenants:
        st.sidebar.info("No tenants yet: add one below.")
        st.session_state.pop(TENANT_KEY, None)
        return
    ids = [t.id for t in tenants]
    names = {t.id: t.name for t in tenants}
    current = _parse(str(st.session_state.get(TENANT_KEY) or ""))
    if current not in names:
        current = _parse(st.query_params.get("tenant"))
        if current is not None and current not in names:
            st.sidebar.warning("The tenant in the link does not exist; showing the first one.")
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
        on_change=lambda: st.session_state.update({TENANT_KEY: str(st.session_state[PICKER_KEY])}),
    )
    st.query_params["tenant"] = str(current)


def add_tenant_form(runtime: Runtime) -> None:
    """A small form to add a tenant with its first system prompt."""
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
                tenant = runtime.create_tenant(name, prompt)
            except InvalidInputError as exc:
                st.error(str(exc))
            else:
                st.session_state[TENANT_KEY] = str(tenant.id)
                st.query_params["tenant"] = str(tenant.id)
                st.rerun()


@st.fragment(run_every="10s")
def status_panel(runtime: Runtime) -> None:
    """What the app runs on, each part healthy or not (refreshes by itself)."""
    with st.expander("System status", expanded=False):
        for part in runtime.health():
            icon = ":material/check_circle:" if part.ok else ":material/error:"
            st.markdown(f"{icon} **{part.name}**: `{part.backend}`")
            st.caption(part.detail)


runtime = get_runtime()
st.sidebar.title("Voice Assistant Mini")
tenant_selector(runtime)
add_tenant_form(runtime)
if runtime.agent.model.name.startswith("demo"):
    st.sidebar.caption(
        "Model: offline demo model (rule-based, no API key). Set OPENAI_API_KEY for a real one."
    )
else:
    st.sidebar.caption(f"Model: {runtime.agent.model.name}")
with st.sidebar:
    status_panel(runtime)

navigation = st.navigation(
    [
        st.Page("pages/chat.py", title="Chat", icon=":material/chat:", default=True),
        st.Page("pages/records.py", title="Records", icon=":material/table_view:"),
        st.Page("pages/prompts.py", title="Prompts", icon=":material/edit_note:"),
        st.Page("pages/events.py", title="Events", icon=":material/sensors:"),
    ]
)
navigation.run()
