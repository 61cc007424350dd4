"""What the offline demo model reads in a message: dates, names, places, emails, phones.

Dates are found by small patterns of ours (which words form a date) and computed by
`dateparser` (what they mean, from the business's today and date order). Names and places
are runs of words after the words that introduce them; in a message typed all in lower
case they are still found there and capitalised. Anything unsure is reported as missing
or as something to confirm, so that the model asks instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import dateparser

DateOrder = Literal["day_first", "month_first"]

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"\d{4}"
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|a|an|\\d{1,2}"

_ISO = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b")
_WRITTEN = re.compile(
    rf"\b(?:{_ORDINAL}(?:\s+of)?\s+{_MONTH}|{_MONTH}\s+(?:the\s+)?{_ORDINAL}(?![\d:]))(?:,?\s+{_YEAR})?\b",
    re.IGNORECASE,
)
_NUMERIC = re.compile(r"\b(?P<a>\d{1,2})[/.](?P<b>\d{1,2})(?:[/.](?P<year>\d{4}))?\b")
_RELATIVE = re.compile(
    rf"\b(?:(?:the\s+)?day\s+after\s+tomorrow|today|tomorrow|tmrw|tomorow|tommorow|tommorrow"
    rf"|in\s+(?:{_NUMBER_WORDS})\s+(?:days?|weeks?)|(?:{_NUMBER_WORDS})\s+(?:days?|weeks?)\s+from\s+(?:now|today))\b",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(
    r"\b(?P<which>next\s+|this\s+|on\s+|coming\s+|this\s+coming\s+)?(?P<weekday>"
    + "|".join(WEEKDAYS)
    + r")\b",
    re.IGNORECASE,
)
_NEXT_WEEK = re.compile(r"\bnext\s+week\b", re.IGNORECASE)
_BARE_ORDINAL = re.compile(r"\bthe\s+(?P<day>\d{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)
_TYPOS = {"tmrw": "tomorrow", "tomorow": "tomorrow", "tommorow": "tomorrow", "tommorrow": "tomorrow"}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_NATIONAL = re.compile(r"(?<![\w+/.-])\(?0\d[\d\s().-]{5,}\d(?!\w|[/.-]\d)")
_NUMERIC_DATE = re.compile(r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")
_PHONE_AFTER_WORD = re.compile(
    r"\b(?:phone|mobile|cell|tel|telephone|number)(?:\s+number)?\s*(?:is\s+now|is|:|=|to|now)?\s*"
    r"(?P<phone>\(?\+?\d[\d\s().-]{4,}\d)",
    re.IGNORECASE,
)
_PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])\+\d[\d\s().-]{5,}\d")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_NAME_PARTICLES = {"de", "da", "del", "della", "der", "van", "von", "le", "la", "du", "dos", "bin", "al"}
STOP_WORDS = (
    set(MONTHS)
    | set(WEEKDAYS)
    | {"i", "me", "my", "we", "us", "you", "it", "he", "she", "they", "them", "her", "him", "his", "their"}
    | {"a", "an", "the", "on", "in", "at", "to", "for", "from", "of", "onto", "into", "and", "or", "with"}
    | {"by", "please", "pls", "plz", "thanks", "thank", "today", "tomorrow", "tmrw", "next", "this", "that"}
    | {"tour", "tours", "booking", "bookings", "trip", "reservation", "appointment", "date", "day", "week"}
    | {"weeks", "days", "morning", "afternoon", "evening", "is", "are", "was", "be", "has", "have", "had"}
    | {"new", "now", "yes", "no", "ok", "okay", "hi", "hello", "hey", "um", "uh", "er", "so", "just", "also"}
    | {"there", "here", "our", "your", "all", "one", "two", "group", "family", "instead", "again", "same"}
    | {"would", "could", "can", "will", "like", "want", "need", "book", "reserve", "email", "phone", "number"}
    | {"cancel", "move", "reschedule", "change", "update", "note", "contact", "details", "info", "when"}
    | {"what", "which", "who", "how", "where", "why", "coming", "as", "well", "still", "actually", "sorry"}
    | {"does", "do", "did", "whats", "can't", "won't", "cannot", "up", "down", "off", "back", "add"}
    | {"then", "u", "thx", "cheers", "anymore", "any", "more", "calling", "it's", "i'm", "under", "here"}
    | set(_TYPOS)
)
"""Words that never start or belong to a name or place typed in lower case."""
_NOT_CAPITALIZED_NAMES = (
    set(MONTHS)
    | set(WEEKDAYS)
    | {"i", "today", "tomorrow", "please", "thanks", "thank", "the", "a", "an", "on", "in", "at", "for"}
    | {"to", "and", "yes", "no", "hi", "hello", "hey", "does", "do", "did", "is", "can", "could", "my"}
    | {"we", "you", "he", "she", "they", "it", "our", "your", "his", "her", "their", "this", "that"}
)
"""Capitalised words that still never start or belong to a name or place (sentence starts)."""


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date found in text: the date as ISO text (possibly not a real calendar date), or a
    question to ask when the text is ambiguous. `inferred` marks a date the caller did not
    spell out (a relative day, a numeric date read by the business's order): the model
    confirms it before writing."""

    iso: str | None = None
    question: str | None = None
    inferred: bool = False
    span: str = ""

    @property
    def day(self) -> date | None:
        """The date as a calendar day; None when it was a question or is no real date."""
        try:
            return date.fromisoformat(self.iso) if self.iso else None
        except ValueError:
            return None


