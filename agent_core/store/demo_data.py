"""The demo tenants every fresh store starts with (schema.sql inserts the same rows)."""

from __future__ import annotations

from uuid import UUID

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
