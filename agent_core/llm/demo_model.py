"""The offline demo model: a deterministic, rule-based stand-in for a language model.

It speaks the same tool-calling protocol as a real model (tool calls out, tool results
in, then a reply), so demos and tests run with no network and no API key. It is honest
about what it is, asks for what is missing, and only reports what tool results say.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import partial
from typing import TypeVar

from agent_core.clock import Clock
from agent_core.domain import ChatMessage, JsonDict, ToolCallRequest, ToolSpec, Usage
from agent_core.llm.base import Interrupt, KeepsNothingOpen, ModelDone, ModelEvent, Reading, TextDelta
from agent_core.llm.demo_parsing import (
    STOP_WORDS,
    DateMention,
    DateOrder,
    find_date,
    find_email,
    find_phone,
    run_after,
    run_at,
)
from agent_core.llm.spoken import written_form

DEMO_MODEL_NAME = "demo (offline, rule-based)"
T = TypeVar("T")

_IDENTITY = re.compile(
    r"\b(?:who|what)\s+are\s+you\b|\bare\s+you\s+(?:an?\s+)?(?:bot|robot|human|real|ai|person|machine)\b"
    r"|\b(?:which|what)\s+(?:ai\s+|language\s+)?model\b",
    re.IGNORECASE,
)
_BOOKING = re.compile(
    r"\b(?:book|reserve|schedule|sign\s+(?:\w+\s+){0,3}up|put\s+(?:\w+\s+){0,3}down\s+for|put\s+down)\w*\b"
    r"|\b(?:want|like|need|get|arrange|organi[sz]e|set\s+up|make|do)\s+(?:to\s+(?:go\s+on|join|take)\s+)?(?:a|an|the)\s+"
    r"(?:\w+\s+)?(?:tour|booking|spot|place|reservation)\b"
    r"|\bget\s+(?:\S+\s+){1,3}?(?:on|onto|into)\s+(?:a|an|the)\s+(?:\S+\s+)?tour\b"
    r"|^\W*(?:(?:hi|hello|yes|yeah|um|uh|ok|okay)\W+)*(?:a\s+|the\s+)?(?:tour|booking|reservation)\b(?=.*\bfor\b)",
    re.IGNORECASE,
)
_NOTE = re.compile(
    # The verb where a request starts (the message's start, after "please", "can you", "and",
    # a comma): "delete every note in the system" asks for no note.
    r"(?:^\W*(?:(?:um+|uh+|er+|so|ok|okay|hi|hello|yes|yeah)\b[\s,]*)*|[.,;!?]\s*|\b(?:please|and|also|then|you|pls)\s+)"
    r"(?:make\s+a\s+note|take\s+a\s+note|add\s+a\s+note|note\s+down|(?:jot|write)\s+(?:it\s+|this\s+|that\s+)?down"
    r"|note|remember)\b(?:\s+of)?(?:\s+for\s+the\s+(?:file|record))?[\s,]*(?:that\b|:|-)?\s*(?P<content>.*)",
    re.IGNORECASE | re.DOTALL,
)
_CONTACT = re.compile(
    r"\bcontact\b|\b(?:e-?mail|phone|mobile|cell|telephone|number)\b[^.?!]*?(?:\bis\b|:|\bto\b|=|\bnow\b|@|\+?\d{3})"
    r"|\bnew\s+(?:e-?mail|phone|mobile|number)\b"
    r"|\b(?:update|change|save|store|keep|take)\s+(?:my|the|his|her|their)\s+(?:new\s+)?"
    r"(?:e-?mail|phone|mobile|number|contact|details)\b",
    re.IGNORECASE,
)
_INTRODUCED = re.compile(
    r"\b(?:my\s+name\s+is|my\s+name'?s|(?:the\s+)?name'?s|(?:the\s+)?name\s+is|i'?m|i\s+am|this\s+is|under"
    r"|(?:my|our)\s+(?:mum|mom|mother|dad|father|wife|husband|son|daughter|friend|colleague|client|boss|partner"
    r"|sister|brother|guest))\s+",
    re.IGNORECASE,
)
"""How callers say who they are ("this is X calling", "name's X", "it's under X")."""
_IT_IS = re.compile(r"(?:^|[.?!]\s+)(?:it'?s|it\s+is)\s+", re.IGNORECASE)
"""A message that starts "it's X, …": an introduction, unless it answers our question."""
_REFERS_BACK = re.compile(
    r"\b(?:it|that(?:\s+one)?|this(?:\s+one)?|that\s+(?:booking|tour|reservation))\b", re.IGNORECASE
)
"""A request about the booking just talked about ("cancel that one", "move it to …")."""
_NEXT_REQUEST = re.compile(
    r"\b(?:and|also|then)\s+(?:then\s+)?(?:(?:re-?)?book|move|note|add|update|change|take)\b", re.IGNORECASE
)
"""Where a second request starts in a message."""
_REBOOK = re.compile(r"\b(?:and|then)\s+(?:then\s+)?(?:re-?)?book\b", re.IGNORECASE)
_OBJECT_PRONOUN = re.compile(r"\b(?:him|her|them)\b", re.IGNORECASE)
_TITLE = re.compile(r"^(?:mr|mrs|ms|miss|mx|dr|prof|sir|madam)\.?\s+(?=\S+\s+\S)", re.IGNORECASE)
"""A title before a full name ("Mr Daniel Reyes"): the name is the rest. A title before a
surname alone ("Mr Khan") stays, or the name would be one word."""
_LEAD = r"^\W*(?:(?:so|and|but|um+|uh+|er+|ok|okay|hi|hello|hey|sorry|just\s+wondering|quick\s+question)\W+)*"
_ABOUT_A_REQUEST = re.compile(
    _LEAD + r"(?:what\s+(?:happens|if|would|does\s+it|is\s+the\s+(?:fee|cost|price|charge|policy))"
    r"|how\s+(?:do|does|can|could|would|should|much|long|far|late)|why|who|would\s+it\s+cost"
    r"|is\s+there\s+(?:a|any)\s+(?:fee|charge|cost|penalty)|does\s+it\s+cost|do\s+you\s+know|do\s+i\s+need)\b",
    re.IGNORECASE,
)
"""A question about a request rather than the request: nothing is written for it."""
_DID_YOU = re.compile(
    _LEAD + r"(?:did|have|has)\s+(?:you|we|i|they|someone)\s+(?:already\s+)?(?:book|cancel|move|reschedul)",
    re.IGNORECASE,
)
_BARE_REFERENCE = re.compile(
    r"^(?:it|that|this|so|them)\b(?:\s+(?:if\s+so|please|down|too|as\s+well))?\W*$", re.IGNORECASE
)
_PHONE_MENTIONED = re.compile(r"\b(?:phone|mobile|cell|telephone|tel|number)\b", re.IGNORECASE)
_PRONOUN_SUBJECT = re.compile(r"^(?:she|he)\s+", re.IGNORECASE)
# "of" names a person ("the booking of Ana Silva"), except after "tour" ("a tour of Florence").
_FOR = re.compile(
    r"\b(?:for|book|reserve|sign|put|(?<!tour\s)(?<!tours\s)(?<!trip\s)of|does|did|is|add)\s+", re.IGNORECASE
)
_VERB_OBJECT = re.compile(
    r"\b(?:cancel|move|reschedule|rebook|postpone|update|save|store|get|take)\s+", re.IGNORECASE
)
"""A capitalised name right after a request's verb ("Reschedule Anna Novak to ...")."""
_PLACE = re.compile(r"\b(?:in|at|to|(?:tours?|trip|visit)\s+(?:of|around))\s+(?:the\s+)?", re.IGNORECASE)
_PLACE_BEFORE_TOUR = re.compile(
    r"\b(?:a|the|an)\s+(?P<place>[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+)?)\s+(?:tour|trip)\b"
)
_LOWER_PLACE_BEFORE_TOUR = re.compile(r"\b(?P<place>[^\W\d_][\w'’-]+)\s+(?:tour|trip)\b")
_POSSESSIVE = re.compile(
    r"(?P<name>(?:[^\W\d_][\w'’-]*\s{1,2}){0,3}[^\W\d_][\w'’-]*)['’]s\s+(?:new\s+)?"
    r"(?P<thing>e-?mail|phone|mobile|number|contact|details|tour|booking|reservation|trip)",
    re.IGNORECASE,
)
_SUBJECT_VERB = re.compile(
    r"\s*,?\s*(?:has|have|got|'s|’s|changed|updated|is\s+now|now\s+has|new|can'?t|won'?t|cannot|will\s+not"
    r"|needs?|wants?|would|no\s+longer|here)\b",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"^(?:\W*(?:um+|uh+|er+|so|hi|hey|hello|ok|okay|oh|right|well|yes|yeah|no|nope|sorry|actually|and)\b[\s,.!-]*)+",
    re.IGNORECASE,
)
_BARE_LEAD = re.compile(
    r"^(?:(?:it'?s|it\s+is|that'?s|the\s+name\s+is|name\s+is|the\s+name'?s|name'?s|my\s+name\s+is|i'?m|i\s+am"
    r"|this\s+is|under|for|in|at|make\s+it|to)\s+)+",
    re.IGNORECASE,
)
_CANCEL = re.compile(
    r"\b(?:cancel\w*|call\s+off|take\s+(?:\S+\s+){1,3}?off\s+(?:the|a|my|our|this)\s+(?:tour|booking|list)|(?:can'?t|cannot|won'?t)\s+make\s+(?:it|(?:my|our|the|his|her|their)\s+(?:tour|booking|trip))"
    r"|no\s+longer\s+(?:need|want)|(?:don'?t|do\s+not)\s+need\s+(?:the|my|our)\s+(?:tour|booking|reservation)"
    r"|drop\s+(?:the|my|our|his|her|their)\s+(?:\w+\s+)?(?:booking|tour|reservation))\b",
    re.IGNORECASE,
)
_MOVE = re.compile(
    r"\b(?:re-?schedul\w*|rebook\w*|move[ds]?|postpone\w*|shift\w*|push\w*\s+(?:\S+\s+){0,4}?back"
    r"|br(?:ing|ought)\s+(?:\S+\s+){0,4}?forward|change\s+(?:\S+\s+){0,3}?(?:date|day))\b",
    re.IGNORECASE,
)
_LOOKUP = re.compile(
    r"\b(?:what|whats|what's|which|any|find|look\s*up|check|show|list|when)\b.*\b(?:tours?|bookings?|booked|reservations?)\b"
    r"|^\s*(?:is|are|do|does|did)\b.*\b(?:booked|booking|tour|reservation)s?\b",
    re.IGNORECASE,
)
_ABORT = re.compile(
    r"^\W*(?:never\s*mind|forget\s+(?:it|that|about\s+it)|cancel\s+that|stop|scratch\s+that)\b", re.IGNORECASE
)
_YES = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|correct|right|sure|ok|okay|please\s+do|go\s+ahead|confirm\w*|that'?s\s+right)\b",
    re.IGNORECASE,
)
_NO = re.compile(r"^\W*(?:no|nope|nah|wrong|not\s+quite|incorrect)\b", re.IGNORECASE)
_GOODBYE = re.compile(
    r"\b(?:bye|goodbye|good\s+night|see\s+you|that'?s\s+all|that\s+is\s+all|nothing\s+else)\b", re.IGNORECASE
)
_THANKS = re.compile(r"^\W*(?:thanks|thank\s+you|cheers|great|perfect|awesome)\b", re.IGNORECASE)
_QUESTION = re.compile(
    r"\?\s*$|^\W*(?:what|when|where|why|how|who|do|does|can|could|is|are)\b", re.IGNORECASE
)
_GREETING = re.compile(r"^\W*(?:hi|hello|hey|good\s+(?:morning|afternoon|evening))\b", re.IGNORECASE)
_REQUEST_WORDS = frozenset(
    [
        "please",
        "cancel",
        "move",
        "reschedule",
        "postpone",
        "change",
        "find",
        "check",
        "show",
        "update",
        "set",
        "save",
        "store",
        "add",
        "can",
        "could",
        "you",
        "will",
        "would",
        "and",
        "also",
        "so",
        "ok",
        "okay",
        "hi",
        "um",
        "we",
        "push",
        "back",
        "call",
        "off",
        "look",
        "up",
        "list",
        "when",
        "is",
    ]
)
_MOVE_TO = re.compile(r"\b(?:to|until|till|for)\s+(?!the\s+(?:booking|tour))", re.IGNORECASE)
_TODAY = re.compile(r"\bToday is \w+ (?P<day>\d{1,2} \w+ \d{4})")
_ORDER = re.compile(r"\bNumeric dates like \S+ are (?P<order>day/month|month/day)\b")
_CONFIRMED_NAME = re.compile(r"book a tour for (?P<name>.+?) on ")
_PERSONA = re.compile(r"\bYou are ([^.\n]{2,120})[.\n]")
_BOOKING_WORDS = re.compile(r"This business calls a booking (an?) ([^(]{1,30}) \(")
_SPOKEN = re.compile(r"The caller is speaking, heard by speech-to-text")

