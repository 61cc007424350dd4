"""How chat messages and tool calls look, live and in the history alike."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from agent_core.domain import JsonDict, ToolCallRecord, ToolCallStatus
from agent_core.scenarios.results import SuiteReport
from dashboard.views import escape_markdown, live_rates, passed_word, tool_call_label


def text(message: str, target: DeltaGenerator | None = None) -> None:
    """Show user or model text literally (never as HTML, links or LaTeX)."""
    (target or st).markdown(escape_markdown(message))


def tool_call_running(name: str, arguments: JsonDict | str) -> None:
    """A tool call that has not finished yet."""
    with st.status(tool_call_label(name, None, arguments=arguments), state="running", expanded=True):
        _arguments(arguments)


def tool_call(record: ToolCallRecord, replayed: bool = False) -> None:
    """A finished tool call, collapsed unless it failed."""
    failed = record.status is ToolCallStatus.FAILED
    with st.status(
        tool_call_label(record.name, record.status, record.duration_ms, record.arguments),
        state="error" if failed else "complete",
        expanded=failed,
    ):
        _arguments(record.arguments)
        _outcome(record, replayed)


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


def verdict_badge(passed: bool) -> str:
    """Passed or failed as a coloured word (Markdown)."""
    return f":{'green' if passed else 'red'}-badge[{passed_word(passed)}]"


def suite_report(report: SuiteReport, live: SuiteReport | None = None) -> None:
    """A run's scenarios, failed ones open: each attempt's messages, tool calls, replies and
    checks; with `live`, each scenario's pass rate against the live prompt beside its own."""
    against_live = live_rates(live)
    for result in report.results:
        mark = ":material/check_circle:" if result.passed else ":material/cancel:"
        rate = f"{result.passes}/{len(result.attempts)}"
        label = f"{passed_word(result.passed)} · {result.name} · {rate} passed"
        if live is not None:
            label += f" (live prompt: {against_live.get(result.name, 'not run')})"
        with st.expander(label, icon=mark, expanded=not result.passed):
            shown = next((a for a in result.attempts if not a.passed), result.attempts[0])
            if len(result.attempts) > 1:
                st.caption(
                    "Showing the first failed attempt" if not shown.passed else "Showing the first attempt"
                )
            for number, step in enumerate(shown.steps, 1):
                st.markdown(f"**{number}. Caller:** {escape_markdown(step.said)}")
                for call in step.tool_calls:
                    st.markdown(
                        f"- `{call.name}` {call.status}"
                        + (f": {escape_markdown(call.error)}" if call.error else "")
                        + f" · {call.duration_ms:.0f} ms"
                    )
                    st.json(call.arguments, expanded=False)
                if step.error is not None:
                    st.error(f"The turn failed: {step.error}", icon=":material/error:")
                else:
                    st.markdown(f"**Agent** ({step.latency_ms:.0f} ms): {escape_markdown(step.reply)}")
                for check in step.checks:
                    detail = f" — {check.detail}" if check.detail and not check.passed else ""
                    st.markdown(f"{verdict_badge(check.passed)} {escape_markdown(check.check + detail)}")


def picked_row(frame: pd.DataFrame, key: str) -> int | None:
    """A table whose rows can be selected, one at a time; the selected row's position."""
    picked = st.dataframe(
        frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key=key
    )
    rows = picked.selection.rows
    return rows[0] if rows else None
