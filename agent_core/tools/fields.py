"""Argument field types shared by the tools, each with the validation a human would expect."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo

from agent_core.errors import check_storable_text
from agent_core.phones import stored_phone

MAX_BOOKING_DAYS_AHEAD = 3 * 366
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
"""Unicode's control characters (category Cc) but the line break: one search, not a scan."""


def _tidy_text(value: str) -> str:
    check_storable_text(value)
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return " ".join(value.split())


def _has_letter(value: str) -> str:
    value = _tidy_text(value)
    if not any(ch.isalpha() for ch in value):
        raise ValueError("must contain letters")
    return value


def _person_name(value: str) -> str:
    value = _has_letter(value)
    if any(ch.isdigit() for ch in value) or "@" in value:
        raise ValueError("must be a person's name, without digits or email addresses")
    return value


def validation_context(today: date, phone_region: str | None = None) -> dict[str, object]:
    """What the fields below read while they validate: today's date (a bookable day) and the
    business's country (a phone number without its country code). Tools and operator
    corrections validate with it alike."""
    return {"today": today, "phone_region": phone_region}


def _phone(value: str, info: ValidationInfo) -> str:
    value = " ".join(value.split())
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE_CHARS.match(value) or not 7 <= digits <= 15:
        raise ValueError(
            "must be a phone number of 7 to 15 digits, optionally starting with + and"
            " using spaces, dashes, dots or parentheses"
        )
    region = (info.context or {}).get("phone_region")
    return stored_phone(value, region if isinstance(region, str) else None)


def _bookable(value: date, info: ValidationInfo) -> date:
    today = (info.context or {}).get("today")
    if not isinstance(today, date):
        raise ValueError("cannot check the date: today's date is unknown")
    if value < today:
        raise ValueError(f"{value.isoformat()} is in the past (today is {today.isoformat()})")
    if value > today + timedelta(days=MAX_BOOKING_DAYS_AHEAD):
        raise ValueError(f"{value.isoformat()} is more than three years ahead")
    return value


PersonName = Annotated[
    str,
    Field(min_length=1, max_length=100, description="Full name of the person"),
    AfterValidator(_person_name),
]
PlaceName = Annotated[
    str,
    Field(min_length=1, max_length=100, description="City or meeting place"),
    AfterValidator(_has_letter),
]
NoteText = Annotated[
    str,
    Field(min_length=1, max_length=2000, description="The note, in plain words"),
    AfterValidator(_has_letter),
]
PhoneNumber = Annotated[
    str,
    Field(
        max_length=32,
        description=(
            "Phone number exactly as the caller gave it; never make one up (stored in E.164 when"
            " it is a valid number)"
        ),
    ),
    AfterValidator(_phone),
]
BookableDate = Annotated[
    date,
    Field(strict=True, description="Tour date as YYYY-MM-DD; today or later"),
    AfterValidator(_bookable),
]
