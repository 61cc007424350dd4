"""How the store tells that two spellings are the same person: the keys and the rules."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from agent_core.domain import Contact
from agent_core.store.base import ToolFailure
from agent_core.store.matching import AmbiguousContactError, email_key, name_key, phone_key, resolve_contact

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TENANT = uuid4()


def contact(name: str, email: str | None = None, phone: str | None = None) -> Contact:
    return Contact(uuid4(), TENANT, name, email, phone, NOW, NOW)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("José Núñez", "jose nunez"),
        ("  Zoë\tBrandt ", "ZOE BRANDT"),
        ("Ｊｏｈｎ Smith", "john smith"),  # full-width letters, as some keyboards type them
        ("Straße", "STRASSE"),
    ],
)
def test_names_match_whatever_the_case_accents_and_spacing(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_different_names_stay_different() -> None:
    assert name_key("Ana Silva") != name_key("Ana Silvia")
    assert name_key("Lee Bob") != name_key("Bob Lee")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("+44 20 7946 0958", "0044 (20) 7946-0958"),
        ("+1-555-0100", "+1 555 0100"),
        ("555.0100", "555 0100"),
    ],
)
def test_phone_numbers_match_by_their_digits(a: str, b: str) -> None:
    assert phone_key(a) == phone_key(b)


def test_a_national_number_is_not_taken_for_an_international_one() -> None:
    assert phone_key("020 7946 0958") != phone_key("+44 20 7946 0958")
    assert phone_key("no digits") is None
    assert phone_key(None) is None


def test_emails_match_whatever_the_case_and_surrounding_spaces() -> None:
    assert email_key(" Bob@Example.COM ") == email_key("bob@example.com")
    assert email_key("") is None


def test_new_details_make_a_new_contact() -> None:
    match = resolve_contact([contact("Bob Lee")], TENANT, "Sarah Jones", "s@example.com", None, NOW)
    assert (match.created, match.matched_by, match.contact.name) == (True, None, "Sarah Jones")


def test_found_by_name_the_contact_takes_the_spelling_given_and_keeps_what_was_not_given() -> None:
    bob = contact("bob lee", "bob@example.com", "+1 555 0100")
    match = resolve_contact([bob], TENANT, "Bob Lee", None, "+1 555 0199", NOW)
    assert (match.created, match.matched_by) == (False, "name")
    assert (match.contact.id, match.contact.name, match.contact.email) == (
        bob.id,
        "Bob Lee",
        "bob@example.com",
    )
    assert match.contact.phone == "+1 555 0199"


def test_found_by_email_or_phone_under_part_of_its_name_the_contact_keeps_its_name() -> None:
    bob = contact("Bob Lee", "bob@example.com", "+1 555 0100")
    assert resolve_contact([bob], TENANT, "bob", "BOB@example.com", None, NOW).contact.name == "Bob Lee"
    by_phone = resolve_contact([bob], TENANT, "Lée", None, "001 555 0100", NOW)
    assert (by_phone.matched_by, by_phone.contact.id) == ("phone", bob.id)
    by_initial = resolve_contact([bob], TENANT, "B. Lee", None, "+1 555 0100", NOW)
    assert (by_initial.matched_by, by_initial.contact.name) == ("phone", "Bob Lee")


@pytest.mark.parametrize("name", ["Robert", "Rob Lee", "Ana Silva", "R. Lee"])
def test_an_email_or_phone_on_file_under_another_name_is_refused(name: str) -> None:
    bob = contact("Bob Lee", "bob@example.com", "+1 555 0100")
    with pytest.raises(ToolFailure, match=f"on file for Bob Lee, not {name}: nothing was saved"):
        resolve_contact([bob], TENANT, name, None, "+1 555 0100", NOW)


def test_details_pointing_at_two_contacts_are_refused() -> None:
    bob, sarah = contact("Bob Lee", "bob@example.com"), contact("Sarah Jones", None, "+1 555 0123")
    with pytest.raises(AmbiguousContactError, match=r"\(Bob Lee and Sarah Jones\)"):
        resolve_contact([bob, sarah], TENANT, "Sarah Jones", "bob@example.com", None, NOW)
