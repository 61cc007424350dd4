"""How the store tells that two spellings are the same person, place or booking.

The keys are computed here, in Python, for every backend and stored beside the values
(`contacts.name_key`, `email_key`, `phone_key`): SQL never recomputes them, so SQLite,
PostgreSQL and Supabase match exactly alike, whatever the database's locale or extensions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from agent_core.domain import Contact, Tour
from agent_core.ids import new_id
from agent_core.store.base import ToolFailure

MatchedBy = Literal["name", "email", "phone"]
MATCH_ORDER: tuple[MatchedBy, ...] = ("name", "email", "phone")

_NOT_DIGITS = re.compile(r"[^\d]")


def name_key(name: str) -> str:
    """The key names match by: case, accents and spacing ignored ("José  Núñez" = "jose nunez")."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def email_key(email: str | None) -> str | None:
    """The key emails match by: case and surrounding spaces ignored."""
    return email.strip().casefold() or None if email else None


def phone_key(phone: str | None) -> str | None:
    """The key phone numbers match by: digits only, an international prefix kept as "+"
    ("+44 20 7946 0958" = "0044 (20) 7946-0958"); None without digits."""
    if not phone:
        return None
    digits = _NOT_DIGITS.sub("", phone)
    if not digits:
        return None
    if phone.lstrip().startswith("+"):
        return "+" + digits
    return "+" + digits[2:] if digits.startswith("00") else digits


def same_booking(tour: Tour, customer_name: str, location: str) -> bool:
    """True when a tour on the asked date already is this customer's at this place."""
    return name_key(tour.customer_name) == name_key(customer_name) and name_key(tour.location) == name_key(
        location
    )


def detail_keys(name: str, email: str | None, phone: str | None) -> dict[str, str | None]:
    """The match keys of a person's details, as the contacts table's columns name them."""
    return {"name_key": name_key(name), "email_key": email_key(email), "phone_key": phone_key(phone)}


def already_booked(taken: Tour) -> str:
    """Why a move onto `taken` (the customer's booking there that day) is refused."""
    return f"{taken.customer_name} already has a booking on {taken.tour_date.isoformat()} in {taken.location}"


def merge_details(kept: Contact, dropped: Contact) -> Contact:
    """The contact that stays when two are merged: its own details, the other's where it has none."""
    return replace(kept, email=kept.email or dropped.email, phone=kept.phone or dropped.phone)


def contact_keys(contact: Contact) -> dict[str, str | None]:
    """The stored match keys of a contact."""
    return detail_keys(contact.name, contact.email, contact.phone)


class AmbiguousContactError(ToolFailure):
    """The details given belong to more than one stored contact: nothing is written."""

    def __init__(self, matches: list[Contact]) -> None:
        names = " and ".join(sorted(c.name for c in matches))
        super().__init__(
            f"these details belong to more than one contact ({names}): ask the caller which"
            " person this is; staff can merge the contacts on the Records page"
        )


def _may_be_named(stored: str, given: str) -> bool:
    """True when `given` can be how the person of `stored` names themselves: the same name,
    part of it ("Bob" for "Bob Lee"), or with initials ("Z. Brandt" for "Zoë Brandt").
    Anything else may be another person, whose details a model would overwrite (a phone it
    invented that another contact has)."""
    words = [word.rstrip(".") for word in name_key(given).split()]
    known = name_key(stored).split()

    def found(word: str) -> bool:
        return any(word == k or (len(word) == 1 and k.startswith(word)) for k in known)

    return bool(words) and all(word and found(word) for word in words)


@dataclass(frozen=True, slots=True)
class ContactMatch:
    """The contact a save lands on, whether it is new, and what found the existing one."""

    contact: Contact
    created: bool
    matched_by: MatchedBy | None


def resolve_contact(
    candidates: list[Contact], tenant_id: UUID, name: str, email: str | None, phone: str | None, now: datetime
) -> ContactMatch:
    """The contact saving these details makes: one person is one contact, found by name, or
    else by email or phone; AmbiguousContactError when they point at different contacts.

    A contact found by its email or phone keeps its stored name, and is updated only when the
    name given is that name or part of it: otherwise ToolFailure, and the agent asks (renaming
    is the operator's call). Found by name, it takes the spelling given. Details not given
    keep their stored values.
    """
    wanted = detail_keys(name, email, phone)
    found: dict[MatchedBy, list[Contact]] = {field: [] for field in MATCH_ORDER}
    for candidate in candidates:
        stored = contact_keys(candidate)
        for field in MATCH_ORDER:
            key = wanted[f"{field}_key"]
            if key is not None and stored[f"{field}_key"] == key:
                found[field].append(candidate)
    matches = {c.id: c for hits in found.values() for c in hits}
    if len(matches) > 1:
        raise AmbiguousContactError(list(matches.values()))
    if not matches:
        return ContactMatch(Contact(new_id(), tenant_id, name, email, phone, now, now), True, None)
    (existing,) = matches.values()
    matched_by = next(field for field, hits in found.items() if hits)
    if matched_by != "name" and not _may_be_named(existing.name, name):
        detail = "email" if matched_by == "email" else "phone number"
        raise ToolFailure(
            f"that {detail} is on file for {existing.name}, not {name}: nothing was saved. Ask the"
            f" caller whether they are {existing.name}, or for their own {detail}"
        )
    updated = replace(
        existing,
        name=name if matched_by == "name" else existing.name,
        email=email or existing.email,
        phone=phone or existing.phone,
        updated_at=now,
    )
    return ContactMatch(updated, False, matched_by)
