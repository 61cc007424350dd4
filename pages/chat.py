"""Chat with the selected tenant's agent: the answer and its tool calls show as they come, a
running answer can be stopped, and the event log keeps refreshing meanwhile."""

from __future__ import annotations

from uuid import UUID

import streamlit as st

from agent_core.access.models import Action
from agent_core.agent.background import BackgroundTurn
from agent_core.agent.steps import ReplyDelta, ToolCallFinished, ToolCallStarted
from agent_core.domain import Tenant
from agent_core.errors import (
    InvalidInputError,
    ModelError,
    ModelUnavailableError,
    TurnStoppedError,
    VoiceUnavailableError,
)
from agent_core.store.conversation_log import ConversationQuery
from agent_core.tenant_settings import settings_from
from agent_core.voice.channel import Heard
from agent_core.voice.recording import SpokenTurn
from agent_core.workspace import Workspace
from dashboard import conversation_view, render
from dashboard.live_call import live_call
from dashboard.state import current_tenant, get_runtime, get_workspace, session_key
from dashboard.views import conversation_label, escape_markdown, event_gist, run_summary, short_time

runtime = get_runtime()
workspace = get_workspace(runtime)
tenant = current_tenant(workspace)
zone = settings_from(tenant.settings).zone(runtime.settings.zone)
conversation_key = session_key(tenant, "conversation")
# The turn this session is answering, if any: it runs on its own thread (BackgroundTurn).
running_key = session_key(tenant, "running_turn")
# The message being answered when it was spoken (its reply is spoken then), and that audio.
spoken_key = session_key(tenant, "spoken_turn")
reply_audio_key = session_key(tenant, "reply_audio")


def pick_conversation(workspace: Workspace, tenant: Tenant) -> UUID | None:
    """New conversation, or one of this tenant's latest ones."""
    latest = workspace.search_conversations(tenant.id, ConversationQuery(limit=30)).rows
    labels = {c.id: conversation_label(c, zone) for c in latest}
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
        format_func=lambda c: "New conversation" if c is None else labels[c],
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
    return (
        f"Start a conversation. Try: “I want to book {settings.a_booking} for John Smith on"
        " 2027-03-15 in Paris.”,"
        f" “Please note that the client prefers mornings.” or"
        " “Update contact info for Sarah Jones: email is sarah@example.com.”"
    )


def start_turn(
    workspace: Workspace,
    tenant: Tenant,
    message: str | None,
    conversation_id: UUID | None,
    *,
    heard: Heard | None = None,
) -> None:
    """Send one message (None: answer the failed last one again) on a thread of its own, then
    redraw the page: the conversation with the stored message, and the answer as it comes."""
    if message is None and conversation_id is not None:
        turn = BackgroundTurn(lambda: workspace.stream(workspace.retry_request(tenant.id, conversation_id)))
    else:
        turn = BackgroundTurn(
            lambda: workspace.stream(
                workspace.turn_request(tenant.id, message or "", conversation_id), spoken=heard is not None
            )
        )
    st.session_state[running_key] = turn
    # Its reply is spoken too, and the spoken turn kept with the conversation.
    st.session_state[spoken_key] = None if heard is None else SpokenTurn(heard)
    # The message is stored within milliseconds, and the offline model answers about as fast:
    # such a turn is drawn finished, without a live pane that would only flash.
    turn.wait_began(5.0)
    turn.wait_done(0.25)
    if turn.conversation_id is not None:
        st.session_state[conversation_key] = turn.conversation_id
        st.query_params["conversation"] = str(turn.conversation_id)
    st.rerun()


def finished_turn_notice(turn: BackgroundTurn) -> str | None:
    """What to say about a turn that ended, beyond what the conversation shows: an error that
    left nothing stored (refused input, busy conversation) or that the conversation cannot show."""
    error = turn.error
    if error is None:
        return None
    marked = (ModelUnavailableError, ModelError, TurnStoppedError)
    return None if turn.started is not None and isinstance(error, marked) else str(error)


@st.fragment(run_every="0.5s")
def live_turn(workspace: Workspace, tenant: Tenant, turn: BackgroundTurn) -> None:
    """The answer being written: text and tool calls as they come, how long it has been
    thinking, and Stop. Redraws the whole page once the turn has ended."""
    if turn.done:
        st.rerun(scope="app")
    steps = turn.steps()
    finished = {s.record.call_id: s for s in steps if isinstance(s, ToolCallFinished)}
    text = ""
    with st.chat_message("assistant"):
        for step in steps:
            if isinstance(step, ToolCallStarted):
                done = finished.get(step.call_id)
                if done is None:
                    render.tool_call_running(step.name, step.arguments)
                else:
                    render.tool_call(done.record, done.replayed)
            elif isinstance(step, ReplyDelta):
                text += step.text
        if text:
            st.markdown(escape_markdown(text) + " ▌")
        waiting, stop = st.columns([4, 1], vertical_alignment="center")
        waiting.caption(
            f":material/hourglass_top: Thinking… {turn.elapsed_seconds:.0f} s"
            f" (it gives up after {workspace.turn_deadline_seconds:g} s)"
        )
        started = turn.started
        if (
            stop.button(
                "Stop",
                icon=":material/stop_circle:",
                disabled=started is None,
                help="Stop answering; the message stays, marked not answered, with Retry.",
            )
            and started is not None
        ):
            workspace.stop_turn(tenant.id, started.turn_id)
            st.caption("Stopping…")


