"""The dashboard's presentation helpers: plain data in, display-ready values out.

Kept free of Streamlit so they are unit-tested without a browser; kept out of `agent_core`
because only the dashboard shows tables (the core imports no pandas).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from uuid import UUID

import pandas as pd

from agent_core.access.models import ApiKeyRecord, AuditEntry, User, UserRole
from agent_core.domain import (
    ChatMessage,
    Contact,
    ConversationSummary,
    EventRecord,
    Note,
    RunStatus,
    ScenarioRunRecord,
    ToolCallRecord,
    ToolCallStatus,
    Tour,
    TourChange,
    TourChangeKind,
    TurnRecord,
)
from agent_core.phones import shown_phone
from agent_core.scenarios.results import SuiteReport
from agent_core.store.analytics import Analytics
from agent_core.store.conversation_log import ConversationOverview

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=])")


def escape_markdown(text: str) -> str:
    """Text that Markdown renders literally: no links, images, HTML, LaTeX or emphasis."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def tool_call_label(name: str, status: ToolCallStatus | None, duration_ms: float | None = None) -> str:
    """One-line status of a tool call: running, done or failed, with its duration."""
    if status is None:
        return f"Running {name}…"
    took = f" · {duration_ms:.1f} ms" if duration_ms is not None else ""
    if status is ToolCallStatus.SUCCEEDED:
        return f"{name} succeeded{took}"
    return f"{name} failed{took}"


@dataclass(frozen=True, slots=True)
class ChatItem:
    """One bubble of the chat history: a message, or a tool call with its outcome."""

    role: str
    text: str = ""
    tool: ToolCallRecord | None = None


def chat_items(messages: Sequence[ChatMessage], calls: Sequence[ToolCallRecord]) -> list[ChatItem]:
    """Stored messages as chat bubbles, each tool call shown where it happened."""
    by_id = {c.call_id: c for c in calls}
    items: list[ChatItem] = []
    for message in messages:
        if message.role == "user":
            items.append(ChatItem("user", message.content))
        elif message.role == "assistant":
            if message.content.strip():
                items.append(ChatItem("assistant", message.content))
            for call in message.tool_calls:
                record = by_id.get(call.id)
                if record is None:
                    record = ToolCallRecord.finished(call, None, "interrupted before it ran", 0.0)
                items.append(ChatItem("tool", tool=record))
    return items


def conversation_label(summary: ConversationSummary) -> str:
    """How a conversation is listed: when, how long, and how it began."""
    opening = summary.last_message if len(summary.last_message) <= 48 else summary.last_message[:47] + "…"
    return f"{summary.created_at:%d %b %H:%M} · {summary.message_count} msgs · {opening}"


_COLUMN_LABELS = {
    "customer_name": "Customer",
    "tour_date": "Date",
    "location": "Place",
    "status": "Status",
    "content": "Note",
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "created_at": "Created",
    "updated_at": "Updated",
    "id": "Reference",
}


def local_time(value: datetime, zone: tzinfo) -> str:
    """A stored (UTC) time as the business reads it, e.g. '2026-11-24 11:00 CET'."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _record_values(row: Tour | Note | Contact, zone: tzinfo, phone_region: str | None) -> dict[str, object]:
    """One record's shown columns, by label, in the order people read them."""
    values: dict[str, object] = {}
    for name, label in _COLUMN_LABELS.items():
        if not hasattr(row, name):
            continue
        value = getattr(row, name)
        if name in ("created_at", "updated_at") and value is not None:
            value = local_time(value, zone)
        elif name == "id":
            value = str(value)
        elif name == "status":
            value = getattr(value, "value", value)
        elif name == "phone" and value:
            value = shown_phone(value, phone_region)
        values[label] = value
    return values


