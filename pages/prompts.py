"""A tenant's prompt: edit a draft, try it in the sandbox beside the live prompt, publish it
through the scenario gate, and see every version with diffs and roll-back."""

from __future__ import annotations

from functools import partial

import streamlit as st

from agent_core.access.forms import MAX_PROMPT_CHARS
from agent_core.access.models import Action
from agent_core.domain import PromptDraft, PromptVersion
from agent_core.errors import AgentCoreError
from agent_core.prompt_changes import Publication
from agent_core.scenarios.results import SuiteReport
from agent_core.scenarios.runner import Progress
from agent_core.scenarios.sandbox import Sandbox
from agent_core.tenant_settings import settings_from
from dashboard import gate, render
from dashboard.state import current_tenant, get_runtime, get_workspace, session_key
from dashboard.views import chat_items, local_time, prompt_diff

runtime = get_runtime()
workspace = get_workspace(runtime)
tenant = current_tenant(workspace)
zone = settings_from(tenant.settings).zone(runtime.settings.zone)
may_edit = workspace.may(Action.EDIT_PROMPT, tenant.id)
versions = workspace.prompts.versions(tenant.id)
draft = workspace.prompts.draft(tenant.id)
live = versions[0]

st.header(f"Prompt · {tenant.name}")
st.caption(
    f"Live: version {live.version} by {live.author}, {local_time(live.created_at, zone)}."
    + (
        " Edits are saved as a draft; try it in the sandbox, then publish: publishing runs this"
        " tenant's scenarios first and goes ahead only if they pass."
        if may_edit
        else " Your role may read the prompt and its history only."
    )
)
notice_key = session_key(tenant, "prompt_notice")
if notice := st.session_state.pop(notice_key, None):
    st.success(notice, icon=":material/check_circle:")


def publish_draft(reason: str | None, progress: Progress) -> Publication:
    return workspace.prompts.publish_draft(tenant.id, override_reason=reason, on_progress=progress)


def roll_back(version: int, reason: str | None, progress: Progress) -> Publication:
    return workspace.prompts.roll_back(tenant.id, version, override_reason=reason, on_progress=progress)


def draft_editor(draft: PromptDraft | None) -> None:
    """The draft: edit, compare with live, test, publish or discard."""
    if not may_edit:
        st.code(tenant.system_prompt, language=None, wrap_lines=True)
        return
    with st.form(session_key(tenant, "draft_form")):
        text = st.text_area(
            "Draft prompt",
            value=draft.prompt if draft else tenant.system_prompt,
            height=220,
            max_chars=MAX_PROMPT_CHARS,
            help="Saving keeps a draft; callers keep talking to the live version until you publish.",
        )
        if st.form_submit_button("Save draft", type="primary", icon=":material/save:"):
            if text.strip() == (draft.prompt if draft else tenant.system_prompt).strip():
                st.info("No change to save.")
            else:
                try:
                    workspace.prompts.save_draft(tenant.id, text)
                except AgentCoreError as exc:
                    st.error(str(exc), icon=":material/warning:")
                else:
                    # A new text is a new decision: confirm it again; the last refusal was of the old one.
                    st.session_state[session_key(tenant, "confirm_publish")] = False
                    st.session_state.pop(session_key(tenant, "gate_blocked"), None)
                    st.session_state[notice_key] = (
                        "Draft saved. The live prompt is unchanged: try it, then publish."
                    )
                    st.rerun()
    if draft is None:
        st.caption("No draft yet: edit the prompt above and save it as a draft.")
        return
    st.caption(
        f"Draft by {draft.author}, {local_time(draft.updated_at, zone)},"
        f" started from version {draft.base_version}."
    )
    if draft.base_version < live.version:
        st.warning(
            f"Version {live.version} went live after this draft was started: check the changes below"
            " before publishing, or they will be undone.",
            icon=":material/merge_type:",
        )
    with st.expander("Changes against the live prompt", icon=":material/difference:"):
        diff = prompt_diff(tenant.system_prompt, draft.prompt, f"live (version {live.version})", "draft")
        st.code(diff or "(same text)", language="diff", wrap_lines=True)
    gate.blocked_panel(workspace, tenant, {"the draft": publish_draft})
    confirm = st.checkbox(
        "Publish to every conversation once the scenarios pass", key=session_key(tenant, "confirm_publish")
    )
    publish_column, test_column, discard_column = st.columns(3)
    if publish_column.button(
        "Publish draft", type="primary", disabled=not confirm, icon=":material/publish:"
    ):
        gate.attempt(workspace, tenant, "the draft", publish_draft)
    if test_column.button("Run scenarios only", icon=":material/fact_check:"):
        try:
            run = workspace.scenarios.run(tenant.id, "draft", on_progress=gate.progress_bar("the draft"))
        except AgentCoreError as exc:
            st.error(str(exc), icon=":material/warning:")
        else:
            (st.success if run.passed else st.error)(f"Draft: {run.summary}.")
            render.suite_report(SuiteReport.model_validate(run.report))
    if discard_column.button("Discard draft", icon=":material/delete:"):
        workspace.prompts.discard_draft(tenant.id)
        st.session_state.pop(session_key(tenant, "gate_blocked"), None)
        st.session_state[notice_key] = "Draft discarded; the live prompt is unchanged."
        st.rerun()