# The model's questions start with one of these; an answer to one continues that request.
_BOOKING_QUESTION = "To book the tour I still need"
_CONFIRM = "Just to confirm:"
_CHANGE_WHAT = "OK, nothing is saved yet. What should I change?"
_WHOSE_CONTACT = "Whose contact details are these?"
_WHICH_DETAILS = "What should I update for"
_WHOSE_BOOKING = "Whose booking is it?"
_WHICH_DATE = "To which date should I move"
_QUESTIONS = (
    _BOOKING_QUESTION,
    _CONFIRM,
    _CHANGE_WHAT,
    _WHOSE_CONTACT,
    _WHICH_DETAILS,
    _WHOSE_BOOKING,
    _WHICH_DATE,
)


class Task(StrEnum):
    """What a request asks for; each is one tool."""

    BOOK = "book_tour"
    NOTE = "take_note"
    CONTACT = "update_contact_info"
    LOOKUP = "find_tours"
    CANCEL = "cancel_tour"
    RESCHEDULE = "reschedule_tour"


@dataclass(frozen=True, slots=True)
class _Said:
    """One message of an open request and the question of ours it answers ("" for the first):
    `text` in written form (numbers, dates, emails, phones as a form holds them), `original`
    as the caller put it (a note keeps their words)."""

    text: str
    asked: str
    original: str = ""

    @classmethod
    def heard(cls, text: str, asked: str) -> _Said:
        """A message as the caller sent it."""
        return cls(written_form(text), asked, text)

    @property
    def lower_case(self) -> bool:
        return self.text == self.text.lower()