def records_frame(
    rows: Sequence[Tour | Note | Contact], zone: tzinfo = UTC, phone_region: str | None = None
) -> pd.DataFrame:
    """Records as a table people read: human column names, what matters first, the reference
    last, no internal columns, times in the business's zone, phone numbers in its format."""
    return pd.DataFrame([_record_values(row, zone, phone_region) for row in rows])


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV injection"): callers choose
# names, places and notes, and a cell like `=HYPERLINK(...)` would run when the file is opened.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: object) -> object:
    """A cell as it was typed: text a spreadsheet would run as a formula gets a leading
    apostrophe, which spreadsheets take as "this is text" and do not show."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def records_csv(
    pages: Iterable[Sequence[Tour | Note | Contact]], zone: tzinfo = UTC, phone_region: str | None = None
) -> Iterator[str]:
    """Pages of records as CSV text, a chunk per page, with the table's columns, header and
    formats; every cell safe to open in a spreadsheet.

    Written with the csv module, a page at a time: building a data frame per page cost most
    of the time of a 100,000-row export (see benchmarks/records_page.py)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = False
    for rows in pages:
        for row in rows:
            values = _record_values(row, zone, phone_region)
            if not header:
                writer.writerow(values)
                header = True
            writer.writerow([spreadsheet_text(v) for v in values.values()])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


_TOUR_VERBS = {"book_tour": "booked", "cancel_tour": "cancelled", "reschedule_tour": "moved"}


@dataclass(frozen=True, slots=True)
class TouchedRecord:
    """A record a conversation's tool calls wrote: what was done, and the booking's reference."""

    line: str
    booking_id: str | None = None


def records_touched(calls: Sequence[ToolCallRecord]) -> list[TouchedRecord]:
    """What a conversation wrote, one line per successful writing tool call, in order."""
    touched = []
    for call in calls:
        result = call.result or {}
        if call.status is not ToolCallStatus.SUCCEEDED or result.get("ambiguous"):
            continue
        if call.name == "take_note":
            touched.append(TouchedRecord(f"noted: {result.get('content', '')}"))
        elif call.name == "update_contact_info":
            details = ", ".join(str(result[k]) for k in ("email", "phone") if result.get(k))
            touched.append(TouchedRecord(f"contact {result.get('name')} ({details or 'no details'})"))
        elif verb := _TOUR_VERBS.get(call.name):
            line = f"{verb} {result.get('name')} · {result.get('date')} · {result.get('location')}"
            touched.append(TouchedRecord(line, str(result.get("booking_id"))))
    return touched


def tour_change_line(change: TourChange) -> str:
    """One line of a booking's history, e.g. 'moved from 2027-01-10 in Porto to 2027-01-17 in
    Lisbon by ana@example.com, 24 Nov 2026 10:02 UTC'."""
    who = "the agent" if change.by.kind == "agent" else change.by.label
    when = f"{change.created_at:%d %b %Y %H:%M} UTC"
    if change.kind is TourChangeKind.CANCELLED:
        return f"cancelled ({change.from_date.isoformat()} in {change.from_location}) by {who}, {when}"
    return (
        f"moved from {change.from_date.isoformat()} in {change.from_location} to"
        f" {(change.to_date or change.from_date).isoformat()} in {change.to_location or change.from_location}"
        f" by {who}, {when}"
    )


def run_summary(record: EventRecord) -> str:
    """The listener runs of an event in one line, e.g. 'crm_sync: failed ×3'."""
    parts = []
    for run in record.runs:
        attempts = f" ×{run.attempts}" if run.attempts > 1 else ""
        parts.append(f"{run.listener}: {run.status.value}{attempts}")
    return ", ".join(parts) or "no listeners"


def events_frame(records: Sequence[EventRecord], zone: tzinfo = UTC) -> pd.DataFrame:
    """The event log as a table, times in the business's zone."""
    return pd.DataFrame(
        [
            {
                "seq": r.event.seq,
                "time": local_time(r.event.created_at, zone),
                "event": r.event.name,
                "listeners": run_summary(r),
                "failed": any(run.status is RunStatus.FAILED for run in r.runs),
                "payload": json.dumps(r.event.payload, ensure_ascii=False, default=str),
            }
            for r in records
        ],
        columns=["seq", "time", "event", "listeners", "failed", "payload"],
    )


