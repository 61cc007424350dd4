"""The offline demo model: a deterministic, rule-based stand-in for a language model.

It speaks the same tool-calling protocol as a real model (tool calls out, tool results
in, then a reply), so demos and tests run with no network and no API key. It is honest
about what it is, asks for what is missing, and only reports what tool results say.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from agent_core.clock import Clock
from agent_core.domain import ChatMessage, JsonDict, ToolCallRequest, ToolSpec, Usage
from agent_core.llm.base import ModelDone, ModelEvent, TextDelta
from agent_core.llm.demo_parsing import (
    capitalized_run,
    find_date,
    find_email,
    find_phone,
    run_after,
)

DEMO_MODEL_NAME = "demo (offline, rule-based)"
T = TypeVar("T")

_IDENTITY = re.compile(
    r"\b(?:who|what)\s+are\s+you\b|\bare\s+you\s+(?:an?\s+)?(?:bot|robot|human|real|ai|person|machine)\b"
    r"|\b(?:which|what)\s+(?:ai\s+|language\s+)?model\b",
    re.IGNORECASE,
)
_BOOKING = re.compile(r"\b(?:book|reserve|schedule)\w*\b", re.IGNORECASE)
_NOTE = re.compile(
    r"\b(?:please\s+)?(?:make\s+a\s+note|take\s+a\s+note|note\s+down|jot\s+down|note|remember)\b"
    r"\s*(?:that\b|:|-)?\s*(?P<content>.+)",
    re.IGNORECASE | re.DOTALL,
)
_CONTACT = re.compile(
    r"\bcontact\b|\b(?:e-?mail|phone|mobile|number)\b[^.?!]*?(?:\bis\b|:|\bto\b|=)", re.IGNORECASE
)
_FOR = re.compile(r"\bfor\s+", re.IGNORECASE)
_PLACE = re.compile(r"\b(?:in|at|to)\s+(?:the\s+)?", re.IGNORECASE)
_CONTACT_NAME = re.compile(
    r"\b(?:contact(?:\s+(?:info(?:rmation)?|details))?\s+(?:for|of)|details\s+(?:for|of)|for)\s+",
    re.IGNORECASE,
)
_OWNER = re.compile(
    r"(?P<name>(?:[^\W\d_][\w'’-]*\s){0,3}[^\W\d_][\w'’-]*)['’]s\s+(?:e-?mail|phone|number|contact)"
)
_CANCEL = re.compile(r"\b(?:cancel\w*|call\s+off)\b", re.IGNORECASE)
_MOVE = re.compile(r"\b(?:re-?schedul\w*|move|postpone|change\s+the\s+date)\b", re.IGNORECASE)
_LOOKUP = re.compile(
    r"\b(?:what|which|any|find|look\s*up|check|show|list)\b.*\b(?:tours?|bookings?|booked)\b"
    r"|^\s*(?:is|are)\b.*\bbooked\b",
    re.IGNORECASE,
)
_WHOSE_BOOKING = re.compile(
    r"(?P<name>(?:[^\W\d_][\w'’-]*\s){0,3}[^\W\d_][\w'’-]*)['’]s\s+(?:tour|booking|reservation|trip)"
)
_BOOKING_OF = re.compile(r"\b(?:for|of|does|has|is)\s+", re.IGNORECASE)
_REQUEST_WORDS = {"please", "cancel", "move", "reschedule", "postpone", "change", "find", "check", "show"}
_MOVE_TO = re.compile(r"\b(?:to|until|till)\s+", re.IGNORECASE)
_TODAY = re.compile(r"\bToday is \w+ (?P<day>\d{1,2} \w+ \d{4})")
_PERSONA = re.compile(r"\bYou are ([^.\n]{2,120})[.\n]")
_BOOKING_QUESTION = "To book the tour I still need"


@dataclass(slots=True)
class _Plan:
    calls: list[ToolCallRequest] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    def call(self, name: str, arguments: JsonDict) -> None:
        self.calls.append(
            ToolCallRequest(f"call_{uuid.uuid4().hex[:24]}", name, json.dumps(arguments, ensure_ascii=False))
        )


class DemoModel:
    """Rule-based model for book_tour, take_note and update_contact_info."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    @property
    def name(self) -> str:
        return DEMO_MODEL_NAME

    def stream(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> Iterator[ModelEvent]:
        available = {t.name for t in tools}
        last = messages[-1] if messages else ChatMessage("user", "")
        calls: list[ToolCallRequest] = []
        if last.role == "tool":
            text = _summarise_results(messages)
        else:
            text, calls = self._answer(messages, last.content, available)
        for piece in re.findall(r"\S+\s*", text):
            yield TextDelta(piece)
        yield from calls
        yield ModelDone(Usage(), DEMO_MODEL_NAME)

    def _answer(
        self, messages: Sequence[ChatMessage], text: str, tools: set[str]
    ) -> tuple[str, list[ToolCallRequest]]:
        if _IDENTITY.search(text):
            return (
                "I'm the offline demo model: a deterministic, rule-based stand-in for a real"
                " language model, running without network or API key. I understand requests to"
                " book, look up, move and cancel tours, take notes and update contact details.",
                [],
            )
        plan = _Plan()
        # Like a real model, it takes "today" from what the agent tells it: the business's day.
        today = _told_today(messages) or self._clock.today()
        note, contact = _NOTE.search(text), _CONTACT.search(text)
        # A reply to "I still need ..." continues the booking unless it asks for something else.
        pending = None if note or contact else _pending_booking(messages)
        if _CANCEL.search(text):
            _plan_change(plan, "cancel_tour", text, today)
        elif _MOVE.search(text):
            _plan_change(plan, "reschedule_tour", text, today)
        elif _LOOKUP.search(text):
            _plan_change(plan, "find_tours", text, today)
        elif _BOOKING.search(text) or pending is not None:
            _plan_booking(plan, text, pending, today)
        if note:
            _plan_note(plan, note["content"])
        if contact:
            _plan_contact(plan, text)
        plan.calls = [c for c in plan.calls if c.name in tools]
        if plan.questions:
            return " ".join(plan.questions), plan.calls
        if plan.calls:
            return "", plan.calls
        return _greeting(messages), []


def _told_today(messages: Sequence[ChatMessage]) -> date | None:
    """The date the system message says today is ("Today is Monday 24 November 2026")."""
    system = next((m.content for m in messages if m.role == "system"), "")
    told = _TODAY.search(system)
    if told is None:
        return None
    try:
        return datetime.strptime(told["day"], "%d %B %Y").date()
    except ValueError:
        return None


def _pending_booking(messages: Sequence[ChatMessage]) -> str | None:
    """The earlier booking request when the last reply asked for missing booking details."""
    if len(messages) < 3:
        return None
    previous_reply, previous_request = messages[-2], messages[-3]
    if (
        previous_reply.role == "assistant"
        and previous_reply.content.startswith(_BOOKING_QUESTION)
        and previous_request.role == "user"
    ):
        return previous_request.content
    return None


def _plan_booking(plan: _Plan, text: str, pending: str | None, today: date) -> None:
    # Each detail is read from this message first, then from the request it completes.
    sources = [text] if pending is None else [text, pending]
    name = _first(lambda s: run_after(_FOR, s), sources) or (
        capitalized_run(text.strip()) if pending else None
    )
    mention = _first(lambda s: find_date(s, today), sources)
    location = _first(lambda s: run_after(_PLACE, s), sources)
    if mention is not None and mention.question:
        plan.questions.append(f"{_BOOKING_QUESTION} a clear date. {mention.question}")
        return
    missing = [
        label
        for label, value in (
            ("the customer's full name", name),
            ("the date", mention),
            ("the location", location),
        )
        if value is None
    ]
    if missing:
        plan.questions.append(f"{_BOOKING_QUESTION} {_join(missing)}. Could you tell me?")
        return
    assert mention is not None
    plan.call("book_tour", {"name": name, "date": mention.iso, "location": location})


def _booking_owner(text: str) -> str | None:
    """Whose booking a request is about: "John Smith's tour", "the booking for John Smith"."""
    owner = _WHOSE_BOOKING.search(text)
    if owner is not None:
        words = owner["name"].split()
        # The possessive's run may start with the request's verb: "Cancel John Smith's tour".
        while words and words[0].lower() in _REQUEST_WORDS:
            words.pop(0)
        if words and (name := capitalized_run(" ".join(words))):
            return name
    return run_after(_BOOKING_OF, text)


def _plan_change(plan: _Plan, tool: str, text: str, today: date) -> None:
    """Look up, cancel or move a booking; the date before "to" is the booking's, after it the new one."""
    name = _booking_owner(text)
    if name is None:
        plan.questions.append("Whose booking is it? Please give the customer's full name.")
        return
    arguments: JsonDict = {"name": name}
    if tool == "reschedule_tour":
        target = _MOVE_TO.search(text)
        new = find_date(text[target.end() :], today) if target else None
        if new is None or new.question:
            plan.questions.append(f"To which date should I move {name}'s booking?")
            return
        arguments["new_date"] = new.iso
        current = find_date(text[: target.start()], today) if target else None
        place = run_after(_PLACE, text[target.end() :]) if target else None
        if place:
            arguments["new_location"] = place
    else:
        current = find_date(text, today)
    if current is not None and not current.question:
        arguments["date"] = current.iso
    plan.call(tool, arguments)


def _first(find: Callable[[str], T | None], sources: Sequence[str]) -> T | None:
    return next((found for s in sources if (found := find(s)) is not None), None)


def _plan_note(plan: _Plan, content: str) -> None:
    content = content.strip()
    if not content:
        plan.questions.append("What should I note down?")
        return
    plan.call("take_note", {"content": content[0].upper() + content[1:]})


def _plan_contact(plan: _Plan, text: str) -> None:
    owner = _OWNER.search(text)
    name = run_after(_CONTACT_NAME, text) or (capitalized_run(owner["name"]) if owner else None)
    email, phone = find_email(text), find_phone(text)
    if name is None:
        plan.questions.append("Whose contact details are these? Please give the full name.")
    elif email is None and phone is None:
        plan.questions.append(f"What should I update for {name}: the email, the phone number, or both?")
    else:
        arguments: JsonDict = {"name": name}
        if email:
            arguments["email"] = email
        if phone:
            arguments["phone"] = phone
        plan.call("update_contact_info", arguments)


def _greeting(messages: Sequence[ChatMessage]) -> str:
    system = next((m.content for m in messages if m.role == "system"), "")
    persona = _PERSONA.search(system)
    intro = f"Hello! I'm {persona.group(1)}." if persona else "Hello!"
    return (
        f"{intro} I can book a tour, look up, move or cancel a booking, take a note, or update"
        " contact details. For example:"
        ' "Book a tour for John Smith on March 15 in Paris."'
    )


def _summarise_results(messages: Sequence[ChatMessage]) -> str:
    """One sentence per tool result since the last assistant tool-call message."""
    index = max(i for i, m in enumerate(messages) if m.role == "assistant" and m.tool_calls)
    names = {c.id: c.name for c in messages[index].tool_calls}
    sentences = []
    for message in messages[index + 1 :]:
        if message.role != "tool":
            continue
        outcome = json.loads(message.content)
        name = names.get(message.tool_call_id or "", "the tool")
        if outcome.get("ok"):
            sentences.append(_success_sentence(name, outcome.get("result") or {}))
        else:
            sentences.append(_failure_sentence(name, str(outcome.get("error"))))
    return " ".join(sentences)


def _success_sentence(tool: str, result: JsonDict) -> str:
    if tool == "book_tour":
        when = date.fromisoformat(result["date"]).strftime("%A %-d %B %Y")
        reference = str(result["booking_id"])[:8]
        if result.get("already_booked"):
            return (
                f"{result['name']} is already booked on {when} in {result['location']}"
                f" (booking reference {reference}); I haven't booked it twice."
            )
        return (
            f"Done: I've booked a tour for {result['name']} on {when} in {result['location']}"
            f" (booking reference {reference})."
        )
    if tool == "find_tours":
        if not result["bookings"]:
            return f"{result['name']} has no upcoming bookings."
        listed = _join([f"{_when(b['date'])} in {b['location']}" for b in result["bookings"]])
        return f"{result['name']} is booked on {listed}."
    if tool in ("cancel_tour", "reschedule_tour") and result.get("ambiguous"):
        listed = _join([f"{_when(b['date'])} in {b['location']}" for b in result["matches"]])
        return f"{result['matches'][0]['name']} has several bookings: {listed}. Which one do you mean?"
    if tool == "cancel_tour":
        return (
            f"Done: I've cancelled {result['name']}'s tour on {_when(result['date'])}"
            f" in {result['location']}; they will be told."
        )
    if tool == "reschedule_tour":
        return (
            f"Done: {result['name']}'s tour is moved from {_when(result['previous_date'])} to"
            f" {_when(result['date'])} in {result['location']}; they will be told."
        )
    if tool == "take_note":
        return f"Noted: \u201c{result['content']}\u201d"
    if tool == "update_contact_info":
        details = _join([f"{k} {result[k]}" for k in ("email", "phone") if result.get(k)]) or "no details yet"
        verb = "added" if result.get("created") else "updated"
        return f"I've {verb} the contact {result['name']} ({details})."
    return f"{tool} succeeded."


def _failure_sentence(tool: str, error: str) -> str:
    action = {
        "book_tour": "book the tour",
        "find_tours": "look up the bookings",
        "cancel_tour": "cancel the booking",
        "reschedule_tour": "move the booking",
        "take_note": "save the note",
        "update_contact_info": "update the contact",
    }.get(tool, f"run {tool}")
    return f"I couldn't {action}: {error}. Nothing was saved; could you give me the correct details?"


def _when(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%A %-d %B %Y")


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
