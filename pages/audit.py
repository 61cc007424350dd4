"""Who changed what, when: the append-only audit log (admins: everything; operators: their tenants)."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from agent_core.access.models import Action, AuditAction
from agent_core.clock import utcnow
from dashboard import render
from dashboard.state import get_runtime, get_workspace, require_page
from dashboard.views import audit_frame, audit_target

WINDOWS = {
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
    "All time": None,
}

workspace = get_workspace(get_runtime())
require_page(workspace, Action.READ_AUDIT)
st.header("Audit log")
st.caption(
    "Every change — prompts, tenants, replays, users, API keys, failed sign-ins — with who made it."
    " Kept in the store; nobody can edit or delete an entry."
)
tenants = {t.id: t.name for t in workspace.tenants() if workspace.may(Action.READ_AUDIT, t.id)}
filters = st.columns([3, 3, 2, 2])
scope_options: list[object] = (["all"] if workspace.may(Action.ADMINISTER) else []) + list(tenants)
scope = filters[0].selectbox(
    "Tenant",
    scope_options,
    format_func=lambda o: "All (and entries of no tenant)" if o == "all" else tenants[o],
)
actions = filters[1].multiselect("Actions", [a.value for a in AuditAction], placeholder="All actions")
actor = filters[2].text_input("Who", placeholder="email or key name")
window = filters[3].selectbox("Time", list(WINDOWS), index=1)
span = WINDOWS[window]
if not scope_options:
    st.info("No tenant is assigned to you yet.", icon=":material/inbox:")
    st.stop()
entries = workspace.list_audit(
    None if scope == "all" else scope,  # type: ignore[arg-type]
    actions=actions,
    actor=actor,
    since=utcnow() - span if span else None,
    limit=500,
)
if not entries:
    st.info("No entries match these filters.", icon=":material/search_off:")
    st.stop()
st.caption(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} (newest first, at most 500)")
picked = render.picked_row(audit_frame(entries, tenants), "audit_table")
if picked is None:
    st.caption("Select an entry to see it in full: the record's id and everything before and after.")
    st.stop()
entry = entries[picked]
st.subheader(f"{entry.action} · {audit_target(entry)}")
st.caption(f"Recorded as `{entry.target}` by {entry.actor} ({entry.actor_kind.value})")
before, after = st.columns(2)
before.markdown("**Before**")
before.json(entry.before or {}, expanded=True)
after.markdown("**After**")
after.json(entry.after or {}, expanded=True)
