"""The demo tenants every fresh store starts with (schema.sql inserts the same rows)."""

from __future__ import annotations

from typing import TypedDict
from uuid import UUID, uuid5

from agent_core.domain import JsonDict

DEMO_TENANT_ID = UUID("00000000-0000-0000-0000-000000000001")
SECOND_DEMO_TENANT_ID = UUID("00000000-0000-0000-0000-000000000002")

DEMO_TENANTS: tuple[tuple[UUID, str, str], ...] = (
    (
        DEMO_TENANT_ID,
        "Demo Tours",
        "You are Ava, the booking assistant of Demo Tours, a walking-tour company."
        " Help callers book tours, take notes about their preferences and keep their"
        " contact details up to date. Be brief and friendly.",
    ),
    (
        SECOND_DEMO_TENANT_ID,
        "Harbour Clinic",
        "You are Sam, the front-desk assistant of Harbour Clinic."
        " Book visits, note patient preferences and keep contact details current."
        " Be calm and precise.",
    ),
)


# The demo tenants' settings beyond the defaults (migration 0016 gives an existing clinic the
# same): a clinic books appointments, and its chat suggests one.
DEMO_SETTINGS: dict[UUID, JsonDict] = {
    SECOND_DEMO_TENANT_ID: {
        "booking_noun": "appointment",
        "booking_noun_plural": "appointments",
        "example": "Book an appointment for Ana Silva on 2027-03-15 in Porto.",
    }
}


# The scenarios the demo tenants ship with: the seed service's four curl examples, plus a
# date the caller says in words, which the agent confirms before booking. Stored as
# scenario specs (see agent_core.scenarios.spec); schema.sql inserts the same rows.
def _seed_scenarios(business: str) -> tuple[tuple[str, JsonDict], ...]:
    return (
        (
            "Greets without using a tool",
            {
                "description": (
                    "The seed's first curl example: a greeting names the business and writes nothing."
                ),
                "steps": [
                    {
                        "say": "Hello, what can you help me with?",
                        "expect": {"no_tools": True, "reply_contains": [business, "book"]},
                    }
                ],
            },
        ),
        (
            "Books a tour from one complete message",
            {
                "description": (
                    "The seed's book_tour example, with a date a month ahead so it never lies in the past."
                ),
                "steps": [
                    {
                        "say": "I want to book a tour for John Smith on {today+30} in Paris.",
                        "expect": {
                            "tools": [
                                {
                                    "name": "book_tour",
                                    "arguments": {
                                        "name": {"equals": "John Smith"},
                                        "date": {"days_from_today": 30},
                                        "location": {"equals": "Paris"},
                                    },
                                }
                            ],
                            "reply_contains": ["booked"],
                        },
                    }
                ],
            },
        ),
        (
            "Takes a note about the caller",
            {
                "description": "The seed's take_note example.",
                "steps": [
                    {
                        "say": "Please note that the client prefers morning tours and vegetarian meals.",
                        "expect": {
                            "tools": [
                                {
                                    "name": "take_note",
                                    "arguments": {
                                        "content": {"contains": "morning tours and vegetarian meals"}
                                    },
                                }
                            ],
                            "not_tools": ["book_tour"],
                        },
                    }
                ],
            },
        ),
        (
            "Updates a contact's email and phone",
            {
                "description": "The seed's update_contact_info example.",
                "steps": [
                    {
                        "say": (
                            "Update contact info for Sarah Jones: email is sarah@example.com,"
                            " phone is +1-555-0123."
                        ),
                        "expect": {
                            "tools": [
                                {
                                    "name": "update_contact_info",
                                    "arguments": {
                                        "name": {"equals": "Sarah Jones"},
                                        "email": {"equals": "sarah@example.com"},
                                        "phone": {"contains": "555"},
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        ),
        (
            "Confirms a date said in words before booking",
            {
                "description": (
                    "Ask rather than guess: 'tomorrow' is confirmed, then booked for the right day."
                ),
                "steps": [
                    {
                        "say": "Book a tour for Maria Lopez tomorrow in Lisbon.",
                        "expect": {"no_tools": True, "reply_contains": ["confirm"]},
                    },
                    {
                        "say": "Yes, that's right.",
                        "expect": {
                            "tools": [
                                {
                                    "name": "book_tour",
                                    "arguments": {
                                        "name": {"equals": "Maria Lopez"},
                                        "date": {"days_from_today": 1},
                                    },
                                }
                            ]
                        },
                    },
                ],
            },
        ),
    )


class ScenarioRow(TypedDict):
    """A demo scenario as a row of the scenarios table."""

    id: UUID
    tenant_id: UUID
    name: str
    spec: JsonDict


def demo_scenario_rows() -> list[ScenarioRow]:
    """The demo tenants' scenarios as rows: ids derive from tenant and name, so every store
    (and schema.sql) holds the same rows."""
    return [
        {"id": uuid5(tenant_id, name), "tenant_id": tenant_id, "name": name, "spec": spec}
        for tenant_id, business, _ in DEMO_TENANTS
        for name, spec in _seed_scenarios(business)
    ]
