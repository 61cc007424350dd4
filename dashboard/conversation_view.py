"""One conversation as the Chat and Conversations pages show it: the records it wrote, its
messages (each with its time, and marked when it was spoken) and tool calls, every message
that was never answered marked in red (with Retry for the last one where the principal may
chat), and "Turn into a scenario"."""

from __future__ import annotations

from uuid import UUID

import streamlit as st

from agent_core.access.models import Action
from agent_core.domain import Tenant, ToolCallRecord, TurnRecord
from agent_core.errors import AgentCoreError
from agent_core.store.voice_turns import VoiceTurn
from agent_core.tenant_settings import settings_from
from agent_core.workspace import Workspace
from dashboard import render
from dashboard.state import get_runtime, session_key
from dashboard.views import (
    booking_since,
    chat_items,
    claims_held_back,
    escape_markdown,
    last_attempts,
    records_touched,
    short_time,
    spoken_timings,
    unanswered_messages,
)


def show(
    workspace: Workspace, tenant: Tenant, conversation_id: UUID, *, retry: bool, recordings: bool = False
) -> bool:
    """Render the conversation; True when Retry was pressed (only offered with `retry`). With
    `recordings`, each spoken message has its timings and, while kept, both sides' audio."""
    messages, calls = workspace.conversation(tenant.id, conversation_id)
    if not messages:
        st.warning("This conversation is not one of this tenant's.", icon=":material/search_off:")
        return False
    records_panel(workspace, tenant, calls)
    scenario_button(workspace, tenant, conversation_id)
    turns = workspace.turns(tenant.id, conversation_id)
    attempts = last_attempts(turns)
    zone = settings_from(tenant.settings).zone(get_runtime().settings.zone)
    unanswered = unanswered_messages(turns)
    held_back = claims_held_back(turns)
    may_retry = retry and workspace.may(Action.CHAT, tenant.id)
    spoken = {v.turn_id: v for v in workspace.spoken_turns(tenant.id, conversation_id)} if recordings else {}
    if any(v.caller_audio or v.reply_audio for v in spoken.values()):
        forget_recordings_button(workspace, tenant, conversation_id)
    if notice := st.session_state.pop(session_key(tenant, "recordings_notice"), None):
        st.success(notice, icon=":material/check_circle:")
    pressed = False
    asked = -1
    for item in chat_items(messages, calls):
        if item.tool is not None:
            with st.chat_message("assistant", avatar=":material/build:"):
                render.tool_call(item.tool)
            continue
        caller = item.role == "user"
        if caller:
            asked += 1
        with st.chat_message(item.role):
            render.text(item.text)
            if caller and asked in attempts:
                attempt = attempts[asked]
                said = " · :material/mic: spoken" if attempt.spoken else ""
                st.caption(short_time(attempt.started_at, zone) + said)
                if attempt.id in spoken:
                    spoken_turn_player(spoken[attempt.id])
        if caller:
            if asked in unanswered:
                failed = unanswered[asked]
                offered = may_retry and failed.id == turns[-1].id
                pressed = failed_turn_marker(tenant, failed, retryable=offered) or pressed
            if asked in held_back:
                held_back_marker(held_back[asked])
    return pressed


def spoken_turn_player(voice: VoiceTurn) -> None:
    """A spoken message's timings, and what the caller said and what was answered, to play."""
    st.caption(spoken_timings(voice))
    if voice.caller_audio is None and voice.reply_audio is None:
        return
    caller, reply = st.columns(2)
    for column, label, recording in (
        (caller, "The caller", voice.caller_audio),
        (reply, "The answer", voice.reply_audio),
    ):
        if recording is not None:
            with column:
                st.caption(label)
                st.audio(recording.data, format=recording.media_type)


def forget_recordings_button(workspace: Workspace, tenant: Tenant, conversation_id: UUID) -> None:
    """Forget what was said and answered aloud in this conversation, when a caller asks
    (operators and admins; confirmed; audited). The timings stay."""
    if not workspace.may(Action.CORRECT, tenant.id):
        return
    with st.popover("Forget the recordings", icon=":material/voice_over_off:"):
        st.caption(
            "Deletes what the caller said and what was answered aloud in this conversation,"
            " before the tenant's retention would. The transcript and the timings stay."
        )
        confirm = st.checkbox("Yes, forget them", key=session_key(tenant, f"forget_confirm{conversation_id}"))
        if st.button(
            "Forget recordings", disabled=not confirm, key=session_key(tenant, f"forget{conversation_id}")
        ):
            try:
                forgotten = workspace.forget_recordings(tenant.id, conversation_id)
            except AgentCoreError as exc:
                st.error(str(exc), icon=":material/warning:")
            else:
                plural = "" if forgotten == 1 else "s"
                notice = f"Forgot the recordings of {forgotten} spoken message{plural}."
                st.session_state[session_key(tenant, "recordings_notice")] = notice
                st.rerun()


def held_back_marker(claims: tuple[str, ...]) -> None:
    """The sentences the answer to a message did not say: they claimed a change no tool made
    (each says which change, and quotes itself)."""
    listed = "; ".join(escape_markdown(claim) for claim in claims)
    st.warning(f"Held back from the answer — the model {listed}", icon=":material/gpp_maybe:")


def failed_turn_marker(tenant: Tenant, turn: TurnRecord, *, retryable: bool) -> bool:
    """A message that was never answered, in red; Retry (True when pressed) when offered."""
    st.error(f"Not answered: {turn.error or 'the turn failed'}", icon=":material/error:")
    if not retryable:
        return False
    return st.button(
        "Retry",
        icon=":material/refresh:",
        key=session_key(tenant, f"retry{turn.id}"),
        help="Answer this message again; it is not stored a second time.",
    )


def records_panel(workspace: Workspace, tenant: Tenant, calls: list[ToolCallRecord]) -> None:
    """The records this conversation wrote, each booking with its status now."""
    touched = records_touched(calls)
    if not touched:
        return
    with st.expander(f"Records this conversation wrote ({len(touched)})", icon=":material/folder_open:"):
        for record in touched:
            since = ""
            if record.booking_id is not None:
                since = booking_since(record, workspace.corrections.tour(tenant.id, UUID(record.booking_id)))
            st.markdown(f"- {escape_markdown(record.line + (f' — {since}' if since else ''))}")


def scenario_button(workspace: Workspace, tenant: Tenant, conversation_id: UUID) -> None:
    """Keep this conversation as a scenario: its messages replayed, its completed tool calls expected."""
    if not workspace.may(Action.EDIT_PROMPT, tenant.id):
        return
    with (
        st.popover("Turn into a scenario", icon=":material/fact_check:"),
        st.form(session_key(tenant, f"to_scenario{conversation_id}")),
    ):
        st.caption(
            "Replays these messages whenever the scenarios run, expecting the tool calls that"
            " succeeded here; you can edit it on the Scenarios page."
        )
        name = st.text_input("Scenario name", max_chars=120)
        if st.form_submit_button("Save scenario"):
            try:
                saved = workspace.scenarios.from_conversation(tenant.id, conversation_id, name)
            except AgentCoreError as exc:
                st.error(str(exc), icon=":material/warning:")
            else:
                st.success(f"Saved scenario “{saved.name}”.", icon=":material/check_circle:")
                st.page_link("pages/scenarios.py", label="Open the Scenarios page")
