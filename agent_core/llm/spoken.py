"""What a caller said, in the written form the demo model's rules read.

Speech-to-text writes what it hears: numbers and dates in words ("the twelfth of may twenty
twenty seven"), emails spelled out ("anna dot kowalski at gmail dot com"), phone numbers read
digit by digit ("oh seven seven double nine…"), and a message typed in capitals reads the same
as one in lower case. Numbers in words are `text2num`'s (it knows compounds and ordinals and
leaves "one" and "first" alone where they are not numbers); the rest is small patterns of ours.
"""

from __future__ import annotations

import re

from text_to_num import alpha2digit

from agent_core.llm.demo_parsing import MONTHS

_MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
# text2num leaves "first" and "second" as words (they are rarely numbers); next to a month they are.
_SMALL_ORDINALS = {"first": "1st", "second": "2nd"}
_ORDINAL_BEFORE_MONTH = re.compile(rf"\b(first|second)(\s+(?:of\s+)?{_MONTH}\b)", re.IGNORECASE)
_ORDINAL_AFTER_MONTH = re.compile(rf"\b({_MONTH}\s+(?:the\s+)?)(first|second)\b", re.IGNORECASE)
# "twenty twenty seven" comes out of text2num as "20 27".
_SPLIT_YEAR = re.compile(r"\b(19|20) ([0-9]{2})\b")
_DIGIT_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|zero|nought|oh|o|\d)"
_DIGIT_TOKEN = rf"(?:(?:double|triple)\s+)?{_DIGIT_WORD}"
# Six digits or more read one by one: a phone number, not "one or two". Read before text2num,
# which would join some of them into numbers ("zero one" -> "01", "twenty two").
_SPOKEN_DIGITS = re.compile(rf"(?<![\w+]){_DIGIT_TOKEN}(?:[\s,-]+{_DIGIT_TOKEN}){{5,}}(?!\w)", re.IGNORECASE)
_DIGIT_VALUES = {
    "oh": "0",
    "o": "0",
    "zero": "0",
    "nought": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
# Texting shorthand: "book tour 4 tom cruz" is "for".
_FOUR_FOR = re.compile(r"\b(tours?|booking|book|reservation|spot|place)\s+4\s+(?=[^\W\d_])", re.IGNORECASE)
_EMAIL_PART = r"[a-z0-9][a-z0-9_-]*"
_SPELLED_EMAIL = re.compile(
    rf"\b({_EMAIL_PART}(?:\s+(?:dot|underscore|dash|hyphen)\s+{_EMAIL_PART})*)\s+at\s+"
    rf"({_EMAIL_PART}(?:\s+dot\s+{_EMAIL_PART})+)\b",
    re.IGNORECASE,
)
_SPELLED_SEPARATORS = {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-"}


def written_form(text: str) -> str:
    """`text` with spoken numbers, dates, emails and phone numbers written as a form would
    hold them; a message typed in capitals, in lower case."""
    if any(c.isalpha() for c in text) and text == text.upper():
        text = text.lower()
    text = _SPELLED_EMAIL.sub(_email, text)
    text = _SPOKEN_DIGITS.sub(_digits, text)
    text = _FOUR_FOR.sub(r"\1 for ", text)
    text = alpha2digit(text, "en")
    text = _ORDINAL_BEFORE_MONTH.sub(lambda m: _SMALL_ORDINALS[m[1].lower()] + m[2], text)
    text = _ORDINAL_AFTER_MONTH.sub(lambda m: m[1] + _SMALL_ORDINALS[m[2].lower()], text)
    return _SPLIT_YEAR.sub(r"\1\2", text)


def _email(match: re.Match[str]) -> str:
    def joined(spoken: str) -> str:
        words = spoken.split()
        return "".join(_SPELLED_SEPARATORS.get(w.lower(), w) for w in words).lower()

    return f"{joined(match[1])}@{joined(match[2])}"


def _digits(match: re.Match[str]) -> str:
    digits: list[str] = []
    repeat = 1
    for token in re.findall(rf"\b(?:double|triple|{_DIGIT_WORD})\b|\d", match[0].lower()):
        if token in ("double", "triple"):
            repeat = 2 if token == "double" else 3
        else:
            digits.append(_DIGIT_VALUES.get(token, token) * repeat)
            repeat = 1
    return "".join(digits)
