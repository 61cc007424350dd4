"""Every conversation of the tenant — from the dashboard, the API or the CLI — searched and
opened: the transcript with each tool call, failures marked, the records it wrote."""

from __future__ import annotations

from uuid import UUID

import streamlit as st

from agent_core.domain import Channel
from agent_core.errors import AgentCoreError
from agent_core.store.conversation_log import ConversationQuery, Outcome
from agent_core.tenant_settings import settings_from
from dashboard import conversation_view
from dashboard.filters import current_page, day_range
from dashboard.state import current_tenant, get_runtime, get_workspace, session_key
from dashboard.views import conversations_frame, counted

ANY = "any"
PAGE_SIZE = 50

runtime = get_runtime()
workspace = get_workspace(runtime)
tenant = current_tenant(workspace)
zone = settings_from(tenant.settings).zone(runtime.settings.zone)
key = session_key(tenant, "log")
st.header(f"Conversations · {tenant.name}")
st.caption("Every conversation of this tenant, whatever it came through, latest activity first.")

top = st.columns(2)
text = top[0].text_input("Search the messages", key=f"{key}:text", placeholder="words said or answered")
customer = top[1].text_input("Customer", key=f"{key}:customer", placeholder="name, email or phone")
more = st.columns([2, 2, 2, 4])
outcome = more[0].selectbox("Outcome", [ANY, *(o.value for o in Outcome)], key=f"{key}:outcome")
tool = more[1].selectbox("Tool", [ANY, *(s.name for s in runtime.agent.tools.specs)], key=f"{key}:tool")
channel = more[2].selectbox("Channel", [ANY, *(c.value for c in Channel)], key=f"{key}:channel")
with more[3]:
    started = day_range("Started", f"{key}:days")
page_number = current_page(key, (text, customer, outcome, tool, channel, started))
query = ConversationQuery(
    text=text,
    customer=customer,
    date_from=started[0],
    date_to=started[1],
    outcome=None if outcome == ANY else Outcome(outcome),
    tool="" if tool == ANY else tool,
    channel=None if channel == ANY else Channel(channel),
    limit=PAGE_SIZE,
    offset=(page_number - 1) * PAGE_SIZE,
)
try:
    page = workspace.search_conversations(tenant.id, query)
except AgentCoreError as exc:
    st.error(str(exc), icon=":material/warning:")
    st.stop()

if page.total == 0:
    filtered = any((text, customer, *started)) or any(v != ANY for v in (outcome, tool, channel))
    st.info(
        "No conversation matches these filters."
        if filtered
        else "No conversations yet. They appear here from the Chat page, the API and the CLI.",
        icon=":material/forum:",
    )
else:
    first = query.offset + 1
    # A text in very many conversations is counted up to a bound (counting all costs seconds).
    found = (
        f"More than {counted(page.total, 'conversation')}"
        if page.at_least
        else counted(page.total, "conversation")
    )
    st.caption(f"{found} · showing {first:,}–{first + len(page.rows) - 1:,}")
    picked = st.dataframe(
        conversations_frame(page.rows, zone),
        hide_index=True,
        width="stretch",
        # The message takes the room; the numbers need little (all columns fit at 1,400 px).
        column_config={
            "First message": st.column_config.TextColumn(width="medium"),
            **{
                n: st.column_config.Column(width="small")
                for n in ("Turns", "Outcome", "Unanswered", "Tokens", "Duration")
            },
        },
        on_select="rerun",
        selection_mode="single-row",
        key=f"{key}:table",
    )
    st.pagination(-(-page.total // PAGE_SIZE), key=f"{key}:page")
    if picked.selection.rows:
        st.query_params["conversation"] = str(page.rows[picked.selection.rows[0]].id)

opened = st.query_params.get("conversation")
if opened:
    try:
        conversation_id = UUID(opened)
    except ValueError:
        st.warning("The conversation in the link is not a conversation id.")
    else:
        st.divider()
        st.subheader("Transcript")
        link, go = st.columns([4, 1], vertical_alignment="center")
        link.caption(
            f"Link to this conversation: add `?conversation={conversation_id}` to this page's address."
        )
        if go.button("Open in Chat", icon=":material/chat:", help="Continue this conversation"):
            st.session_state[session_key(tenant, "conversation")] = conversation_id
            st.query_params.pop("conversation", None)
            st.switch_page("pages/chat.py")
        conversation_view.show(workspace, tenant, conversation_id, retry=False, recordings=True)
