"""Each business's settings: validated, audited, and obeyed by its agent on every backend —
its own "today" (and the days its Analytics count in), only the tools it enabled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from agent_core.access.models import AuditAction, AuditQuery, Principal, PrincipalKind, UserRole
from agent_core.clock import FixedClock, utcnow
from agent_core.domain import Tenant, TourStatus
from agent_core.errors import ForbiddenError, InvalidInputError
from agent_core.store.base import Store
from agent_core.tenant_settings import DEFAULT_SETTINGS, settings_from
from agent_core.workspace import Workspace
from dashboard.views import records_frame
from tests.conftest import make_workspace, whole_turn

# 10:00 UTC on 24 November is already 25 November in Kiritimati (UTC+14).
LATE_EVENING = FixedClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))


def test_settings_are_saved_validated_and_audited(store: Store, tenant: Tenant) -> None:
    admin = make_workspace(store)
    saved = admin.update_tenant_settings(
        tenant.id, timezone="Europe/Lisbon", booking_noun="appointment", booking_noun_plural="appointments"
    )
    settings = settings_from(saved.settings)
    assert (settings.timezone, settings.booking_noun, settings.date_order) == (
        "Europe/Lisbon",
        "appointment",
        "day_first",
    )
    reread = store.get_tenant(tenant.id)
    assert reread is not None
    assert settings_from(reread.settings) == settings
    (entry,) = store.list_audit(
        AuditQuery(frozenset({tenant.id}), actions=(AuditAction.TENANT_SETTINGS_CHANGED.value,))
    )
    assert (entry.before or {})["timezone"] is None
    assert (entry.after or {})["booking_noun"] == "appointment"
    for bad, problem in (
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"enabled_tools": ["launch_rocket"]}, "unknown tools"),
        ({"date_order": "year_first"}, "date_order"),
        ({"booking_noun": ""}, "booking_noun"),
        ({"colour": "red"}, "Extra inputs"),
    ):
        with pytest.raises(InvalidInputError, match=problem):
            admin.update_tenant_settings(tenant.id, **bad)
    assert settings_from(store.get_tenant(tenant.id).settings) == settings  # type: ignore[union-attr]


def test_only_admins_change_settings(store: Store, tenant: Tenant) -> None:
    operator = Principal(
        PrincipalKind.USER, "ana@example.com", UserRole.OPERATOR, frozenset({tenant.id}), uuid4()
    )
    with pytest.raises(ForbiddenError):
        make_workspace(store, operator).update_tenant_settings(tenant.id, timezone="Europe/Paris")
    assert settings_from((store.get_tenant(tenant.id) or tenant).settings) == DEFAULT_SETTINGS


def booked_after_confirming(workspace: Workspace, tenant_id: UUID, message: str) -> str:
    """The date the agent books after confirming a date it had to work out."""
    asked = whole_turn(workspace, tenant_id, message)
    assert asked.reply.startswith("Just to confirm:")
    assert asked.tool_calls == ()
    booked = whole_turn(workspace, tenant_id, "yes", asked.conversation_id)
    return str((booked.tool_calls[0].result or {})["date"])


def test_tomorrow_is_the_businesss_tomorrow(store: Store, tenant: Tenant, other_tenant: Tenant) -> None:
    make_workspace(store).update_tenant_settings(tenant.id, timezone="Pacific/Kiritimati")
    workspace = make_workspace(store, clock=LATE_EVENING)
    message = "Book a tour for John Smith tomorrow in Paris"
    assert booked_after_confirming(workspace, tenant.id, message) == "2026-11-26"
    assert booked_after_confirming(workspace, other_tenant.id, message) == "2026-11-25"


def test_analytics_count_a_turn_on_the_businesss_day(store: Store, tenant: Tenant) -> None:
    make_workspace(store).update_tenant_settings(tenant.id, timezone="Pacific/Kiritimati")
    workspace = make_workspace(store, clock=LATE_EVENING)
    whole_turn(workspace, tenant.id, "Take a note: call Ana back")
    # The store stamps the turn with the wall clock; its day is that instant's in Kiritimati.
    there = utcnow().astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    assert workspace.analytics_today(tenant.id) == there
    assert workspace.analytics_today(None) == utcnow().date()  # the default zone: UTC here
    around = workspace.analytics(tenant.id, there - timedelta(days=1), there + timedelta(days=1))
    assert [(d.day, d.turns) for d in around.days] == [(there, 1)]
    assert [(t.name, t.calls) for t in around.tools] == [("take_note", 1)]


def test_numeric_dates_are_read_in_the_businesss_order(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    make_workspace(store).update_tenant_settings(tenant.id, date_order="month_first")
    workspace = make_workspace(store)
    message = "Book a tour for John Smith on 03/04/2027 in Paris"
    assert booked_after_confirming(workspace, tenant.id, message) == "2027-03-04"
    assert booked_after_confirming(workspace, other_tenant.id, message) == "2027-04-03"


def test_a_tool_the_business_did_not_enable_is_neither_offered_nor_run(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    workspace = make_workspace(store, clock=clock)
    whole_turn(workspace, tenant.id, "Book a tour for Eve Adams on 2027-05-01 in Oslo")
    workspace.update_tenant_settings(tenant.id, enabled_tools=["book_tour", "find_tours", "take_note"])
    asked = whole_turn(workspace, tenant.id, "Can you cancel the booking for Eve Adams?")
    assert asked.tool_calls == ()
    assert [t.status for t in store.list_tours(tenant.id).rows] == [TourStatus.BOOKED]


def test_an_operators_move_is_checked_against_the_businesss_today(store: Store, tenant: Tenant) -> None:
    workspace = make_workspace(store, clock=LATE_EVENING)
    booked = whole_turn(workspace, tenant.id, "Book a tour for Kai Berg on 2027-01-10 in Bergen")
    booking = UUID(str((booked.tool_calls[0].result or {})["booking_id"]))
    workspace.update_tenant_settings(tenant.id, timezone="Pacific/Kiritimati")
    # 24 November is still today in UTC, but already yesterday where this business is.
    with pytest.raises(InvalidInputError, match="2026-11-24 is in the past"):
        workspace.corrections.reschedule_tour(tenant.id, booking, "2026-11-24")
    assert (
        workspace.corrections.reschedule_tour(tenant.id, booking, "2026-11-25").tour_date.isoformat()
        == "2026-11-25"
    )


def test_phone_numbers_are_read_in_the_businesss_country_stored_in_e164_and_shown_nationally(
    store: Store, tenant: Tenant, other_tenant: Tenant, clock: FixedClock
) -> None:
    make_workspace(store).update_tenant_settings(tenant.id, phone_region="GB")
    workspace = make_workspace(store, clock=clock)
    for each in (tenant, other_tenant):
        whole_turn(workspace, each.id, "my name is Kofi Mensah and my number is 020 7946 0018")
    (ours,) = store.list_contacts(tenant.id).rows
    (theirs,) = store.list_contacts(other_tenant.id).rows
    assert ours.phone == "+442079460018"
    assert theirs.phone == "020 7946 0018"  # no country set: kept as given
    # The same number written another way is the same person, not a second contact.
    whole_turn(workspace, tenant.id, "Kofi Mensah's email is kofi@example.com, phone +44 20 7946 0018")
    (same,) = store.list_contacts(tenant.id).rows
    assert (same.id, same.email, same.phone) == (ours.id, "kofi@example.com", "+442079460018")
    shown = records_frame([same], UTC, settings_from(store.get_tenant(tenant.id).settings).phone_region)  # type: ignore[union-attr]
    assert shown.loc[0, "Phone"] == "020 7946 0018"


def test_an_unknown_country_is_refused_naming_the_setting(store: Store, tenant: Tenant) -> None:
    with pytest.raises(InvalidInputError, match=r"phone_region: .*unknown country 'XX'"):
        make_workspace(store).update_tenant_settings(tenant.id, phone_region="XX")
    assert settings_from(store.get_tenant(tenant.id).settings).phone_region is None  # type: ignore[union-attr]
