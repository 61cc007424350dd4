"""What the agent did over a range of days: conversations and turns per day, tool calls and
their failure rates, bookings and cancellations, latency percentiles, tokens and cost —
for the selected tenant, or for every tenant (admins)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st
from streamlit.elements.lib.color_util import Color

from agent_core.access.models import Action
from agent_core.errors import AgentCoreError
from agent_core.tenant_settings import settings_from
from dashboard.filters import day_range
from dashboard.state import current_tenant, get_runtime, get_workspace, session_key
from dashboard.views import analytics_days_frame, analytics_latency_frame, analytics_tools_frame, counted

CHART_HEIGHT = 280
# The product's blue for counts, red for failures (the second series when there is one).
CHART_COLORS: list[Color] = ["#2563eb", "#d62728"]


def bars(frame: pd.DataFrame, x: str, y: list[str], *, sideways: bool = False) -> None:
    """Bars of one height on every chart, side by side when there are two series."""
    st.bar_chart(
        frame,
        x=x,
        y=y,
        color=CHART_COLORS[: len(y)],
        stack=False,
        horizontal=sideways,
        height=CHART_HEIGHT,
    )


runtime = get_runtime()
workspace = get_workspace(runtime)
tenant = current_tenant(workspace)
everyone = workspace.may(Action.ADMINISTER) and st.toggle(
    "All tenants",
    key=session_key(tenant, "analytics_all"),
    help="Admins see every tenant's activity together, each tenant's turns on its own days.",
)
today = workspace.analytics_today(None if everyone else tenant.id)
st.header("Analytics · all tenants" if everyone else f"Analytics · {tenant.name}")
with st.columns([2, 3])[0]:
    first_day, last_day = day_range(
        "Days",
        session_key(tenant, "analytics_days"),
        first=today - timedelta(days=29),
        last=today,
        latest=today,
    )
    zone = settings_from(tenant.settings).zone(runtime.settings.zone)
    st.caption(
        "Each tenant's turns on its own days." if everyone else f"Days in {zone} (the tenant's timezone)."
    )
if first_day is None or last_day is None:
    st.info("Pick the first and last day.")
    st.stop()
days = (first_day, last_day)
try:
    result = workspace.analytics(None if everyone else tenant.id, days[0], days[-1])
except AgentCoreError as exc:
    st.error(str(exc), icon=":material/warning:")
    st.stop()

if not result.days:
    st.info("No activity in these days.", icon=":material/insights:")
    st.stop()

per_day = analytics_days_frame(result, days[0], days[-1])
failed_share = result.failed_turns / result.turns if result.turns else 0.0
cost = result.cost(runtime.settings.parsed_model_prices)
columns = st.columns(6)
columns[0].metric("Conversations", f"{int(per_day['Conversations'].sum()):,}")
columns[1].metric("Turns", f"{result.turns:,}")
columns[2].metric(
    "Failed turns",
    f"{result.failed_turns:,} ({failed_share:.1%})",
    help="Turns that ended without an answer (the model down, a deadline); a retry is a turn of its own.",
)
columns[3].metric("Bookings", f"{result.succeeded('book_tour'):,}")
columns[4].metric("Cancellations", f"{result.succeeded('cancel_tour'):,}")
columns[5].metric(
    "Estimated cost",
    "—" if cost is None else f"${cost:,.2f}",
    help="From MODEL_PRICES (USD per million prompt/completion tokens per model)."
    + (" A model that used tokens has no price there." if cost is None else ""),
)
st.caption(
    f"{counted(len(result.days), 'day')} with activity of {counted(len(per_day), 'day')}"
    f" · {counted(int(per_day['Tokens'].sum()), 'token')}"
    f" · {counted(result.withheld_claims, 'claim')} held back from replies (no tool did what they said)"
)

st.subheader("Per day")
# Days as ISO text: a category axis gives each day a bar of its own width (on a time axis one
# active day was a 1-px line) and keeps the order; every chart the same height.
chart_days = per_day.assign(Day=per_day["Day"].map(lambda day: day.isoformat()))
bars(chart_days, "Day", ["Turns", "Failed turns"])
bars(chart_days, "Day", ["Conversations"])

left, right = st.columns(2)
with left:
    st.subheader("Tools")
    tools = analytics_tools_frame(result)
    if tools.empty:
        st.caption("No tool calls in these days.")
    else:
        bars(tools, "Tool", ["Calls", "Failed"], sideways=True)  # tool names read in full
        st.dataframe(tools, hide_index=True, width="stretch")
with right:
    st.subheader("Latency (ms)")
    st.dataframe(analytics_latency_frame(result), hide_index=True, width="stretch")
    st.caption(
        "A turn's time split into waiting for the model, running the tools, and the rest (the"
        " store and the loop); each row's percentiles are its own, so they do not add up."
        " Turns from before the split was recorded count in the first row only. Latencies are"
        " kept in buckets, so each figure is within 2.2% of the exact one."
    )
    if result.spoken_turns:
        st.caption(
            f"{result.spoken_turns:,} spoken turns: listening is how long the caller's audio lasted"
            " as it was transcribed; end of speech to first audio is the"
            " wait a caller hears."
        )
