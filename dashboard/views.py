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
    EventRecord,
    JsonDict,
    Note,
    ScenarioRunRecord,
    ToolCallRecord,
    ToolCallStatus,
    Tour,
    TourChange,
    TourChangeKind,
    TourStatus,
    TurnRecord,
)
from agent_core.phones import shown_phone
from agent_core.scenarios.results import SuiteReport
from agent_core.store.analytics import Analytics
from agent_core.store.conversation_log import ConversationOverview
from agent_core.store.voice_turns import VOICE_PARTS, VoiceTurn

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=])")


def escape_markdown(text: str) -> str:
    """Text that Markdown renders literally: no links, images, HTML, LaTeX or emphasis."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def tool_call_label(
    name: str,
    status: ToolCallStatus | None,
    duration_ms: float | None = None,
    arguments: JsonDict | str | None = None,
) -> str:
    """One-line status of a tool call: running, done or failed, what it was given (so the
    arguments show without opening it), and its duration."""
    given = f" · {arguments_gist(arguments)}" if arguments else ""
    if status is None:
        return f"Running {name}…{given}"
    took = f" · {duration_ms:.1f} ms" if duration_ms is not None else ""
    verdict = "succeeded" if status is ToolCallStatus.SUCCEEDED else "failed"
    return f"{name} {verdict}{given}{took}"


def arguments_gist(arguments: JsonDict | str) -> str:
    """A tool call's arguments on one short line: the values, in order ('John Smith,
    2027-03-15, Paris'); text that is not an object is shown as it came."""
    if isinstance(arguments, str):
        return _shortened(arguments, 80)
    values = [str(v) for v in arguments.values() if v not in (None, "", [], {})]
    return _shortened(", ".join(values), 80)


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


def conversation_label(conversation: ConversationOverview, zone: tzinfo = UTC) -> str:
    """How a conversation is listed: when it began (the business's time), how many messages
    the caller sent, and how it began."""
    opening = _shortened(conversation.first_message, 48)
    started = conversation.created_at.astimezone(zone)
    return f"{started:%d %b %H:%M} · {counted(conversation.turns, 'message')} · {opening}"


def _shortened(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def column_label(column: str) -> str:
    """A record column as people read it (`tour_date` → Date)."""
    return _COLUMN_LABELS.get(column, column.replace("_", " ").capitalize())


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
    "conversation_id": "Conversation",
    "id": "Reference",
}


def local_time(value: datetime, zone: tzinfo) -> str:
    """A stored (UTC) time as the business reads it, e.g. '2026-11-24 11:00 CET'."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def short_time(value: datetime, zone: tzinfo) -> str:
    """A recent time in the business's zone, with its day: '2 Dec 10:40:56'."""
    local = value.astimezone(zone)
    return f"{local.day} {local:%b %H:%M:%S}"


def _record_values(row: Tour | Note | Contact, zone: tzinfo, phone_region: str | None) -> dict[str, object]:
    """One record's shown columns, by label, in the order people read them."""
    values: dict[str, object] = {}
    for name, label in _COLUMN_LABELS.items():
        if not hasattr(row, name):
            continue
        value = getattr(row, name)
        if name in ("created_at", "updated_at") and value is not None:
            value = local_time(value, zone)
        elif name in ("id", "conversation_id"):
            value = str(value) if value is not None else None
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
    date: str | None = None
    location: str | None = None
    cancelled: bool = False
    """The call cancelled the booking (rather than booking or moving it)."""


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
            date, location = str(result.get("date")), str(result.get("location"))
            line = f"{verb} {result.get('name')} · {date} · {location}"
            touched.append(
                TouchedRecord(line, str(result.get("booking_id")), date, location, verb == "cancelled")
            )
    return touched


def booking_since(record: TouchedRecord, tour: Tour | None) -> str:
    """What became of a booking a conversation wrote, when it is no longer as written there:
    '' while it stands as written, else e.g. 'cancelled since', 'now on 2027-03-22 in Lisbon'."""
    if tour is None or record.cancelled:
        return ""
    if tour.status is TourStatus.CANCELLED:
        return "cancelled since"
    if (tour.tour_date.isoformat(), tour.location) != (record.date, record.location):
        return f"now on {tour.tour_date.isoformat()} in {tour.location}"
    return ""


def tour_change_line(change: TourChange, zone: tzinfo = UTC) -> str:
    """One line of a booking's history, e.g. 'moved from 2027-01-10 in Porto to 2027-01-17 in
    Lisbon by ana@example.com, 24 Nov 2026 11:02 CET' (the business's time)."""
    who = "the agent" if change.by.kind == "agent" else change.by.label
    when = f"{change.created_at.astimezone(zone):%d %b %Y %H:%M %Z}"
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


_GIST_KEYS = ("name", "customer_name", "content", "message", "reply", "listener")


def event_gist(name: str, payload: Mapping[str, object]) -> str:
    """What an event is about, in a few words: the tool, the person booked, the note taken,
    the message said (e.g. 'book_tour' for tool.called, 'John Smith · 2027-03-15 · Paris' for
    tour.booked)."""
    if name.startswith("tool."):
        return str(payload.get("tool", ""))
    if "date" in payload and "name" in payload:
        return " · ".join(str(payload[k]) for k in ("name", "date", "location") if payload.get(k))
    for key in _GIST_KEYS:
        if value := payload.get(key):
            return _shortened(str(value), 60)
    return ""


