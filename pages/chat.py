"""Chat with the selected tenant's agent; tool calls show live; the event log refreshes itself."""

from __future__ import annotations

from uuid import UUID

import streamlit as st

from agent_core.access.models import Action
from agent_core.agent.steps import ReplyDelta, ToolCallFinished, ToolCallStarted, TurnFinished, TurnStarted
from agent_core.domain import Tenant
from agent_core.errors import AgentCoreError, ModelError, ModelUnavailableError
from agent_core.tenant_settings import settings_from
from agent_core.views import (
    conversation_label,
    escape_markdown,
    run_summary,
)
from agent_core.workspace import Workspace
from dashboard import conversation_view, render
from dashboard.state import current_tenant, get_runtime, get_workspace, session_key

runtime = get_runtime()
workspace = get_workspace(runtime)
tenant = current_tenant(workspace)
conversation_key = session_key(tenant, "conversation")


def pick_conversation(workspace: Workspace, tenant: Tenant) -> UUID | None:
    """New conversation, or one of this tenant's earlier ones."""
    summaries = workspace.list_conversations(tenant.id, limit=30)
    labels = {s.id: conversation_label(s) for s in summaries}
    if conversation_key not in st.session_state:
        # A reload or a shared link reopens the conversation it names, if it is this tenant's.
        linked = _conversation_in_link(workspace, tenant)
        if linked is not None:
            st.session_state[conversation_key] = linked
            labels.setdefault(linked, "Conversation from the link")
    current = st.session_state.get(conversation_key)
    options: list[UUID | None] = [None, *labels]
    choice = st.selectbox(
        "Conversation",
        options,
        index=options.index(current) if current in options else 0,
        format_func=lambda c: "➕ New conversation" if c is None else labels[c],
    )
    st.session_state[conversation_key] = choice
    if choice is None:
        st.query_params.pop("conversation", None)
    else:
        st.query_params["conversation"] = str(choice)
    return choice


def _conversation_in_link(workspace: Workspace, tenant: Tenant) -> UUID | None:
    raw = st.query_params.get("conversation")
    try:
        conversation_id = UUID(str(raw)) if raw else None
    except ValueError:
        conversation_id = None
    if conversation_id is None:
        return None
    messages, _ = workspace.conversation(tenant.id, conversation_id)
    if not messages:
        st.warning("The conversation in the link is not one of this tenant's; starting a new one.")
        return None
    return conversation_id


def example_hint(tenant: Tenant) -> str:
    """What to try first: the business's own example, or one in its words."""
    settings = settings_from(tenant.settings)
    if settings.example:
        return f"Start a conversation. Try: “{settings.example}”"
    noun = settings.booking_noun
    return (
        f"Start a conversation. Try: “I want to book a {noun} for John Smith on 2027-03-15 in Paris.”,"
        f" “Please note that the client prefers mornings.” or"
        " “Update contact info for Sarah Jones: email is sarah@example.com.”"
    )


def run_turn(workspace: Workspace, tenant: Tenant, message: str | None, conversation_id: UUID | None) -> None:
    """Send one message (None: answer the failed last one again) and show every step as it
    happens."""
    if message is not None:
        with st.chat_message("user"):
            render.text(message)
    with st.chat_message("assistant"):
        try:
            if message is None and conversation_id is not None:
                steps = workspace.retry_turn(tenant.id, conversation_id)
            else:
                steps = workspace.stream_turn(tenant.id, message or "", conversation_id)
        except AgentCoreError as exc:
            st.error(str(exc), icon=":material/warning:")
            return
        reply = None
        text = ""
        running = {}
        try:
            with st.spinner("Thinking…"):
                for step in steps:
                    if isinstance(step, TurnStarted):
                        st.session_state[conversation_key] = step.conversation_id
                        st.query_params["conversation"] = str(step.conversation_id)
                    elif isinstance(step, ToolCallStarted):
                        running[step.call_id] = render.tool_call_started(step.name, step.arguments)
                    elif isinstance(step, ToolCallFinished):
                        render.tool_call_finished(
                            running.pop(step.record.call_id), step.record, step.replayed
                        )
                    elif isinstance(step, ReplyDelta):
                        # Created on the first words, so tool calls stay above the reply.
                        reply = reply or st.empty()
                        text += step.text
                        reply.markdown(escape_markdown(text) + " ▌")
                    elif isinstance(step, TurnFinished):
                        result = step.result
                        render.text(result.reply, reply or st.empty())
                        st.caption(
                            f"{result.model} · {result.latency_ms:.0f} ms"
                            f" · {result.model_calls} model call(s) · {result.usage.total_tokens} tokens"
                        )
        except (ModelUnavailableError, ModelError):
            # The conversation now shows the message as not answered, with Retry.
            st.rerun()
        except AgentCoreError as exc:
            st.error(str(exc), icon=":material/warning:")
            return
    if message is None:
        # Answered now: redraw the conversation without its "Not answered" mark.
        st.rerun()


@st.fragment(run_every="2s")
def event_log(workspace: Workspace, tenant: Tenant) -> None:
    """This tenant's latest events and listener runs, refreshed every two seconds."""
    records = workspace.list_events(tenant.id, newest_first=True, limit=25)
    if not records:
        st.caption("No events yet. They appear here as the agent works.")
        return
    for record in records:
        event = record.event
        st.markdown(f"`{event.created_at:%H:%M:%S}` **{escape_markdown(event.name)}**")
        if record.runs:
            st.caption(run_summary(record))


chat_column, log_column = st.columns([3, 2], gap="large")
with chat_column:
    st.subheader(f"Chat · {tenant.name}")
    conversation_id = pick_conversation(workspace, tenant)
    history = st.container()
    with history:
        retry = False
        hint = st.empty()
        if conversation_id is None:
            hint.info(example_hint(tenant), icon=":material/lightbulb:")
        else:
            retry = conversation_view.show(workspace, tenant, conversation_id, retry=True)
    may_chat = workspace.may(Action.CHAT, tenant.id)
    # No max_chars: the browser would silently drop a longer paste; the turn's validation
    # says instead how long the message was and what the limit is.
    prompt = st.chat_input(
        f"Message {tenant.name}'s assistant"
        if may_chat
        else "Viewers read conversations; chatting needs an operator",
        key=session_key(tenant, "chat_input"),
        disabled=not may_chat,
    )
    if prompt is not None or retry:
        hint.empty()
        with history:
            run_turn(workspace, tenant, prompt, conversation_id)
with log_column:
    st.subheader("Event log")
    event_log(workspace, tenant)
