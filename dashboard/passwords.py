"""Changing one's own password: on the Account page, and the screen that asks for a new one
before anything else when the user signed in with a one-time password."""

from __future__ import annotations

import streamlit as st

from agent_core.access.forms import MIN_PASSWORD_CHARS
from agent_core.errors import AgentCoreError
from agent_core.workspace import Workspace
from dashboard.web import SIGN_IN_PATH


def change_password_form(workspace: Workspace, *, current_label: str = "Current password") -> None:
    """The current password, the new one twice; on success every session of the user ends."""
    st.caption(
        f"At least {MIN_PASSWORD_CHARS} characters. Changing it signs you out everywhere, this browser too."
    )
    with st.form("change_password", clear_on_submit=True):
        current = st.text_input(current_label, type="password")
        new = st.text_input("New password", type="password")
        again = st.text_input("New password again", type="password")
        if st.form_submit_button("Change password", type="primary"):
            if new != again:
                st.error("The two new passwords differ.", icon=":material/warning:")
                return
            try:
                workspace.accounts.change_own_password(current, new)
            except AgentCoreError as exc:
                st.error(str(exc), icon=":material/warning:")
            else:
                st.success(
                    f"Password changed. [Sign in again]({SIGN_IN_PATH}) with the new one.",
                    icon=":material/check_circle:",
                )


def choose_password_screen(workspace: Workspace) -> None:
    """What a user signed in with a one-time password sees: a new password first."""
    st.title("Choose your password")
    st.info(
        f"Welcome, {workspace.principal.label}. You signed in with a one-time password from an"
        " admin: choose your own to continue.",
        icon=":material/password:",
    )
    change_password_form(workspace, current_label="One-time password")