def _iso(year: int, month: int, day: int) -> str:
    # Kept as text: an impossible date like 2027-02-30 goes to the tool, whose validation
    # rejects it with a clear message.
    return f"{year:04d}-{month:02d}-{day:02d}"


def _parse(text: str, today: date, order: DateOrder | None = None) -> date | None:
    """dateparser's reading of a span already known to be a date, future-leaning."""
    settings: dict[str, object] = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": datetime(today.year, today.month, today.day),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "DATE_ORDER": "MDY" if order == "month_first" else "DMY",
    }
    parsed = dateparser.parse(text, languages=["en"], settings=settings)
    return parsed.date() if parsed else None


def _impossible(span: str, today: date) -> str:
    """A written date no calendar has ("the 31st of February"), as ISO text for the tool to refuse."""
    day = int(re.search(r"\d{1,2}", span)[0])  # type: ignore[index]
    month = next(number for name, number in MONTHS.items() if re.search(rf"\b{name}\b", span, re.IGNORECASE))
    year = re.search(r"\d{4}", span)
    return _iso(int(year[0]) if year else today.year, month, day)


def _next_day_of_month(day: int, today: date) -> str:
    year, month = today.year, today.month
    if day < today.day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return _iso(year, month, day)


def find_date(text: str, today: date, order: DateOrder | None = None) -> DateMention | None:
    """The first date mentioned. A missing year means the next such day from today; a
    numeric date is read by `order`, or asked about when there is none and it is ambiguous."""
    if match := _ISO.search(text):
        return DateMention(_iso(int(match["year"]), int(match["month"]), int(match["day"])), span=match[0])
    if match := _WRITTEN.search(text):
        parsed = _parse(match[0].replace(" the ", " "), today)
        if (
            parsed
            and (parsed.month, parsed.day) == (today.month, today.day)
            and not re.search(_YEAR, match[0])
        ):
            parsed = today  # "November 24" said on 24 November is today, not next year
        return DateMention(parsed.isoformat() if parsed else _impossible(match[0], today), span=match[0])
    if match := _NUMERIC.search(text):
        return _numeric(match, today, order)
    if match := _RELATIVE.search(text):
        span = match[0].lower()
        parsed = _parse(_TYPOS.get(span, span), today)
        if parsed is not None:
            return DateMention(parsed.isoformat(), inferred=True, span=match[0])
    if match := _WEEKDAY.search(text):
        target = WEEKDAYS.index(match["weekday"].lower())
        ahead = (target - today.weekday()) % 7 or 7
        return DateMention((today + timedelta(days=ahead)).isoformat(), inferred=True, span=match[0])
    if match := _NEXT_WEEK.search(text):
        return DateMention(question="Which day next week?", span=match[0])
    if match := _BARE_ORDINAL.search(text):
        return DateMention(_next_day_of_month(int(match["day"]), today), inferred=True, span=match[0])
    return None


