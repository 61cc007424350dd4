"""View and edit the tenant's system prompt, with every version kept, diffs and roll-back."""

from __future__ import annotations

import streamlit as st

from agent_core.access.forms import MAX_PROMPT_CHARS
from agent_core.access.models import Action
from agent_core.errors import AgentCoreError
from agent_core.tenant_settings import settings_from
from agent_core.views import local_time, prompt_diff
from dashboard.state import current_tenant, get_runtime, get_workspace, session_key

runtime = get_runtime()
workspace = get_workspace(runtime)
tenant = current_tenant(workspace)
zone = settings_from(tenant.settings).zone(runtime.settings.zone)
may_edit = workspace.may(Action.EDIT_PROMPT, tenant.id)
st.header(f"Prompt · {tenant.name}")
st.caption(
    "The system prompt tells the agent who it is and how to behave. Saving creates a new version"
    f" (kept with your name, {workspace.principal.label}); the next chat turn in every session and"
    " process uses it."
    if may_edit
    else "The system prompt tells the agent who it is and how to behave. Your role may read it only."
)
notice_key = session_key(tenant, "prompt_notice")
if notice := st.session_state.pop(notice_key, None):
    st.success(notice, icon=":material/check_circle:")

versions = workspace.list_prompt_versions(tenant.id)
if may_edit:
    with st.form(session_key(tenant, "prompt_form")):
        prompt = st.text_area(
            "System prompt", value=tenant.system_prompt, height=220, max_chars=MAX_PROMPT_CHARS
        )
        if st.form_submit_button("Save new version", type="primary"):
            if prompt.strip() == tenant.system_prompt.strip():
                st.info("No change to save.")
            else:
                try:
                    saved = workspace.save_prompt(tenant.id, prompt)
                except AgentCoreError as exc:
                    st.error(str(exc), icon=":material/warning:")
                else:
                    st.session_state[notice_key] = f"Saved version {saved.version}. The next turn uses it."
                    st.rerun()
else:
    st.code(tenant.system_prompt, language=None, wrap_lines=True)

st.subheader("History")
if len(versions) <= 1:
    st.caption("Only the original version so far.")
for newer, older in zip(versions, [*versions[1:], None], strict=True):
    current = newer is versions[0]
    title = f"Version {newer.version} · {local_time(newer.created_at, zone)} · {newer.author}"
    with st.expander(title + (" · current" if current else ""), expanded=current and older is not None):
        if older is None:
            st.caption("First version")
            st.code(newer.prompt, language=None, wrap_lines=True)
        else:
            diff = prompt_diff(
                older.prompt, newer.prompt, f"version {older.version}", f"version {newer.version}"
            )
            st.code(diff or "(same text as the version before)", language="diff", wrap_lines=True)
        if not current and may_edit:
            confirm = st.checkbox(
                f"Yes, make version {newer.version} current again",
                key=session_key(tenant, f"confirm{newer.version}"),
            )
            if st.button(
                f"Roll back to version {newer.version}",
                disabled=not confirm,
                key=session_key(tenant, f"rollback{newer.version}"),
            ):
                try:
                    restored = workspace.roll_back_prompt(tenant.id, newer.version)
                except AgentCoreError as exc:
                    st.error(str(exc), icon=":material/warning:")
                else:
                    st.session_state[notice_key] = (
                        f"Version {newer.version} is current again (saved as version {restored.version})."
                    )
                    st.rerun()
