"""Correcting bookings over HTTP: cancel and move with the API's error shape, retried safely
with an Idempotency-Key, and never across tenants."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx

from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from tests.conftest import TEST_ADMIN
from tests.http.conftest import RunningApi

DEMO, CLINIC = str(DEMO_TENANT_ID), str(SECOND_DEMO_TENANT_ID)


def book(api: RunningApi, tenant: str = DEMO) -> str:
    answer = api.client.post(
        "/api/chat", json={"tenantId": tenant, "message": "Book a tour for Ana Silva on 2027-01-10 in Porto"}
    ).json()
    return str(answer["toolCalls"][0]["result"]["booking_id"])


def post(api: RunningApi, path: str, body: object | None = None, **headers: str) -> httpx.Response:
    if body is None:
        return api.client.post(path, headers=headers)
    return api.client.post(path, json=body, headers=headers)


def test_a_booking_is_moved_then_cancelled_and_a_second_cancel_is_refused(api: RunningApi) -> None:
    booking = book(api)
    moved = post(
        api,
        f"/api/tenants/{DEMO}/tours/{booking}/reschedule",
        {"newDate": "2027-01-17", "newLocation": "Lisbon"},
    )
    assert moved.status_code == 200
    assert {k: moved.json()[k] for k in ("tourDate", "location", "status")} == {
        "tourDate": "2027-01-17",
        "location": "Lisbon",
        "status": "booked",
    }
    cancelled = post(api, f"/api/tenants/{DEMO}/tours/{booking}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    again = post(api, f"/api/tenants/{DEMO}/tours/{booking}/cancel")
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "already_cancelled",
        "message": "this booking is cancelled already",
        "details": [],
    }
    listed = api.client.get(f"/api/tenants/{DEMO}/tours").json()["data"]
    assert [(t["tourDate"], t["status"]) for t in listed] == [("2027-01-17", "cancelled")]


def test_a_retried_cancel_with_its_key_gets_the_first_answer(api: RunningApi) -> None:
    booking = book(api)
    path = f"/api/tenants/{DEMO}/tours/{booking}/cancel"
    first = post(api, path, **{"Idempotency-Key": "cancel-ana-1"})
    repeat = post(api, path, **{"Idempotency-Key": "cancel-ana-1"})
    assert (first.status_code, repeat.status_code) == (200, 200)
    assert repeat.json() == first.json()
    assert repeat.headers["idempotent-replayed"] == "true"
    other = post(api, f"/api/tenants/{DEMO}/tours/{uuid4()}/cancel", **{"Idempotency-Key": "cancel-ana-1"})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_bad_moves_get_the_reason_and_change_nothing(api: RunningApi) -> None:
    booking = book(api)
    path = f"/api/tenants/{DEMO}/tours/{booking}/reschedule"
    past = post(api, path, {"newDate": "2025-01-01"})
    assert past.status_code == 422
    assert "is in the past" in past.json()["error"]["message"]
    assert post(api, path, {"date": "2027-02-01"}).status_code == 422
    assert post(api, path, ["2027-02-01"]).status_code == 422
    assert (
        post(api, f"/api/tenants/{DEMO}/tours/not-a-uuid/reschedule", {"newDate": "2027-02-01"}).status_code
        == 404
    )
    assert post(api, f"/api/tenants/{DEMO}/tours/{uuid4()}/cancel").status_code == 404
    (tour,) = api.client.get(f"/api/tenants/{DEMO}/tours").json()["data"]
    assert (tour["tourDate"], tour["status"]) == ("2027-01-10", "booked")


def test_a_booking_of_another_tenant_is_out_of_reach(api: RunningApi) -> None:
    clinic_booking = book(api, CLINIC)
    admin = api.runtime.acting_as(TEST_ADMIN)
    _, demo_key = admin.accounts.create_api_key("demo only", DEMO_TENANT_ID)
    auth = {"Authorization": f"Bearer {demo_key}"}
    # Through the demo tenant's path: not its booking.
    assert post(api, f"/api/tenants/{DEMO}/tours/{clinic_booking}/cancel", **auth).status_code == 404
    # Through the clinic's path: not its key.
    assert post(api, f"/api/tenants/{CLINIC}/tours/{clinic_booking}/cancel", **auth).status_code == 403
    tour = api.runtime.store.get_tour(SECOND_DEMO_TENANT_ID, UUID(clinic_booking))
    assert tour is not None
    assert tour.status.value == "booked"


def test_a_contact_is_corrected_field_by_field(api: RunningApi) -> None:
    wrong = api.client.post(
        "/api/chat",
        json={
            "tenantId": DEMO,
            "message": "Update contact info for Change Bob Lee: phone is +44 20 7946 0958",
        },
    ).json()
    contact = wrong["toolCalls"][0]["result"]["contact_id"]
    path = f"/api/tenants/{DEMO}/contacts/{contact}"
    fixed = api.client.patch(path, json={"name": "Bob Lee", "email": "bob@example.com"})
    assert fixed.status_code == 200
    assert {k: fixed.json()[k] for k in ("name", "email", "phone")} == {
        "name": "Bob Lee",
        "email": "bob@example.com",
        "phone": "+442079460958",
    }
    cleared = api.client.patch(path, json={"phone": None})
    assert cleared.json()["phone"] is None
    bad = api.client.patch(path, json={"email": "not-an-email"})
    assert bad.status_code == 422
    assert "email" in bad.json()["error"]["message"]
    assert api.client.patch(path, json={"nickname": "Bobby"}).status_code == 422
    assert (
        api.client.patch(f"/api/tenants/{DEMO}/contacts/{uuid4()}", json={"name": "X Y"}).status_code == 404
    )
    assert (
        api.client.patch(f"/api/tenants/{CLINIC}/contacts/{contact}", json={"name": "Bob Lee"}).status_code
        == 404
    )


def test_settings_are_read_by_a_tenants_key_and_replaced_by_an_admin(api: RunningApi) -> None:
    path = f"/api/tenants/{CLINIC}/settings"
    assert api.client.get(path).json() == {  # the demo clinic's own words (migration 0016)
        "timezone": None,
        "dateOrder": "day_first",
        "enabledTools": None,
        "bookingNoun": "appointment",
        "bookingNounPlural": "appointments",
        "example": "Book an appointment for Ana Silva on 2027-03-15 in Porto.",
        "phoneRegion": None,
        "voice": None,
        "speechSpeed": 1.0,
        "language": None,
        "recordingDays": 30,
    }
    saved = api.client.put(
        path,
        json={"bookingNoun": "appointment", "bookingNounPlural": "appointments", "timezone": "Europe/Lisbon"},
    )
    assert saved.status_code == 200
    assert (saved.json()["bookingNoun"], saved.json()["timezone"]) == ("appointment", "Europe/Lisbon")
    bad = api.client.put(path, json={"timezone": "Mars/Olympus"})
    assert bad.status_code == 422
    assert "unknown time zone" in bad.json()["error"]["message"]
    assert api.client.put(path, json={"colour": "red"}).status_code == 422
    for days in (-1, 3651, 1.5, True):
        assert api.client.put(path, json={"recordingDays": days}).status_code == 422, days
    _, clinic_key = api.runtime.acting_as(TEST_ADMIN).accounts.create_api_key("clinic", SECOND_DEMO_TENANT_ID)
    auth = {"Authorization": f"Bearer {clinic_key}"}
    assert api.client.get(path, headers=auth).json()["bookingNoun"] == "appointment"
    refused = api.client.put(path, json={"bookingNoun": "visit"}, headers=auth)
    assert refused.status_code == 403
    assert api.client.get(path, headers=auth).json()["bookingNoun"] == "appointment"