@dataclass(slots=True)
class _Plan:
    calls: list[ToolCallRequest] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    def call(self, name: str, arguments: JsonDict) -> None:
        self.calls.append(
            ToolCallRequest(f"call_{uuid.uuid4().hex[:24]}", name, json.dumps(arguments, ensure_ascii=False))
        )


@dataclass(frozen=True, slots=True)
class _Context:
    today: date
    order: DateOrder | None
    confirmed: bool
    history: Sequence[ChatMessage] = ()
    """The conversation so far, read only for "cancel that one" (see `_just_mentioned`)."""
    spoken: bool = False
    """The message was heard by speech-to-text (the agent's SPOKEN_WORDS say so)."""


class DemoModel(KeepsNothingOpen):
    """Rule-based model for the booking, note and contact tools."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    reading = Reading.DIRECT

    @property
    def name(self) -> str:
        return DEMO_MODEL_NAME

    def stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], interrupt: Interrupt | None = None
    ) -> Iterator[ModelEvent]:
        available = {t.name for t in tools}
        last = messages[-1] if messages else ChatMessage("user", "")
        calls: list[ToolCallRequest] = []
        if last.role == "tool":
            text = _summarise_results(messages, _booking_words(_system(messages)))
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
        system = _system(messages)
        # Like a real model, it takes "today" and the date order from what the agent tells it.
        asked = _last_reply(messages)
        context = _Context(
            _told_today(system) or self._clock.today(),
            _told_order(system),
            asked.startswith(_CONFIRM) and bool(_YES.match(text)),
            messages,
            bool(_SPOKEN.search(system)),
        )
        open_request = _open_request(messages)
        if open_request and _ABORT.match(text):
            return "OK, I've left everything as it was. What else can I do for you?", []
        heard = _Said.heard(text, asked)
        tasks = _tasks(heard.text)
        first = _tasks(open_request[0].text) if open_request else []
        if open_request and first and (not tasks or tasks == first[:1]):
            tasks, said = first[:1], [heard, *reversed(open_request)]
        else:
            said = [dataclasses.replace(heard, asked="")]
        if asked.startswith(_CONFIRM) and _NO.match(text) and not _correction(said[0], context.today):
            return _CHANGE_WHAT, []
        plan = _Plan()
        for task in tasks:
            _PLANNERS[task](plan, said, context)
        plan.calls = [c for c in plan.calls if c.name in tools]
        if plan.questions:
            return " ".join(plan.questions), plan.calls
        if plan.calls:
            return "", plan.calls
        return _small_talk(system, text), []


def _last_reply(messages: Sequence[ChatMessage]) -> str:
    """What the assistant said last before the message being answered."""
    earlier = [m for m in messages[:-1] if m.role == "assistant" and m.content]
    return earlier[-1].content if earlier else ""


def _just_mentioned(messages: Sequence[ChatMessage]) -> str | None:
    """The person of the exchange before the message being answered: the name its tool calls
    were made for, or else the one its message named."""
    before = [m for m in messages[:-1] if m.role in ("user", "assistant")]
    for message in reversed(before):
        if message.role == "assistant":
            for call in message.tool_calls:
                try:
                    name = json.loads(call.arguments or "{}").get("name")
                except (ValueError, AttributeError):
                    continue
                if isinstance(name, str):
                    return name
            continue
        return _name_in(_Said.heard(message.content, ""))
    return None


def _open_request(messages: Sequence[ChatMessage]) -> list[_Said]:
    """The earlier messages of the request the last one may continue, oldest first: while
    each reply of ours was one of our questions, the message before it belongs to it."""
    said: list[_Said] = []
    index = len(messages) - 1
    while index >= 2:
        reply, before = messages[index - 1], messages[index - 2]
        if reply.role != "assistant" or before.role != "user" or not reply.content.startswith(_QUESTIONS):
            break
        earlier = messages[index - 3] if index >= 3 and messages[index - 3].role == "assistant" else None
        said.insert(0, _Said.heard(before.content, earlier.content if earlier else ""))
        index -= 2
    return said


def _tasks(text: str) -> list[Task]:
    """The tasks a message states, in the order they are planned. A question about a request
    ("what happens if I cancel…", "would it cost extra to book…") asks for none; "did you book
    X…?" asks what X has booked."""
    if _ABOUT_A_REQUEST.match(text):
        return []
    if _DID_YOU.match(text):
        return [Task.LOOKUP]
    found: list[Task] = []
    if _CANCEL.search(text):
        found.append(Task.CANCEL)
        if _REBOOK.search(text):
            found.append(Task.BOOK)
    elif _MOVE.search(text):
        found.append(Task.RESCHEDULE)
    elif _LOOKUP.search(text):
        found.append(Task.LOOKUP)
    elif _BOOKING.search(text):
        found.append(Task.BOOK)
    if _NOTE.search(text):
        found.append(Task.NOTE)
    if _CONTACT.search(text) and Task.CANCEL not in found:
        found.append(Task.CONTACT)
    return found


