"""A tenant's settings (admins): its timezone and date order, the tools its agent may use,
what it calls a booking, the example its chat suggests, and how its replies are spoken."""

from __future__ import annotations

from zoneinfo import available_timezones

import streamlit as st

from agent_core.access.models import Action
from agent_core.errors import AgentCoreError
from agent_core.tenant_settings import settings_from
from agent_core.tools import TOOL_NAMES
from dashboard.state import current_tenant, get_runtime, get_workspace, require_page, session_key

runtime = get_runtime()
workspace = get_workspace(runtime)
require_page(workspace, Action.ADMINISTER)
tenant = current_tenant(workspace)
settings = settings_from(tenant.settings)
st.header(f"Settings · {tenant.name}")
st.caption("Each change is kept in the audit log. The next turn of this tenant's agent uses it.")
if notice := st.session_state.pop(session_key(tenant, "settings_notice"), None):
    st.success(notice, icon=":material/check_circle:")

DEFAULT_ZONE = f"Default ({runtime.settings.timezone})"
zones = [DEFAULT_ZONE, *sorted(available_timezones())]
with st.form(session_key(tenant, "settings_form")):
    zone = st.selectbox(
        "Timezone",
        zones,
        index=zones.index(settings.timezone) if settings.timezone in zones else 0,
        help="The agent's 'today' and 'tomorrow' are this zone's.",
    )
    order = st.radio(
        "Numeric dates like 03/04/2027 mean",
        ["day_first", "month_first"],
        index=0 if settings.date_order == "day_first" else 1,
        format_func=lambda o: "3 April (day first)" if o == "day_first" else "March 4 (month first)",
        horizontal=True,
    )
    tools = st.multiselect(
        "Tools the agent may use",
        list(TOOL_NAMES),
        default=list(settings.enabled_tools or TOOL_NAMES),
        help="A tool left out is neither offered to the model nor run.",
    )
    columns = st.columns(2)
    noun = columns[0].text_input("A booking is called", value=settings.booking_noun, max_chars=30)
    plural = columns[1].text_input("Plural", value=settings.booking_noun_plural, max_chars=30)
    example = st.text_area(
        "Example request shown in the chat",
        value=settings.example or "",
        max_chars=300,
        placeholder=f"e.g. Book {settings.a_booking} for Ana Silva on 2027-01-10",
    )
    st.markdown(f"**Voice** · {workspace.voice.describe()}")
    voice_columns = st.columns(3)
    voice = voice_columns[0].text_input(
        "Voice",
        value=settings.voice or "",
        max_chars=50,
        placeholder="The model's own",
        help="A voice of the speech model, e.g. alloy or nova for OpenAI; the offline voices have one each.",
    )
    speed = voice_columns[1].slider(
        "Speaking pace", 0.5, 2.0, value=settings.speech_speed, step=0.05, help="1.0 is the voice's own pace."
    )
    language = voice_columns[2].text_input(
        "Callers speak",
        value=settings.language or "",
        max_chars=2,
        placeholder="en",
        help="An ISO 639-1 code like en, fr or pt; the offline model (tiny.en) hears English only.",
    )
    recording_days = st.number_input(
        "Keep recordings for (days)",
        min_value=0,
        max_value=3650,
        value=settings.recording_days,
        step=1,
        help=(
            "What callers said and what was answered, playable on the Conversations page. 0 keeps"
            " none; shortening it forgets older recordings within the hour. Timings are always kept."
        ),
    )
    if st.form_submit_button("Save settings", type="primary"):
        try:
            workspace.update_tenant_settings(
                tenant.id,
                timezone=None if zone == DEFAULT_ZONE else zone,
                date_order=order,
                enabled_tools=None if set(tools) == set(TOOL_NAMES) else tools,
                booking_noun=noun,
                booking_noun_plural=plural,
                example=example.strip() or None,
                voice=voice.strip() or None,
                speech_speed=speed,
                language=language.strip().lower() or None,
                recording_days=int(recording_days),
                # Not on this form (set through the API): saving the form keeps it.
                phone_region=settings.phone_region,
            )
        except AgentCoreError as exc:
            st.error(str(exc), icon=":material/warning:")
        else:
            st.session_state[session_key(tenant, "settings_notice")] = "Settings saved."
            st.rerun()
