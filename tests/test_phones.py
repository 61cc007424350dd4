"""Phone numbers kept in E.164 when they are valid, read in the business's country when they
have no country code, shown in its national format; anything else kept as the caller gave it."""

from __future__ import annotations

import pytest

from agent_core.phones import shown_phone, stored_phone


@pytest.mark.parametrize(
    ("given", "region", "stored"),
    [
        ("+44 20 7946 0958", None, "+442079460958"),
        ("+44 (0)20 7946 0958", "FR", "+442079460958"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("(415) 555-0100", "US", "+14155550100"),
        # Without the business's country a national number cannot be placed: kept as given.
        ("020 7946 0018", None, "020 7946 0018"),
        # Not a valid number anywhere (a fictional 555 number): kept as given, never rewritten.
        ("+1-555-0123", "US", "+1-555-0123"),
        # A number of another country read as the business's would be wrong: kept as given.
        ("06 12 34 56 78", "GB", "06 12 34 56 78"),
    ],
)
def test_a_number_is_stored_in_e164_only_when_it_is_valid(
    given: str, region: str | None, stored: str
) -> None:
    assert stored_phone(given, region) == stored


@pytest.mark.parametrize(
    ("stored", "region", "shown"),
    [
        ("+442079460018", "GB", "020 7946 0018"),
        ("+442079460018", "FR", "+44 20 7946 0018"),
        ("+442079460018", None, "+44 20 7946 0018"),
        ("+1-555-0123", "US", "+1-555-0123"),
        ("020 7946 0018", "GB", "020 7946 0018"),
    ],
)
def test_a_number_is_shown_in_the_businesss_national_format_when_it_is_one_of_its_own(
    stored: str, region: str | None, shown: str
) -> None:
    assert shown_phone(stored, region) == shown