@st.fragment(run_every="2s")
def event_log(workspace: Workspace, tenant: Tenant) -> None:
    """This tenant's latest events and listener runs, refreshed every two seconds."""
    records = workspace.list_events(tenant.id, newest_first=True, limit=25)
    if not records:
        st.caption("No events yet. They appear here as the agent works.")
        return
    for record in records:
        event = record.event
        gist = event_gist(event.name, event.payload)
        st.markdown(
            f"`{short_time(event.created_at, zone)}` **{escape_markdown(event.name)}**"
            + (f" · {escape_markdown(gist)}" if gist else "")
        )
        if record.runs:
            st.caption(run_summary(record))


def spoken_message(workspace: Workspace, tenant: Tenant, audio: bytes) -> Heard | None:
    """What the caller said in the recording, shown as it was heard; None (with the reason
    shown) when nothing could be heard."""
    try:
        with st.spinner("Listening…"):
            return workspace.hear(tenant.id, audio)
    except (InvalidInputError, VoiceUnavailableError) as exc:
        st.error(str(exc), icon=":material/mic_off:")
        return None


def speak_reply(workspace: Workspace, tenant: Tenant, turn: BackgroundTurn) -> None:
    """Speak the answer to a spoken message (kept for the page to play once), and keep the
    spoken turn with its conversation."""
    spoken: SpokenTurn | None = st.session_state.pop(spoken_key, None)
    if spoken is None:
        return
    if (started := turn.started) is not None:
        spoken.started(started.turn_id, started.conversation_id)
    result = turn.result
    if result is not None and result.reply:
        spoken.answered()
        try:
            st.session_state[reply_audio_key] = workspace.say(tenant.id, result.reply)
            spoken.spoke(st.session_state[reply_audio_key])
        except VoiceUnavailableError as exc:
            st.session_state[reply_audio_key] = None
            st.warning(f"The reply could not be spoken: {exc}", icon=":material/volume_off:")
    workspace.keep_spoken_turn(tenant.id, spoken)


running = st.session_state.get(running_key)
notice = None
if running is not None and running.done:
    del st.session_state[running_key]
    notice = finished_turn_notice(running)
    speak_reply(workspace, tenant, running)
    running = None

chat_column, log_column = st.columns([3, 2], gap="large")
with chat_column:
    st.subheader(f"Chat · {tenant.name}")
    conversation_id = pick_conversation(workspace, tenant)
    retry = False
    if conversation_id is None:
        st.info(example_hint(tenant), icon=":material/lightbulb:")
    else:
        retry = conversation_view.show(workspace, tenant, conversation_id, retry=running is None)
    if notice is not None:
        st.error(notice, icon=":material/warning:")
    if (reply_audio := st.session_state.pop(reply_audio_key, None)) is not None:
        st.audio(reply_audio, format="audio/wav", autoplay=True)
    if running is not None:
        if running.conversation_id in (None, conversation_id):
            live_turn(workspace, tenant, running)
        else:
            st.info(
                "Another conversation of this tenant is still being answered; open it to follow"
                " the answer or stop it.",
                icon=":material/hourglass_top:",
            )
    may_chat = workspace.may(Action.CHAT, tenant.id)
    # No max_chars: the browser would silently drop a longer paste; the turn's validation
    # says instead how long the message was and what the limit is.
    if not may_chat:
        placeholder = "Viewers read conversations; chatting needs an operator"
    elif running is not None:
        placeholder = "Answering… wait for the answer or stop it"
    else:
        placeholder = f"Message {tenant.name}'s assistant"
    hears = workspace.voice.ears is not None
    calling = (
        hears
        and may_chat
        and st.toggle(
            "Live call",
            key=session_key(tenant, "live_call"),
            help="Talk hands free: the assistant answers when you pause, and stops when you speak over it.",
        )
    )
    prompt: str | None = None
    heard: Heard | None = None
    if calling:
        replied = live_call(tenant.id, conversation_id, key=session_key(tenant, "call"))
        if replied is not None and replied != conversation_id:
            st.session_state[conversation_key] = replied
            st.query_params["conversation"] = str(replied)
            st.rerun()
    else:
        sent = st.chat_input(
            placeholder,
            key=session_key(tenant, "chat_input"),
            disabled=not may_chat or running is not None,
            accept_audio=hears,
        )
        if isinstance(sent, str):
            prompt = sent
        elif sent is not None:
            recording = sent.audio
            if recording is None:
                prompt = sent.text
            elif (heard := spoken_message(workspace, tenant, recording.getvalue())) is not None:
                prompt = heard.text
    if not hears:
        st.caption(f":material/mic_off: Talking needs speech-to-text: {workspace.voice.missing}")
    if prompt is not None or retry:
        start_turn(workspace, tenant, prompt, conversation_id, heard=heard)
with log_column:
    st.subheader("Event log")
    event_log(workspace, tenant)
