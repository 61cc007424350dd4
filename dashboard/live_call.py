"""The chat pane's live call: a Streamlit component of our own (its script, live_call.js, runs
in the page: the microphone, the WebSocket to /api/voice/live, the replies' audio)."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import streamlit as st

_CSS = """
.vam-call { display: flex; flex-direction: column; gap: 0.4rem; }
.vam-call-button {
  align-self: flex-start; padding: 0.45rem 1.1rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid var(--st-primary-color); background: var(--st-primary-color); color: white;
  font: inherit;
}
.vam-call-button[data-active="true"] { background: #d62728; border-color: #d62728; }
.vam-call-status { color: var(--st-text-color); opacity: 0.75; font-size: 0.9rem; }
.vam-call-log { margin: 0; padding-left: 1.1rem; font-size: 0.9rem; }
"""

_component = st.components.v2.component(
    "vam_live_call", js=(Path(__file__).with_name("live_call.js")).read_text(), css=_CSS
)


def live_call(tenant_id: UUID, conversation_id: UUID | None, key: str) -> UUID | None:
    """The call's controls and what was said; the conversation a reply was just given in."""
    result = _component(
        data={
            "tenantId": str(tenant_id),
            "conversationId": None if conversation_id is None else str(conversation_id),
        },
        key=key,
        on_replied_change=lambda: None,
    )
    replied = getattr(result, "replied", None)
    return UUID(str(replied)) if replied else None
