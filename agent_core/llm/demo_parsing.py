"""Text understanding rules of the offline demo model: dates, names, places, emails, phones.

Deliberately small and predictable. Anything it is unsure of is reported as missing or
ambiguous so that the model asks instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

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
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_ORDINAL = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"

_ISO = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b")
_DAY_MONTH = re.compile(rf"\b{_ORDINAL}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR})?\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(?:the\s+)?{_ORDINAL}(?:,?\s+{_YEAR})?\b", re.IGNORECASE)
_SLASHED = re.compile(r"\b(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<year>\d{4})\b")
_RELATIVE = re.compile(r"\b(?:the\s+)?(?P<word>day after tomorrow|tomorrow|today)\b", re.IGNORECASE)
_WEEKDAY = re.compile(
    r"\b(?P<next>next\s+|this\s+|on\s+)?(?P<weekday>" + "|".join(WEEKDAYS) + r")\b", re.IGNORECASE
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_AFTER_WORD = re.compile(
    r"\b(?:phone|mobile|cell|tel|telephone|number)(?:\s+number)?\s*(?:is|:|=|to)?\s*(?P<phone>\+?\d[\d\s().-]{4,}\d)",
    re.IGNORECASE,
)
_PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])\+\d[\d\s().-]{5,}\d")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_NAME_PARTICLES = {
    "de",
    "da",
    "del",
    "della",
    "der",
    "van",
    "von",
    "le",
    "la",
    "du",
    "dos",
    "bin",
    "al",
}
_NOT_NAMES = set(MONTHS) | set(WEEKDAYS) | {"i", "today", "tomorrow", "please", "thanks", "thank"}


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date found in text: the date as ISO text (possibly not a real calendar date), or
    a question to ask when the text is ambiguous."""

    iso: str | None = None
    question: str | None = None


def _iso(year: int, month: int, day: int) -> str:
    # Kept as text: an impossible date like 2027-02-30 goes to the tool, whose validation
    # rejects it with a clear message.
    return f"{year:04d}-{month:02d}-{day:02d}"


def _with_year(month: int, day: int, year: str | None, today: date) -> str:
    if year is not None:
        return _iso(int(year), month, day)
    try:
        candidate = date(today.year, month, day)
    except ValueError:
        return _iso(today.year, month, day)
    if candidate < today:
        return _iso(today.year + 1, month, day)
    return candidate.isoformat()


def find_date(text: str, today: date) -> DateMention | None:
    """The first date mentioned; a missing year means the next such day from today."""
    if match := _ISO.search(text):
        return DateMention(_iso(int(match["year"]), int(match["month"]), int(match["day"])))
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        if match := pattern.search(text):
            month = MONTHS[match["month"].lower()]
            return DateMention(_with_year(month, int(match["day"]), match["year"], today))
    if match := _SLASHED.search(text):
        a, b, year = int(match["a"]), int(match["b"]), int(match["year"])
        if a > 12 >= b:
            return DateMention(_iso(year, b, a))
        if b > 12 >= a:
            return DateMention(_iso(year, a, b))
        if a == b:
            return DateMention(_iso(year, a, b))
        first = date(year, b, a).strftime("%-d %B")
        second = date(year, a, b).strftime("%-d %B")
        return DateMention(question=f"Does {match.group(0)} mean {first} or {second}?")
    if match := _RELATIVE.search(text):
        offset = {"today": 0, "tomorrow": 1, "day after tomorrow": 2}[match["word"].lower()]
        return DateMention((today + timedelta(days=offset)).isoformat())
    if match := _WEEKDAY.search(text):
        target = WEEKDAYS.index(match["weekday"].lower())
        ahead = (target - today.weekday()) % 7 or 7
        return DateMention((today + timedelta(days=ahead)).isoformat())
    return None


def capitalized_run(text: str) -> str | None:
    """The run of capitalised words at the start of `text` ("Sarah Jones: ..." -> "Sarah Jones").

    Words must be separated by single spaces only; lower-case particles (de, van, ...) may
    join two capitalised words. Month and weekday names are never part of a name.
    """
    words: list[str] = []
    position = 0
    while True:
        match = _WORD.match(text, position)
        if match is None:
            break
        word = match.group(0).rstrip(".")
        if word.lower() in _NOT_NAMES:
            break
        if not word[0].isupper() and (word.lower() not in _NAME_PARTICLES or not words):
            break
        words.append(word)
        position = match.end()
        if not text.startswith(" ", position) or text.startswith("  ", position):
            break
        position += 1
    while words and words[-1].lower() in _NAME_PARTICLES:
        words.pop()
    return " ".join(words) or None


def run_after(pattern: re.Pattern[str], text: str) -> str | None:
    """The capitalised run right after the first match of `pattern` that is followed by one."""
    for match in pattern.finditer(text):
        if run := capitalized_run(text[match.end() :]):
            return run
    return None


def find_email(text: str) -> str | None:
    """The first thing that looks like an email address (the tool validates it properly)."""
    match = _EMAIL.search(text)
    return match.group(0).rstrip(".") if match else None


def find_phone(text: str) -> str | None:
    """A phone number introduced by a word like 'phone', or an international +number."""
    if match := _PHONE_AFTER_WORD.search(text):
        return match["phone"].strip()
    match = _PHONE_INTERNATIONAL.search(text)
    return match.group(0).strip() if match else None