def prompt_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    """A unified diff between two prompt versions (empty when they are equal)."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), fromfile=old_label, tofile=new_label, lineterm=""
    )
    return "\n".join(lines)


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value is not None else ""


def audit_frame(entries: Sequence[AuditEntry], tenant_names: Mapping[UUID, str]) -> pd.DataFrame:
    """The audit log as a table: when, who, what, on which tenant, and what changed."""
    return pd.DataFrame(
        [
            {
                "When": _when(e.created_at),
                "Who": e.actor,
                "Action": str(e.action),
                "What": e.target,
                "Tenant": tenant_names.get(e.tenant_id, str(e.tenant_id)) if e.tenant_id else "",
                "Before": json.dumps(e.before, ensure_ascii=False) if e.before is not None else "",
                "After": json.dumps(e.after, ensure_ascii=False) if e.after is not None else "",
            }
            for e in entries
        ],
        columns=["When", "Who", "Action", "What", "Tenant", "Before", "After"],
    )


def users_frame(users: Sequence[User], tenant_names: Mapping[UUID, str]) -> pd.DataFrame:
    """Users as a table (never their password hashes)."""
    return pd.DataFrame(
        [
            {
                "Email": u.email,
                "Role": u.role.value,
                "Tenants": "all"
                if u.role is UserRole.ADMIN
                else ", ".join(sorted(tenant_names.get(t, str(t)) for t in u.tenants)),
                "Sign-in": "disabled" if u.disabled else "password" if u.password_hash else "single sign-on",
                "Added": _when(u.created_at),
            }
            for u in users
        ],
        columns=["Email", "Role", "Tenants", "Sign-in", "Added"],
    )


def api_keys_frame(keys: Sequence[ApiKeyRecord], tenant_names: Mapping[UUID, str]) -> pd.DataFrame:
    """Managed API keys as a table: which, for what, by whom, last used (never the secret)."""
    return pd.DataFrame(
        [
            {
                "Name": k.name,
                "Key": f"{k.prefix}…",
                "Tenant": tenant_names.get(k.tenant_id, str(k.tenant_id))
                if k.tenant_id
                else "all (admin-wide)",
                "Status": "active" if k.active else f"revoked {_when(k.revoked_at)}",
                "Last used": _when(k.last_used_at) or "never",
                "Created": f"{_when(k.created_at)} by {k.created_by}",
            }
            for k in keys
        ],
        columns=["Name", "Key", "Tenant", "Status", "Last used", "Created"],
    )


def runs_frame(runs: Sequence[ScenarioRunRecord], zone: tzinfo = UTC) -> pd.DataFrame:
    """Scenario runs as a table, newest first: when, against what, with which model, the verdict."""
    return pd.DataFrame(
        [
            {
                "When": local_time(r.created_at, zone),
                "Tested": r.target,
                "Result": ("✅ " if r.passed else "❌ ") + r.summary,
                "Model": r.model,
                "By": r.started_by,
            }
            for r in runs
        ],
        columns=["When", "Tested", "Result", "Model", "By"],
    )


def comparison_frame(report: SuiteReport, live: SuiteReport | None) -> pd.DataFrame:
    """Each scenario's pass rate in this run beside the latest run against the live prompt."""
    live_rates = {r.name: f"{r.passes}/{len(r.attempts)}" for r in live.results} if live else {}
    return pd.DataFrame(
        [
            {
                "Scenario": r.name,
                "This run": ("✅ " if r.passed else "❌ ") + f"{r.passes}/{len(r.attempts)}",
                "Live": live_rates.get(r.name, "not run"),
            }
            for r in report.results
        ],
        columns=["Scenario", "This run", "Live"],
    )


def scenario_outline(spec: Mapping[str, object]) -> str:
    """A stored scenario in one line per message, for lists: what is said, what is expected."""
    lines = []
    steps = spec.get("steps")
    for number, step in enumerate(steps if isinstance(steps, list) else [], 1):
        expect = step.get("expect") or {}
        wanted = [t["name"] for t in expect.get("tools", [])] or (
            ["no tool"] if expect.get("no_tools") else []
        )
        lines.append(f"{number}. “{step.get('say', '')}”" + (f" → {', '.join(wanted)}" if wanted else ""))
    return "\n".join(lines)