def _told_today(system: str) -> date | None:
    """The date the system message says today is ("Today is Monday 24 November 2026")."""
    told = _TODAY.search(system)
    if told is None:
        return None
    try:
        return datetime.strptime(told["day"], "%d %B %Y").date()
    except ValueError:
        return None


def _told_order(system: str) -> DateOrder | None:
    """How the system message says numeric dates are read, if it says."""
    told = _ORDER.search(system)
    if told is None:
        return None
    return "day_first" if told["order"] == "day/month" else "month_first"


def _stripped(text: str) -> str:
    return _FILLER.sub("", text.strip())


def _possessive_name(said: _Said) -> str | None:
    """The name before "'s email", "'s tour": the words right before it that can be a name
    ("Can we push back Emma Wilson's tour", "Change Bob Lee's phone"), request verbs left out."""
    owner = _POSSESSIVE.search(said.text)
    if owner is None:
        return None
    words = owner["name"].split()
    kept: list[str] = []
    for word in reversed(words):
        if word.lower() in _REQUEST_WORDS or word.lower() in STOP_WORDS:
            break
        if not said.lower_case and not word[0].isupper():
            break
        kept.insert(0, word)
        if said.lower_case and len(kept) == 2:
            break
    return run_at(" ".join(kept), lower_case=said.lower_case) if kept else None