def events_frame(records: Sequence[EventRecord], zone: tzinfo = UTC) -> pd.DataFrame:
    """The event log as a table, times in the business's zone; each listener's outcome in
    words (the full payload is one click away on the page)."""
    return pd.DataFrame(
        [
            {
                "#": r.event.seq,
                "Time": local_time(r.event.created_at, zone),
                "Event": r.event.name,
                "About": event_gist(r.event.name, r.event.payload),
                "Listeners": run_summary(r),
            }
            for r in records
        ],
        columns=["#", "Time", "Event", "About", "Listeners"],
    )


def prompt_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    """A unified diff between two prompt versions (empty when they are equal)."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), fromfile=old_label, tofile=new_label, lineterm=""
    )
    return "\n".join(lines)


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value is not None else ""


_NAME_KEYS = ("name", "customer_name", "email", "content")
_ID_TARGET = re.compile(r"^(\w[\w ]*?) ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


def audit_target(entry: AuditEntry) -> str:
    """What an entry is about by name ('contact Sarah Jones'), not by id: the name comes from
    what the entry kept of the record; a target without one stays as recorded."""
    matched = _ID_TARGET.match(entry.target)
    if matched is None:
        return entry.target
    for kept in (entry.after, entry.before):
        if isinstance(kept, Mapping):
            for key in _NAME_KEYS:
                if value := kept.get(key):
                    return f"{matched.group(1)} {_shortened(str(value), 60)}"
    return entry.target


def audit_changes(entry: AuditEntry) -> str:
    """What an entry changed, field by field and in words: 'reason: Rebranding; version: 2'
    (each value shortened: the entry in full is one click away)."""
    before = entry.before if isinstance(entry.before, Mapping) else {}
    after = entry.after if isinstance(entry.after, Mapping) else {}
    parts = []
    for key in {**before, **after}:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        label = str(key).replace("_", " ")
        shown = _shortened(_plain(new), 40)
        was = f"{_shortened(_plain(old), 40)} → " if key in before else ""
        parts.append(f"{label}: {was}{shown}")
    return "; ".join(parts)


def _plain(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def audit_frame(entries: Sequence[AuditEntry], tenant_names: Mapping[UUID, str]) -> pd.DataFrame:
    """The audit log as a table: when, who, what (by name), on which tenant, and what changed;
    the entry in full (ids, before and after) is one click away on the page."""
    return pd.DataFrame(
        [
            {
                "When": _when(e.created_at),
                "Who": e.actor,
                "Action": str(e.action),
                "What": audit_target(e),
                "Tenant": tenant_names.get(e.tenant_id, str(e.tenant_id)) if e.tenant_id else "",
                "Changes": audit_changes(e),
            }
            for e in entries
        ],
        columns=["When", "Who", "Action", "What", "Tenant", "Changes"],
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
                "Verdict": passed_word(r.passed),
                "Result": r.summary,
                "Model": r.model,
                "By": r.started_by,
            }
            for r in runs
        ],
        columns=["When", "Tested", "Verdict", "Result", "Model", "By"],
    )


def passed_word(passed: bool) -> str:
    """A verdict in a word, never a symbol alone."""
    return "Passed" if passed else "Failed"


def live_rates(live: SuiteReport | None) -> dict[str, str]:
    """Each scenario's pass rate in a run against the live prompt, e.g. {'books': '3/3'}."""
    return {r.name: f"{r.passes}/{len(r.attempts)}" for r in live.results} if live else {}


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
                "From": f"{c.channel.value} · {c.started_by}" if c.started_by else c.channel.value,
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
            "From",
            "First message",
            "Turns",
            "Outcome",
            "Unanswered",
            "Tokens",
            "Duration",
        ],
    )


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


def spoken_timings(voice: VoiceTurn) -> str:
    """One line of a spoken message's parts, in seconds, and whether its audio is kept."""
    parts = [
        f"heard {voice.listening_ms / 1000:.1f} s",
        f"transcribed in {voice.transcribing_ms / 1000:.2f} s",
    ]
    if voice.answering_ms is not None:
        parts.append(f"answered in {voice.answering_ms / 1000:.2f} s")
    if voice.first_audio_ms is not None:
        parts.append(f"first audio after {voice.first_audio_ms / 1000:.2f} s")
    if voice.caller_audio is None and voice.reply_audio is None:
        parts.append("recordings not kept")
    return " · ".join(parts)


VOICE_PART_LABELS = {
    "listening": "Spoken turn: listening",
    "transcribing": "… transcribing",
    "answering": "… answering (transcript to reply text)",
    "first_audio": "… end of speech to first audio",
}


def analytics_latency_frame(result: Analytics) -> pd.DataFrame:
    """p50 / p90 / p99 of whole turns, of their parts (model, tools, the rest), of single
    tool calls, and of spoken turns' parts, in ms. Each part's percentile is its own: they do
    not add up."""
    rows = []
    split = result.split_latency_ms
    for label, values in (
        ("Whole turn", result.turn_latency_ms),
        ("… the model", split.get("model", {})),
        ("… the tools", split.get("tools", {})),
        ("… the store and the loop", split.get("store", {})),
        ("One tool call", result.tool_latency_ms),
        *((VOICE_PART_LABELS[part], result.voice_latency_ms.get(part, {})) for part in VOICE_PARTS),
    ):
        if values:
            rows.append({"What": label, **{f"p{p}": round(v, 1) for p, v in sorted(values.items())}})
    return pd.DataFrame(rows, columns=["What", "p50", "p90", "p99"])
