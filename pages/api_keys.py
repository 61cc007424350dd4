"""API keys for integrators (admins): create one for a tenant or admin-wide, see when each was
last used, revoke it. Only a hash is kept: a key is shown once, when it is made."""

from __future__ import annotations

import streamlit as st

from agent_core.access.models import Action
from agent_core.errors import AgentCoreError
from dashboard.state import get_runtime, get_workspace, require_page
from dashboard.views import api_keys_frame

workspace = get_workspace(get_runtime())
require_page(workspace, Action.ADMINISTER)
tenants = {t.id: t.name for t in workspace.tenants()}
st.header("API keys")
st.caption(
    "Send a key as `Authorization: Bearer <key>`. A tenant's key reads that tenant and chats as its"
    " agent; an admin-wide key reaches every tenant. Keys from the API_KEYS variable work too and are"
    " not listed here. In local mode the API answers without a key only until the first key is made;"
    " revoking keys does not reopen it."
)
if notice := st.session_state.pop("keys_notice", None):
    st.success(notice, icon=":material/check_circle:")
if secret := st.session_state.pop("keys_secret", None):
    st.warning("Copy this key now: it is not shown again.", icon=":material/key:")
    st.code(secret, language=None)

with st.form("create_key", clear_on_submit=True):
    columns = st.columns([3, 3, 2], vertical_alignment="bottom")
    name = columns[0].text_input("Name", placeholder="who uses it, e.g. phone gateway")
    # One tenant first: a key reaching every tenant is the exception, chosen on purpose.
    tenant = columns[1].selectbox(
        "Tenant",
        [*tenants, None],
        format_func=lambda t: "All tenants (admin-wide)" if t is None else tenants[t],
    )
    if columns[2].form_submit_button("Create key", type="primary"):
        try:
            key, secret_text = workspace.accounts.create_api_key(name, tenant)
        except AgentCoreError as exc:
            st.error(str(exc), icon=":material/warning:")
        else:
            st.session_state["keys_notice"] = f"Created {key.name} ({key.prefix}…)."
            st.session_state["keys_secret"] = secret_text
            st.rerun()

keys = workspace.accounts.api_keys()
if not keys:
    st.info("No managed keys yet.", icon=":material/key_off:")
    st.stop()
st.dataframe(api_keys_frame(keys, tenants), hide_index=True, width="stretch")
active = [k for k in keys if k.active]
if active:
    chosen = st.selectbox("Key to revoke", active, format_func=lambda k: f"{k.name} ({k.prefix}…)")
    confirm = st.checkbox(
        f"Yes, revoke {chosen.name}: requests with it fail from now on", key=f"revoke:{chosen.id}"
    )
    if st.button("Revoke key", disabled=not confirm):
        try:
            workspace.accounts.revoke_api_key(chosen.id)
        except AgentCoreError as exc:
            st.error(str(exc), icon=":material/warning:")
        else:
            st.session_state["keys_notice"] = f"Revoked {chosen.name}."
            st.rerun()