def _introduced_name(said: _Said) -> str | None:
    """A full name the caller introduces ("my name is X", "this is X calling", "it's under X";
    "it's X, …" only when it does not answer a question of ours, where it may name a place)."""
    text = _stripped(said.text)
    starts = [m.end() for m in _INTRODUCED.finditer(text)]
    if not said.asked:
        starts[:0] = [opening.end() for opening in _IT_IS.finditer(text)]
    for start in starts:
        run = run_at(text[start:], lower_case=said.lower_case, at_most=3)
        words = run.split() if run else []
        # One word is not a full name, and "i'm looking for…" typed in lower case names nobody.
        if len(words) >= 2 and not any(w.lower().endswith("ing") for w in words):
            return run
    return None


def _name_in(said: _Said) -> str | None:
    """The person a message names: "for X", "book X", "X's email", "X has a new number",
    "my name is X"; without a title before a full name."""
    name = _named(said)
    return _TITLE.sub("", name) if name else None


def _named(said: _Said) -> str | None:
    text = said.text
    if name := _possessive_name(said):
        return name
    if name := _introduced_name(said):
        return name
    if name := run_after(_FOR, text, lower_case=said.lower_case, at_most=2):
        return name
    if not said.lower_case and (name := run_after(_VERB_OBJECT, text)):
        return name
    rest = _stripped(text)
    subject = run_at(rest, lower_case=said.lower_case, at_most=2)
    if subject and _SUBJECT_VERB.match(rest[len(subject) :]):
        return subject
    return None


def _place_in(said: _Said) -> str | None:
    """The place a message names: "in Rome", "at the Louvre", "a Lisbon tour"."""
    if place := run_after(_PLACE, said.text, lower_case=said.lower_case, at_most=2):
        return place
    pattern = _LOWER_PLACE_BEFORE_TOUR if said.lower_case else _PLACE_BEFORE_TOUR
    for before_tour in pattern.finditer(said.text):
        if before_tour["place"].lower() not in STOP_WORDS:
            return run_at(before_tour["place"], lower_case=said.lower_case)
    return None


def _bare(said: _Said) -> str | None:
    """A name or place given alone, as an answer: "Maria Garcia", "no, Porto", "Rome, Friday"."""
    rest = _BARE_LEAD.sub("", _stripped(_YES.sub("", said.text, count=1)))
    return run_at(rest, lower_case=said.lower_case, at_most=3)


def _correction(said: _Said, today: date) -> bool:
    """True when a "no" also says what to change ("no, Porto")."""
    return _bare(said) is not None or find_date(said.text, today) is not None


def _answered_slot(said: _Said, run: str) -> str:
    """Which detail a bare answer gives: what the question asked for, else a full name for
    two words or more and a place for one."""
    asked = said.asked.split(" (so far:", 1)[0]  # what was asked for, not what was understood
    wants_name = "name" in asked or said.asked.startswith(_WHOSE_CONTACT)
    wants_place = "location" in asked
    if wants_name != wants_place:
        return "name" if wants_name else "location"
    if not wants_name and said.asked.startswith(_BOOKING_QUESTION):
        return "neither"  # asked for the date alone: "2027-02-02 then" names no place
    if confirmed := _CONFIRMED_NAME.search(said.asked):
        # Correcting a confirmed booking: a name shares its first word with the one it
        # corrects ("no, Maria Lopez"); anything else corrects the place ("no, Tel Aviv").
        same_person = run.split(maxsplit=1)[0].casefold() == confirmed["name"].split()[0].casefold()
        return "name" if same_person else "location"
    return "name" if len(run.split()) >= 2 else "location"


@dataclass(frozen=True, slots=True)
class _Details:
    """Name, date and place of a booking request; `listed` when a name or place was read
    from a bare list ("Daniel Okafor, Nairobi, 2027-06-18") rather than words that say so."""

    name: str | None
    mention: DateMention | None
    location: str | None
    listed: bool = False