def last_attempts(turns: Sequence[TurnRecord]) -> dict[int, TurnRecord]:
    """Each user message (by its order in the conversation) with the last attempt to answer
    it: a retry answers the same message, so it does not start a new one."""
    last: dict[int, TurnRecord] = {}
    index = -1
    for turn in turns:
        if turn.retry_of is None:
            index += 1
        last[index] = turn
    return last


def unanswered_messages(turns: Sequence[TurnRecord]) -> dict[int, TurnRecord]:
    """The user messages (by their order in the conversation) whose last attempt failed,
    with that attempt."""
    return {number: turn for number, turn in last_attempts(turns).items() if turn.status == "failed"}


def claims_held_back(turns: Sequence[TurnRecord]) -> dict[int, tuple[str, ...]]:
    """The user messages whose answer had sentences held back (they claimed what no tool of
    the turn did), with those sentences."""
    return {
        number: turn.withheld_claims for number, turn in last_attempts(turns).items() if turn.withheld_claims
    }


def conversations_frame(rows: Sequence[ConversationOverview], zone: tzinfo = UTC) -> pd.DataFrame:
    """The conversation log as a table people read: when, what was asked, what came of it."""
    return pd.DataFrame(
        [
            {
                "Last activity": local_time(c.updated_at, zone),
                "Channel": c.channel.value,
                "Started by": c.started_by,
                "First message": c.first_message,
                "Turns": c.turns,
                "Outcome": ", ".join(o.value for o in c.outcomes)
                or ("failed" if c.failed_turns else "talked"),
                "Unanswered": c.failed_turns,
                "Tokens": c.tokens,
                "Duration": f"{c.duration_ms / 1000:.1f} s",
            }
            for c in rows
        ],
        columns=[
            "Last activity",
            "Channel",
            "Started by",
            "First message",
            "Turns",
            "Outcome",
            "Unanswered",
            "Tokens",
            "Duration",
        ],
    )


def _outcome_words(conversation: ConversationOverview) -> str:
    done = ", ".join(outcome.value for outcome in conversation.outcomes)
    return done or ("failed" if conversation.failed_turns else "talked")


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`1 conversation`, `2 conversations`, `1,204 turns`: the noun agrees with its number."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def analytics_days_frame(result: Analytics, first_day: date, last_day: date) -> pd.DataFrame:
    """Activity per day over the whole range, oldest first, quiet days as zeros."""
    return pd.DataFrame(
        [
            {
                "Day": d.day,
                "Conversations": d.conversations,
                "Turns": d.turns,
                "Failed turns": d.failed_turns,
                "Tokens": d.tokens,
                "Claims held back": d.withheld_claims,
            }
            for d in result.every_day(first_day, last_day)
        ],
        columns=["Day", "Conversations", "Turns", "Failed turns", "Tokens", "Claims held back"],
    )


def analytics_tools_frame(result: Analytics) -> pd.DataFrame:
    """Calls and failures per tool."""
    return pd.DataFrame(
        [
            {"Tool": t.name, "Calls": t.calls, "Failed": t.failed, "Failure rate": f"{t.failure_rate:.1%}"}
            for t in result.tools
        ],
        columns=["Tool", "Calls", "Failed", "Failure rate"],
    )


def analytics_latency_frame(result: Analytics) -> pd.DataFrame:
    """p50 / p90 / p99 of whole turns, of their parts (model, tools, the rest), and of single
    tool calls, in ms. Each part's percentile is its own: they do not add up."""
    rows = []
    split = result.split_latency_ms
    for label, values in (
        ("Whole turn", result.turn_latency_ms),
        ("… the model", split.get("model", {})),
        ("… the tools", split.get("tools", {})),
        ("… the store and the loop", split.get("store", {})),
        ("One tool call", result.tool_latency_ms),
    ):
        if values:
            rows.append({"What": label, **{f"p{p}": round(v, 1) for p, v in sorted(values.items())}})
    return pd.DataFrame(rows, columns=["What", "p50", "p90", "p99"])
