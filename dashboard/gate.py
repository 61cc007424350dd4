"""The publish gate on screen: running scenarios with progress, a blocked publication with
its failures, and the admin's override. Shared by publishing a draft and rolling back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from uuid import UUID

import streamlit as st

from agent_core.access.models import Action
from agent_core.domain import Tenant
from agent_core.errors import AgentCoreError, GateBlockedError
from agent_core.prompt_changes import Publication
from agent_core.scenarios.results import SuiteReport
from agent_core.scenarios.runner import Progress
from agent_core.workspace import Workspace
from dashboard import render
from dashboard.state import session_key

Attempt = Callable[[str | None, Progress], Publication]
"""Publish (draft or roll-back) with an override reason or None, reporting progress."""


def progress_bar(what: str) -> Progress:
    """A progress bar for a scenario run, as the runner reports it."""
    bar = st.progress(0.0, text=f"Running the scenarios against {what}…")

    def report(done: int, total: int, name: str) -> None:
        share = done / total if total else 1.0
        bar.progress(
            share, text=f"{name or 'Done'} · {done} of {total} runs" if total else "No scenarios to run"
        )

    return report


def attempt(
    workspace: Workspace, tenant: Tenant, label: str, publish: Attempt, reason: str | None = None
) -> None:
    """Try to publish; on success leave a notice and rerun, when blocked remember the run to
    show it (with the override for admins) on the next run of the page."""
    blocked_key = session_key(tenant, "gate_blocked")
    progress = st.empty()
    try:
        with progress:
            report = progress_bar(label)
        published = publish(reason, report)
    except GateBlockedError as exc:
        st.session_state[blocked_key] = {"run": exc.run.id, "label": label, "message": str(exc)}
        st.rerun()
    except AgentCoreError as exc:
        # Refused before (or without) running: no progress bar left behind at 0%.
        progress.empty()
        st.error(str(exc), icon=":material/warning:")
        return
    st.session_state.pop(blocked_key, None)
    forced = (
        " (published past failing scenarios; the reason is in the audit log)" if published.overridden else ""
    )
    st.session_state[session_key(tenant, "prompt_notice")] = (
        f"Version {published.version.version} is live: {published.run.summary}{forced}."
        " The next turn uses it."
    )
    st.rerun()


def blocked_panel(workspace: Workspace, tenant: Tenant, publishers: Mapping[str, Attempt]) -> None:
    """What the last blocked publication found, and for admins a way past it with a reason."""
    blocked = st.session_state.get(session_key(tenant, "gate_blocked"))
    if not blocked or blocked["label"] not in publishers:
        return
    st.error(blocked["message"], icon=":material/block:")
    run = workspace.scenarios.get_run(tenant.id, UUID(str(blocked["run"])))
    render.suite_report(SuiteReport.model_validate(run.report))
    if not workspace.may(Action.OVERRIDE_GATE, tenant.id):
        st.caption("An admin can publish it anyway, giving a reason that the audit log keeps.")
        return
    with st.form(session_key(tenant, "override_form")):
        reason = st.text_input(
            "Reason to publish anyway (kept in the audit log)",
            max_chars=500,
            placeholder="e.g. the scenario expects the old business name; fixing it next",
        )
        if st.form_submit_button("Publish anyway", icon=":material/gavel:"):
            attempt(workspace, tenant, blocked["label"], publishers[blocked["label"]], reason)