def _details(said: list[_Said], context: _Context) -> _Details:
    """Name, date and place of a request, each from the latest message that gives it."""
    name: str | None = None
    mention: DateMention | None = None
    location: str | None = None
    for index, message in enumerate(said):
        found_date = find_date(message.text, context.today, context.order)
        found_name, found_place = _name_in(message), _place_in(message)
        if index < len(said) - 1 and not found_name:
            text = message.text.replace(found_date.span, " ") if found_date else message.text
            run = _bare(_Said(text, message.asked, message.original))
            if run is not None and run != found_place:
                slot = _answered_slot(message, run)
                if slot == "name":
                    found_name = run
                elif slot == "location":
                    found_place = run
        if found_date and found_date.span not in message.original:
            # Said in words ("the third of march"): what the rules heard is confirmed first.
            found_date = dataclasses.replace(found_date, inferred=True)
        name, location = name or found_name, location or found_place
        mention = mention or found_date
    listed = False
    if name is None or location is None:
        for run in _listed(said[-1]):
            if name is None and len(run.split()) >= 2 and run != location:
                name, listed = run, True
            elif location is None and run != name:
                location, listed = run, True
    return _Details(name, mention, location, listed)


_LIST_SEPARATOR = re.compile(r"\s*(?:[,;:/|]|\s[-–]\s)\s*")
_LIST_TAIL = re.compile(r"[\s.!]*(?:\b(?:please|pls|plz|thanks|thx|cheers|ty)\b[\s.!]*)*$", re.IGNORECASE)


def _listed(said: _Said) -> list[str]:
    """Names and places given as a bare list, each item nothing but a run of name words
    ("book tour: emily clarke / bath / 5 jan 2027" -> "Emily Clarke", "Bath")."""
    items = _LIST_SEPARATOR.split(said.text)
    if len(items) < 3:
        return []
    runs = []
    for item in items[1:]:
        bare = _LIST_TAIL.sub("", item).strip()
        run = run_at(bare, lower_case=said.lower_case, at_most=3)
        if run is not None and run.casefold() == bare.casefold():
            runs.append(run)
    return runs


def _when(iso: str) -> str:
    try:
        return date.fromisoformat(iso).strftime("%A %-d %B %Y")
    except ValueError:
        return iso


_ANOTHER_BOOKING = re.compile(
    r",?\s+(?:and|also|plus)\s+(?:also\s+)?(?:book\s+)?(?:another\s+(?:one|tour|booking|place|spot)\s+)?(?:for\s+)?",
    re.IGNORECASE,
)


def _booking_parts(said: _Said, context: _Context) -> list[_Said]:
    """Two bookings in one message ("Book A in X on D1 and B in Y on D2"), each part with its
    own name and date; none when the message is one booking."""
    for joint in _ANOTHER_BOOKING.finditer(said.text):
        first, second = said.text[: joint.start()], said.text[joint.end() :]
        if find_date(first, context.today, context.order) is None:
            continue
        if find_date(second, context.today, context.order) is None:
            continue
        # Each part keeps the whole message as said, so a date heard in words is still confirmed.
        second_said = _Said(f"for {second}", said.asked, said.original)
        if _name_in(second_said) is None:
            continue
        return [_Said(first, said.asked, said.original), second_said]
    return []


def _plan_booking(plan: _Plan, said: list[_Said], context: _Context) -> None:
    if len(said) == 1 and (rebook := _REBOOK.search(said[0].text)):
        # "Cancel Tom Hardy's tour and book him in Leeds on …": the booking is the second
        # clause, for the person of the first.
        person = _name_in(_Said(said[0].text[: rebook.start()], said[0].asked))
        clause = said[0].text[rebook.start() :]
        if person:
            clause = _OBJECT_PRONOUN.sub(f"for {person}", clause, count=1)
        said = [_Said(clause, said[0].asked, said[0].original)]
    # Two bookings in one message, as said or as just confirmed with a "yes".
    opening = said[-1]
    whole = len(said) == 1 or (context.confirmed and len(said) == 2)
    parts = _booking_parts(opening, context) if whole else []
    for request in [[part] for part in parts] or [said]:
        _plan_one_booking(plan, request, context)


def _plan_one_booking(plan: _Plan, said: list[_Said], context: _Context) -> None:
    details = _details(said, context)
    name, mention, location = details.name, details.mention, details.location
    if mention is not None and mention.iso is not None and mention.day is None:
        plan.questions.append(
            f"{_BOOKING_QUESTION} a date that is on the calendar: {mention.span} is not one."
            " Which date do you mean?"
        )
        return
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
        # The question names what was understood, so a misheard detail is caught now.
        known = [
            name,
            _when(mention.iso) if mention is not None and mention.iso else None,
            f"in {location}" if location else None,
        ]
        so_far = ", ".join(k for k in known if k)
        understood = f" (so far: {so_far})" if so_far else ""
        plan.questions.append(f"{_BOOKING_QUESTION} {_join(missing)}{understood}. Could you tell me?")
        return
    assert mention is not None
    assert mention.iso is not None
    assert name is not None
    if (mention.inferred or details.listed or len(name.split()) < 2) and not context.confirmed:
        plan.questions.append(
            f"{_CONFIRM} book a tour for {name} on {_when(mention.iso)} in {location}? Please say yes or no."
        )
        return
    plan.call("book_tour", {"name": name, "date": mention.iso, "location": location})


