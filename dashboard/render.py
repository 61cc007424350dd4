"""How chat messages and tool calls look, live and in the history alike."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.elements.lib.mutable_status_container import StatusContainer

from agent_core.domain import JsonDict, ToolCallRecord, ToolCallStatus
from agent_core.views import escape_markdown, tool_call_label


def text(message: str, target: DeltaGenerator | None = None) -> None:
    """Show user or model text literally (never as HTML, links or LaTeX)."""
    (target or st).markdown(escape_markdown(message))


def tool_call_started(name: str, arguments: JsonDict | str) -> StatusContainer:
    """A running tool call, to be completed by `tool_call_finished`."""
    status = st.status(tool_call_label(name, None), state="running", expanded=True)
    with status:
        _arguments(arguments)
    return status


def tool_call_finished(status: StatusContainer, record: ToolCallRecord, replayed: bool = False) -> None:
    """Complete a running tool call with its result or error and duration."""
    with status:
        _outcome(record, replayed)
    failed = record.status is ToolCallStatus.FAILED
    status.update(
        label=tool_call_label(record.name, record.status, record.duration_ms),
        state="error" if failed else "complete",
        expanded=failed,
    )


def tool_call(record: ToolCallRecord) -> None:
    """A tool call from the history, collapsed unless it failed."""
    failed = record.status is ToolCallStatus.FAILED
    with st.status(
        tool_call_label(record.name, record.status, record.duration_ms),
        state="error" if failed else "complete",
        expanded=failed,
    ):
        _arguments(record.arguments)
        _outcome(record, replayed=False)


def _arguments(arguments: JsonDict | str) -> None:
    st.caption("Arguments")
    if isinstance(arguments, dict):
        st.json(arguments)
    else:
        st.code(arguments, language=None)


def _outcome(record: ToolCallRecord, replayed: bool) -> None:
    if replayed:
        st.caption(
            "Already executed earlier with this call id: the stored result is reused, nothing ran twice."
        )
    if record.status is ToolCallStatus.SUCCEEDED:
        st.caption("Result")
        st.json(record.result or {})
    else:
        st.caption("Error (nothing was written)")
        st.code(record.error or "unknown error", language=None)
