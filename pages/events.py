"""The full event log: filter by event, listener status and time; inspect and replay failures."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import streamlit as st

from agent_core.access.models import Action
from agent_core.clock import utcnow
from agent_core.domain import EventName, RunStatus
from agent_core.tenant_settings import settings_from
from dashboard import render
from dashboard.state import current_tenant, get_runtime, get_workspace, session_key
from dashboard.views import events_frame, local_time

WINDOWS = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "All time": None,
}

runtime = get_runtime()
workspace = get_workspace(runtime)
tenant = current_tenant(workspace)
zone = settings_from(tenant.settings).zone(runtime.settings.zone)
st.header(f"Events · {tenant.name}")
st.caption("Every event the agent emitted and what each background listener did with it. Kept in the store.")

key = session_key(tenant, "events")
filters = st.columns([4, 2, 2, 1])
names = filters[0].multiselect(
    "Events", [e.value for e in EventName], key=f"{key}:names", placeholder="All events"
)
status_label = filters[1].selectbox(
    "Listener status", ["Any", *[s.value for s in RunStatus]], key=f"{key}:status"
)
window = filters[2].selectbox("Time", list(WINDOWS), index=1, key=f"{key}:window")
limit = filters[3].selectbox("Rows", [100, 250, 1000], key=f"{key}:limit")
span = WINDOWS[window]
records = workspace.list_events(
    tenant.id,
    newest_first=True,
    limit=limit,
    names=names,
    status=None if status_label == "Any" else RunStatus(status_label),
    since=utcnow() - span if span else None,
)
if not records:
    st.info("No events match. Chat with the agent to create some.", icon=":material/inbox:")
    st.stop()
st.caption(f"{len(records)} events (newest first)")
picked = render.picked_row(events_frame(records, zone), f"{key}:table")
if picked is not None:
    chosen = records[picked].event
    with st.container(border=True):
        st.markdown(f"**#{chosen.seq} {chosen.name}** · {local_time(chosen.created_at, zone)}")
        st.json(chosen.payload, expanded=True)
else:
    st.caption("Select an event to see everything it carried.")

failed = [r for r in records if any(run.status is RunStatus.FAILED for run in r.runs)]
st.subheader(f"Failed listener runs ({len(failed)})")
if not failed:
    st.caption("None: every listener run succeeded or is still pending.")
for record in failed:
    with st.expander(
        f"#{record.event.seq} {record.event.name} · {local_time(record.event.created_at, zone)}"
    ):
        for run in record.runs:
            if run.status is RunStatus.FAILED:
                st.markdown(f"**{run.listener}** failed after {run.attempts} attempt(s)")
                st.code(run.last_error or "no error recorded", language=None)
        if workspace.may(Action.REPLAY, tenant.id) and st.button(
            "Replay failed listeners", key=f"{key}:replay:{record.event.id}"
        ):
            replayed = workspace.replay_event(tenant.id, UUID(str(record.event.id)))
            st.toast(f"Replaying {', '.join(replayed) or 'nothing'}; the log updates as it runs.")