def _plan_change(plan: _Plan, said: list[_Said], context: _Context, *, tool: Task) -> None:
    """Look up, cancel or move a booking; the date before "to" is the booking's, after it the new one."""
    name = next((n for s in said if (n := _name_in(s) or _bare_if_asked(s, _WHOSE_BOOKING))), None)
    if name is None and _REFERS_BACK.search(said[0].text):
        name = _just_mentioned(context.history)
    if name is None:
        plan.questions.append(f"{_WHOSE_BOOKING} Please give the customer's full name.")
        return
    arguments: JsonDict = {"name": name}
    text = said[-1].text
    current: DateMention | None
    if tool == Task.RESCHEDULE:
        new, place, current = _move_target(said, context)
        if new is None or new.question or new.iso is None:
            plan.questions.append(f"{_WHICH_DATE} {name}'s booking?")
            return
        arguments["new_date"] = new.iso
        if place:
            arguments["new_location"] = place
        if new.inferred and not context.confirmed:
            where = f" in {place}" if place else ""
            plan.questions.append(
                f"{_CONFIRM} move {name}'s booking to {_when(new.iso)}{where}? Please say yes or no."
            )
            return
    else:
        # Only its own clause dates the booking: "cancel X's tour and book him on D" is not D.
        current = find_date(_NEXT_REQUEST.split(text, maxsplit=1)[0], context.today, context.order)
    if current is not None and not current.question:
        arguments["date"] = current.iso
    plan.call(tool.value, arguments)


def _bare_if_asked(said: _Said, question: str) -> str | None:
    return _bare(said) if said.asked.startswith(question) else None


def _move_target(
    said: list[_Said], context: _Context
) -> tuple[DateMention | None, str | None, DateMention | None]:
    """The new date and place of a move (after "to"), and the booking's current date."""
    for message in said:
        text = message.text
        target = _MOVE_TO.search(text) if not message.asked.startswith(_WHICH_DATE) else None
        after = text[target.end() :] if target else text
        new = find_date(after, context.today, context.order)
        if new is not None:
            place = run_after(_PLACE, after, lower_case=message.lower_case, at_most=2)
            current = find_date(text[: target.start()], context.today, context.order) if target else None
            return new, place, current
    return None, None, None


def _plan_note(plan: _Plan, said: list[_Said], context: _Context) -> None:
    words = said[0].original or said[0].text
    note = _NOTE.search(words)
    content = note["content"].strip() if note else words.strip()
    if not content or _BARE_REFERENCE.match(content):
        # "Please note it if so": a note that only points at something is no note.
        plan.questions.append("What should I note down?")
        return
    # "Book Ines Costa … Also, note that she is vegetarian": a note is read on its own later,
    # so it says whom it is about.
    before = _Said.heard(words[: note.start()], "") if note else None
    if before and _PRONOUN_SUBJECT.match(content) and (person := _name_in(before)) and " " in person:
        content = _PRONOUN_SUBJECT.sub(person + " ", content, count=1)
    plan.call("take_note", {"content": content[0].upper() + content[1:]})


def _plan_contact(plan: _Plan, said: list[_Said], context: _Context) -> None:
    name = next((n for s in said if (n := _name_in(s) or _bare_if_asked(s, _WHOSE_CONTACT))), None)
    email = next((e for s in said if (e := find_email(s.text))), None)
    phone = next((p for s in said if (p := find_phone(s.text))), None)
    if name is None:
        plan.questions.append(f"{_WHOSE_CONTACT} Please give the full name.")
    elif email is None and phone is None:
        plan.questions.append(f"{_WHICH_DETAILS} {name}: the email, the phone number, or both?")
    else:
        arguments: JsonDict = {"name": name}
        if email:
            arguments["email"] = email
        if phone:
            arguments["phone"] = phone
        if context.spoken and not context.confirmed:
            # Heard, not read: letters and digits are what speech-to-text gets wrong.
            plan.questions.append(
                f"{_CONFIRM} save {_read_back(email, phone)} for {name}? Please say yes or no."
            )
            return
        plan.call("update_contact_info", arguments)
        if phone is None and any(_PHONE_MENTIONED.search(s.text) for s in said):
            # A number was meant but not understood: say so rather than drop it in silence.
            plan.questions.append("I didn't catch the phone number — could you say it again?")


def _read_back(email: str | None, phone: str | None) -> str:
    """Contact details as they are read back to a caller: spelled out."""
    parts = []
    if email:
        local, _, domain = email.partition("@")
        parts.append(f"the email {email}, spelled {' '.join(local)} at {domain.replace('.', ' dot ')}")
    if phone:
        digits = " ".join(c for c in phone if c.isdigit())
        parts.append(f"the phone number {phone}, that is {'plus ' if phone.startswith('+') else ''}{digits}")
    return " and ".join(parts)


_PLANNERS: dict[Task, Callable[[_Plan, list[_Said], _Context], None]] = {
    Task.BOOK: _plan_booking,
    Task.NOTE: _plan_note,
    Task.CONTACT: _plan_contact,
    Task.LOOKUP: partial(_plan_change, tool=Task.LOOKUP),
    Task.CANCEL: partial(_plan_change, tool=Task.CANCEL),
    Task.RESCHEDULE: partial(_plan_change, tool=Task.RESCHEDULE),
}


