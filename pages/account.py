"""The signed-in user's own account: who they are, a password change, sign-out."""

from __future__ import annotations

import streamlit as st

from dashboard.passwords import change_password_form
from dashboard.state import get_runtime, get_workspace

workspace = get_workspace(get_runtime())
principal = workspace.principal
st.header("Your account")
st.markdown(f"**{principal.label}** · role **{principal.role.value}**")

me = workspace.accounts.me()
if me is None or me.password_hash is None:
    st.info("You sign in with single sign-on: your identity provider keeps your password.")
    st.stop()
st.subheader("Change password")
change_password_form(workspace)