def _sandboxes(draft: PromptDraft) -> dict[str, Sandbox]:
    """The session's pair of sandboxes for this draft text (new ones when the draft changed)."""
    key = session_key(tenant, "sandbox")
    kept = st.session_state.get(key)
    if kept is None or kept["prompt"] != draft.prompt:
        if kept is not None:
            for sandbox in kept["pair"].values():
                sandbox.close()
        kept = {
            "prompt": draft.prompt,
            "pair": {
                "Draft": workspace.prompts.sandbox(tenant.id, draft.prompt),
                f"Live (version {live.version})": workspace.prompts.sandbox(tenant.id, tenant.system_prompt),
            },
        }
        st.session_state[key] = kept
    pair: dict[str, Sandbox] = kept["pair"]
    return pair


def sandbox_chat(draft: PromptDraft | None) -> None:
    """The same messages to the draft and to the live prompt, side by side; nothing real written."""
    if not may_edit:
        st.info("Trying a draft needs an operator or admin role.", icon=":material/lock:")
        return
    if draft is None:
        st.info("Save a draft first; the sandbox then answers with it beside the live prompt.")
        return
    st.warning(
        "**Sandbox.** Tools really run, on a throwaway copy of this tenant with no records: nothing is"
        " saved, no customer is contacted, and it is gone when you start over or the draft changes.",
        icon=":material/science:",
    )
    pair = _sandboxes(draft)
    message = st.chat_input("Message both versions", key=session_key(tenant, "sandbox_input"))
    if st.button("Start over", icon=":material/restart_alt:"):
        for sandbox in pair.values():
            sandbox.close()
        st.session_state.pop(session_key(tenant, "sandbox"), None)
        st.rerun()
    columns = dict(zip(pair, st.columns(len(pair)), strict=True))
    for label, sandbox in pair.items():
        with columns[label]:
            st.subheader(label)
            if message is not None:
                try:
                    with st.spinner("Thinking…"):
                        sandbox.say(message)
                except AgentCoreError as exc:
                    st.error(str(exc), icon=":material/warning:")
            messages, calls = sandbox.transcript()
            if not messages:
                st.caption("Send a message to compare the answers.")
            for item in chat_items(messages, calls):
                if item.tool is not None:
                    with st.chat_message("assistant", avatar=":material/build:"):
                        render.tool_call(item.tool)
                else:
                    with st.chat_message(item.role):
                        render.text(item.text)


def history(versions: list[PromptVersion]) -> None:
    """Every version with its diff; an earlier one can go live again through the gate."""
    if len(versions) <= 1:
        st.caption("Only the original version so far.")
    publishers = {f"version {v.version}": partial(roll_back, v.version) for v in versions[1:]}
    gate.blocked_panel(workspace, tenant, publishers)
    for newer, older in zip(versions, [*versions[1:], None], strict=True):
        current = newer is versions[0]
        title = f"Version {newer.version} · {local_time(newer.created_at, zone)} · {newer.author}"
        with st.expander(title + (" · live" if current else ""), expanded=current and older is not None):
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
                    f"Yes, make version {newer.version} live again once the scenarios pass",
                    key=session_key(tenant, f"confirm{newer.version}"),
                )
                if st.button(
                    f"Roll back to version {newer.version}",
                    disabled=not confirm,
                    key=session_key(tenant, f"rollback{newer.version}"),
                ):
                    label = f"version {newer.version}"
                    gate.attempt(workspace, tenant, label, publishers[label])


# Bound to the link, so the open tab stays open when a rerun adds or drops a notice above
# it, and a shared link opens the same tab.
draft_tab, sandbox_tab, history_tab = st.tabs(
    ["Draft and publish", "Try it (sandbox)", "History"],
    key="tab",
    bind="query-params",
)
with draft_tab:
    draft_editor(draft)
with sandbox_tab:
    sandbox_chat(draft)
with history_tab:
    history(versions)
