"""Phone numbers as a business keeps and shows them, by Google's libphonenumber (`phonenumbers`):
numbering plans of every country, which no pattern of ours would keep up with.

A number is stored in E.164 ("+442079460958") when it is a valid number — given with its
country code, or read as a number of the business's own country (`phone_region` in its
settings) — and exactly as given otherwise: a number the library cannot place is still the
caller's, and a fictional test number stays readable. It is shown in the business's national
format when it is one of its own country's numbers, in international format when not.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

REGIONS: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)
"""The countries numbers are read for (ISO 3166-1 alpha-2, e.g. GB)."""


def _valid(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """The number `text` is, read for `region` when it has no country code; None when it is
    not a valid number."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def stored_phone(raw: str, region: str | None) -> str:
    """The number as the store keeps it: E.164 when valid, `raw` otherwise."""
    number = _valid(raw, region)
    return raw if number is None else phonenumbers.format_number(number, PhoneNumberFormat.E164)


def shown_phone(stored: str, region: str | None) -> str:
    """A stored number as the business reads it: national format for its own country's
    numbers, international for others, as stored when it is not an E.164 number."""
    number = _valid(stored, None) if stored.startswith("+") else None
    if number is None:
        return stored
    own = region is not None and phonenumbers.region_code_for_number(number) == region
    return phonenumbers.format_number(
        number, PhoneNumberFormat.NATIONAL if own else PhoneNumberFormat.INTERNATIONAL
    )