def _numeric(match: re.Match[str], today: date, order: DateOrder | None) -> DateMention:
    a, b = int(match["a"]), int(match["b"])
    year = int(match["year"]) if match["year"] else None
    if a > 12 >= b or b > 12 >= a or a == b:
        day, month = (a, b) if a > 12 or (a == b) else (b, a)
        inferred = False
    elif order is None:
        on = year or today.year
        first = date(on, b, a).strftime("%-d %B")
        second = date(on, a, b).strftime("%-d %B")
        return DateMention(question=f"Does {match[0]} mean {first} or {second}?", span=match[0])
    else:
        day, month = (a, b) if order == "day_first" else (b, a)
        inferred = True
    if year is None:
        try:
            candidate = date(today.year, month, day)
        except ValueError:
            return DateMention(_iso(today.year, month, day), span=match[0])
        year = today.year + 1 if candidate < today else today.year
    return DateMention(_iso(year, month, day), inferred=inferred, span=match[0])


def capitalized_run(text: str) -> str | None:
    """The run of capitalised words at the start of `text` ("Sarah Jones: ..." -> "Sarah Jones").

    Words are separated by single or double spaces; lower-case particles (de, van, ...) may
    join two capitalised words. Month and weekday names are never part of a name.
    """
    words: list[str] = []
    position = 0
    while True:
        match = _WORD.match(text, position)
        if match is None:
            break
        word = match.group(0).rstrip(".")
        if word.lower() in _NOT_CAPITALIZED_NAMES:
            break
        if not word[0].isupper() and (word.lower() not in _NAME_PARTICLES or not words):
            break
        if word.endswith(("'s", "’s")):
            words.append(word[:-2])  # "Rosa Diaz's Barcelona tour": the name ends here
            break
        words.append(word)
        position = match.end()
        gap = len(text[position:]) - len(text[position:].lstrip(" "))
        if gap not in (1, 2):
            break
        position += gap
    while words and words[-1].lower() in _NAME_PARTICLES:
        words.pop()
    return " ".join(words) or None


def lower_case_run(text: str, at_most: int) -> str | None:
    """The run of up to `at_most` words at the start of lower-case `text` that are not stop
    words, capitalised ("maria garcia in rome" -> "Maria Garcia")."""
    words: list[str] = []
    position = 0
    while len(words) < at_most:
        match = _WORD.match(text, position)
        if match is None:
            break
        word = match.group(0).rstrip(".")
        if word.lower() in STOP_WORDS or any(c.isdigit() for c in word):
            break
        position = match.end()
        if text[position : position + 1] == "@":
            return None  # the start of an email address, not a name
        words.append(word)
        if text[position : position + 1] != " ":
            break
        position = len(text) - len(text[position:].lstrip(" "))
    return " ".join(_capitalised(w) for w in words) or None


def _capitalised(word: str) -> str:
    """A lower-case name word as it is written: "o'connor" -> "O'Connor", "smith-jones" -> "Smith-Jones"."""
    return re.sub(r"(^|['’-])(\w)", lambda m: m[1] + m[2].upper(), word)


def run_at(text: str, *, lower_case: bool, at_most: int = 4) -> str | None:
    """The name or place at the start of `text`: capitalised words, or any non-stop words
    when the whole message was typed in lower case."""
    if lower_case:
        return lower_case_run(text, at_most)
    return capitalized_run(text)


def run_after(
    pattern: re.Pattern[str], text: str, *, lower_case: bool = False, at_most: int = 4
) -> str | None:
    """The run right after the first match of `pattern` that is followed by one."""
    for match in pattern.finditer(text):
        if run := run_at(text[match.end() :], lower_case=lower_case, at_most=at_most):
            return run
    return None


def find_email(text: str) -> str | None:
    """The first thing that looks like an email address (the tool validates it properly)."""
    match = _EMAIL.search(text)
    return match.group(0).rstrip(".") if match else None


def find_phone(text: str) -> str | None:
    """A phone number introduced by a word like 'phone', an international +number, or a
    national number starting with 0 ("06 12 34 56 78", "0412 345 678"): 7 to 15 digits, and
    not a date written with dots or slashes."""
    if match := _PHONE_AFTER_WORD.search(text):
        return match["phone"].strip()
    if match := _PHONE_INTERNATIONAL.search(text):
        return match.group(0).strip()
    for national in _PHONE_NATIONAL.finditer(text):
        if not _NUMERIC_DATE.fullmatch(national[0]) and 7 <= sum(c.isdigit() for c in national[0]) <= 15:
            return national[0]
    return None