def _small_talk(system: str, text: str) -> str:
    """The answer to anything that is not a request: goodbye, thanks, a question it cannot
    answer (it says what it can do), or the greeting."""
    if _GOODBYE.search(text):
        return "Goodbye, and thank you for calling!"
    if _THANKS.match(text):
        return "You're welcome! Is there anything else I can do for you?"
    if _QUESTION.search(text) and not _GREETING.match(text) and "help" not in text.lower():
        return (
            "I'm afraid I can't answer that. I can book a tour, look up, move or cancel a"
            " booking, take a note, or update contact details."
        )
    return _greeting(system)


def _greeting(system: str) -> str:
    persona = _PERSONA.search(system)
    intro = f"Hello! I'm {persona.group(1)}." if persona else "Hello!"
    # A business whose bookings are not tours says so in the system message (BOOKING_WORDS).
    booking, _ = _booking_words(system)
    example = (
        "Book a tour for John Smith on March 15 in Paris."
        if booking == "a tour"
        else f"Book {booking} for John Smith on March 15 in Porto."
    )
    return (
        f"{intro} I can book {booking}, look up, move or cancel a booking, take a note, or update"
        f' contact details. For example: "{example}"'
    )


def _system(messages: Sequence[ChatMessage]) -> str:
    return next((m.content for m in messages if m.role == "system"), "")


def _booking_words(system: str) -> tuple[str, str]:
    """What the business calls a booking, with and without its article: ('a tour', 'tour')
    unless the system message says otherwise (the agent's BOOKING_WORDS)."""
    words = _BOOKING_WORDS.search(system)
    return (f"{words.group(1)} {words.group(2)}", words.group(2)) if words else ("a tour", "tour")


def _summarise_results(messages: Sequence[ChatMessage], booking: tuple[str, str]) -> str:
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
            sentences.append(_success_sentence(name, outcome.get("result") or {}, booking))
        else:
            sentences.append(_failure_sentence(name, str(outcome.get("error"))))
    return " ".join(sentences)


def _success_sentence(tool: str, result: JsonDict, booking: tuple[str, str]) -> str:
    a_booking, noun = booking
    if tool == "book_tour":
        when = date.fromisoformat(result["date"]).strftime("%A %-d %B %Y")
        reference = str(result["booking_id"])[:8]
        if result.get("already_booked"):
            return (
                f"{result['name']} is already booked on {when} in {result['location']}"
                f" (booking reference {reference}); I haven't booked it twice."
            )
        return (
            f"Done: I've booked {a_booking} for {result['name']} on {when} in {result['location']}"
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
            f"Done: I've cancelled {result['name']}'s {noun} on {_when(result['date'])}"
            f" in {result['location']}; they will be told."
        )
    if tool == "reschedule_tour":
        return (
            f"Done: {result['name']}'s {noun} is moved from {_when(result['previous_date'])} to"
            f" {_when(result['date'])} in {result['location']}; they will be told."
        )
    if tool == "take_note":
        return f"Noted: \u201c{result['content']}\u201d"
    if tool == "update_contact_info":
        details = _join([f"{k} {result[k]}" for k in ("email", "phone") if result.get(k)]) or "no details yet"
        verb = "added" if result.get("created") else "updated"
        return f"I've {verb} the contact {result['name']} ({details})."
    return f"{tool} succeeded."


_PLAIN_REASONS = (
    (re.compile(r"the caller said"), "I want to be sure of the day — which date do you mean?"),
    (re.compile(r"\bdate\b"), "that date isn't one I can use — which date would you like?"),
    (re.compile(r"\bemail\b"), "that email address doesn't look right — could you spell it again?"),
    (re.compile(r"\bphone\b"), "that phone number doesn't look right — could you say it again?"),
    (re.compile(r"\blocation\b"), "I need the place of the tour — where should it be?"),
    (re.compile(r"\bname\b"), "I need the customer's full name — could you tell me?"),
    (re.compile(r"not enabled"), "that isn't something I can do here; a member of staff will help you."),
)
"""What a tool's refusal means to a caller: tool errors are written for the model and the
operator ("invalid arguments: date: …"), and never reach a customer as they are."""


def _failure_sentence(tool: str, error: str) -> str:
    action = {
        "book_tour": "book the tour",
        "find_tours": "look up the bookings",
        "cancel_tour": "cancel the booking",
        "reschedule_tour": "move the booking",
        "take_note": "save the note",
        "update_contact_info": "update the contact",
    }.get(tool, "do that")
    if past := re.search(r"(\d{4}-\d{2}-\d{2}) is in the past", error):
        return f"I couldn't {action}: {_when(past[1])} has already passed — which date would you like?"
    if "has no upcoming booking" in error:
        return f"I couldn't {action}: {error}. Could you check the name or the date?"
    reason = next((plain for pattern, plain in _PLAIN_REASONS if pattern.search(error)), None)
    if reason is None:
        return f"I couldn't {action}, and nothing was saved. Could you give me the details again?"
    return f"I couldn't {action}: {reason}"


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
