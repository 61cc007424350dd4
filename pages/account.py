"""The signed-in user's own account: who they are, a password change, sign-out."""

from __future__ import annotations

import streamlit as st

from agent_core.access.forms import MIN_PASSWORD_CHARS
from agent_core.errors import AgentCoreError
from agent_core.http.account import SIGN_IN_PATH
from dashboard.state import get_runtime, get_workspace

workspace = get_workspace(get_runtime())
principal = workspace.principal
st.header("Your account")
st.markdown(f"**{principal.label}** · role **{principal.role.value}**")

me = workspace.me()
if me is None or me.password_hash is None:
    st.info("You sign in with single sign-on: your identity provider keeps your password.")
    st.stop()
st.subheader("Change password")
st.caption(
    f"At least {MIN_PASSWORD_CHARS} characters. Changing it signs you out everywhere, this browser too."
)
with st.form("change_password", clear_on_submit=True):
    current = st.text_input("Current password", type="password")
    new = st.text_input("New password", type="password")
    again = st.text_input("New password again", type="password")
    if st.form_submit_button("Change password", type="primary"):
        if new != again:
            st.error("The two new passwords differ.")
        else:
            try:
                workspace.change_own_password(current, new)
            except AgentCoreError as exc:
                st.error(str(exc), icon=":material/warning:")
            else:
                st.success(f"Password changed. [Sign in again]({SIGN_IN_PATH}) with the new one.")
