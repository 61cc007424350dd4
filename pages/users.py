"""Dashboard users (admins): add one, change a role or tenants, disable, reset a password."""

from __future__ import annotations

import streamlit as st

from agent_core.access.models import Action, UserRole
from agent_core.errors import AgentCoreError
from dashboard.state import (
    USERS_NOTICE,
    USERS_SECRET,
    get_runtime,
    get_workspace,
    require_page,
    show_one_time_password,
)
from dashboard.views import users_frame

workspace = get_workspace(get_runtime())
require_page(workspace, Action.ADMINISTER)
tenants = {t.id: t.name for t in workspace.tenants()}
roles = [r.value for r in UserRole]
st.header("Users")
st.caption(
    "Admins manage everything; operators chat, edit prompts and replay events of their tenants;"
    " viewers read their tenants. Users are disabled, never deleted, so the audit log keeps its names."
)
show_one_time_password()

users = workspace.accounts.users()
first = not users
if users:
    st.dataframe(users_frame(users, tenants), hide_index=True, width="stretch")
else:
    st.info(
        "No users yet: the dashboard runs in local mode. The first user must be an admin: adding"
        " them ends local mode at once, and from then on everyone signs in — you too, with the"
        " one-time password shown here, which asks for a new password at first sign-in.",
        icon=":material/info:",
    )

with st.expander("Add a user", expanded=first), st.form("add_user", clear_on_submit=True):
    email = st.text_input("Email")
    role = st.selectbox(
        "Role",
        [UserRole.ADMIN.value] if first else roles,
        index=0 if first else roles.index(UserRole.OPERATOR.value),
        help="The first user is an admin, so someone can manage users once local mode ends."
        if first
        else None,
    )
    assigned = st.multiselect(
        "Tenants (operators and viewers)", list(tenants), format_func=lambda t: tenants[t]
    )
    sso_only = st.checkbox(
        "Single sign-on only (no password)", disabled=not get_runtime().settings.sso_configured
    )
    if st.form_submit_button("Add user", type="primary"):
        try:
            user, password = workspace.accounts.add_user(email, role, assigned, sso_only=sso_only)
        except AgentCoreError as exc:
            st.error(str(exc), icon=":material/warning:")
        else:
            st.session_state[USERS_NOTICE] = f"Added {user.email} as {user.role.value}." + (
                " Local mode has ended: sign in as them with the one-time password below." if first else ""
            )
            st.session_state[USERS_SECRET] = password
            st.rerun()

if users:
    st.subheader("Change a user")
    chosen = st.selectbox("User", users, format_func=lambda u: f"{u.email} ({u.role.value})")
    with st.form(f"change_user:{chosen.id}"):
        new_role = st.selectbox("Role", roles, index=roles.index(chosen.role.value))
        new_tenants = st.multiselect(
            "Tenants",
            list(tenants),
            default=sorted(chosen.tenants & tenants.keys()),
            format_func=lambda t: tenants[t],
        )
        disabled = st.checkbox("Disabled (cannot sign in; signed out now)", value=chosen.disabled)
        if st.form_submit_button("Save changes", type="primary"):
            try:
                workspace.accounts.change_user(
                    chosen.id, role=new_role, tenants=new_tenants, disabled=disabled
                )
            except AgentCoreError as exc:
                st.error(str(exc), icon=":material/warning:")
            else:
                st.session_state[USERS_NOTICE] = f"Saved {chosen.email}."
                st.rerun()
    confirm = st.checkbox(
        f"Yes, give {chosen.email} a new password and sign them out", key=f"reset:{chosen.id}"
    )
    if st.button("Reset password", disabled=not confirm):
        try:
            password = workspace.accounts.reset_password(chosen.id)
        except AgentCoreError as exc:
            st.error(str(exc), icon=":material/warning:")
        else:
            st.session_state[USERS_NOTICE] = f"New one-time password for {chosen.email}."
            st.session_state[USERS_SECRET] = password
            st.rerun()
