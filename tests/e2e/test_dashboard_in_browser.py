"""The dashboard end to end: `python server.py` (dashboard and API in one process, as
`make run` starts it) on a free port, driven in Chromium by Playwright.

Screenshots of every page are saved under artifacts/screenshots/ (CI keeps them).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from agent_core.store.demo_data import DEMO_TENANT_ID
from tests.e2e.conftest import choose, running_dashboard, send_message, shoot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app, started as a user would, on a fresh database (local mode: no user)."""
    with running_dashboard(tmp_path_factory.mktemp("e2e") / "dashboard.sqlite3") as url:
        yield url


def send(page: Page, message: str) -> None:
    send_message(page, page.get_by_placeholder("assistant", exact=False), message)


def test_book_a_tour_see_the_tool_call_and_find_it_in_records(page: Page, dashboard_url: str) -> None:
    page.goto(dashboard_url)
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    send(page, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    expect(page.get_by_text("book_tour succeeded")).to_be_visible(timeout=30_000)
    expect(
        page.get_by_text("I've booked a tour for John Smith on Monday 15 March 2027 in Paris")
    ).to_be_visible()
    expect(page.get_by_text("tour.booked").first).to_be_visible(timeout=10_000)
    send(page, "Please note that the client prefers morning tours and vegetarian meals.")
    expect(page.get_by_text("take_note succeeded")).to_be_visible(timeout=30_000)
    send(page, "Update contact info for Sarah Jones: email is sarah@example.com, phone is +1-555-0123.")
    expect(page.get_by_text("update_contact_info succeeded")).to_be_visible(timeout=30_000)
    shoot(page, "chat")

    with urllib.request.urlopen(f"{dashboard_url}/api/tenants/{DEMO_TENANT_ID}/tours") as response:
        served = json.load(response)
    assert [t["customerName"] for t in served["data"]] == ["John Smith"]

    page.get_by_role("link", name="Records").click()
    expect(page.get_by_role("heading", name="Records · Demo Tours")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("1 tour · showing 1–1")).to_be_visible()
    expect(page.locator("td[role=gridcell]", has_text="John Smith")).to_have_count(1)
    shoot(page, "records")

    page.get_by_role("link", name="Prompts").click()
    expect(page.get_by_role("heading", name="Prompt · Demo Tours")).to_be_visible(timeout=30_000)
    shoot(page, "prompts")

    page.get_by_role("link", name="Events").click()
    expect(page.get_by_role("heading", name="Events · Demo Tours")).to_be_visible(timeout=30_000)
    shoot(page, "events")


def test_a_new_tenant_starts_empty_and_the_link_remembers_it(page: Page, dashboard_url: str) -> None:
    page.goto(dashboard_url)
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    page.get_by_text("Add a tenant").click()
    page.get_by_label("Business name").fill("Alpine Walks")
    page.get_by_role("button", name="Add tenant").click()
    expect(page.get_by_role("heading", name="Chat · Alpine Walks")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Start a conversation")).to_be_visible()
    assert "tenant=" in page.url
    link = page.url
    page.get_by_role("link", name="Records").click()
    expect(page.get_by_text("No tours yet")).to_be_visible(timeout=30_000)
    fresh = page.context.new_page()
    fresh.goto(link)
    expect(fresh.get_by_role("heading", name="Chat · Alpine Walks")).to_be_visible(timeout=30_000)


def test_an_operator_cancels_a_booking_from_the_records_page_and_the_audit_shows_it(
    page: Page, dashboard_url: str
) -> None:
    page.goto(f"{dashboard_url}/?tenant={DEMO_TENANT_ID}")
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    send(page, "Book a tour for Maria Garcia on 2027-06-01 in Rome")
    expect(page.get_by_text("book_tour succeeded")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Records").click()
    expect(page.get_by_role("heading", name="Records · Demo Tours")).to_be_visible(timeout=30_000)
    page.get_by_text("Correct a tour").click()
    choose(
        page.get_by_role("combobox", name="Booking"),
        page.get_by_role("option", name="Maria Garcia", exact=False),
    )
    page.get_by_text("Cancel", exact=True).click()
    page.get_by_text("Yes, cancel this booking; Maria Garcia will be told").click()
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_text("Maria Garcia's booking: Cancelled.")).to_be_visible(timeout=30_000)
    shoot(page, "records-correction")
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible(timeout=30_000)
    # The list is longer than its drop-down shows: typing narrows it.
    choose(page.get_by_label("Actions"), page.get_by_role("option", name="tour.cancelled"), "tour.cancelled")
    page.keyboard.press("Escape")
    expect(page.get_by_text("1 entry (newest first", exact=False)).to_be_visible(timeout=10_000)
    shoot(page, "audit-correction")


def save_draft(page: Page, prompt: str) -> None:
    page.locator("textarea[aria-label='Draft prompt']").fill(prompt)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible(timeout=30_000)


def publish(page: Page) -> None:
    label = "Publish to every conversation once the scenarios pass"
    expect(page.get_by_text(label)).to_be_visible(timeout=30_000)
    page.get_by_text(label).click()
    expect(page.get_by_role("checkbox", name=label)).to_be_checked()
    button = page.get_by_role("button", name="Publish draft")
    expect(button).to_be_enabled(timeout=30_000)
    button.click()


def test_a_draft_is_tried_in_the_sandbox_blocked_by_its_scenarios_then_fixed_and_published(
    page: Page, dashboard_url: str
) -> None:
    page.goto(f"{dashboard_url}/?tenant={DEMO_TENANT_ID}")
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Prompts").click()
    expect(page.get_by_role("heading", name="Prompt · Demo Tours")).to_be_visible(timeout=30_000)
    save_draft(page, "You are Max, the concierge of Acme.")

    page.get_by_role("tab", name="Try it (sandbox)").click()
    expect(page.get_by_text("Send a message to compare the answers.").first).to_be_visible(timeout=30_000)
    page.wait_for_load_state("networkidle")
    send_message(page, page.get_by_placeholder("Message both versions"), "Hello")
    expect(page.get_by_text("Hello! I'm Max, the concierge of Acme.", exact=False)).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("I'm Ava, the booking assistant of Demo Tours", exact=False)).to_be_visible()
    shoot(page, "prompt-sandbox")

    page.get_by_role("tab", name="Draft and publish").click()
    publish(page)
    expect(page.get_by_text("Not published: 4 of 5 scenarios passed against the draft")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("reply contains 'Demo Tours'", exact=False).first).to_be_visible()
    shoot(page, "prompt-gate-blocked")

    save_draft(page, "You are Max, the concierge of Demo Tours.")
    publish(page)
    expect(page.get_by_text("Version 2 is live: 5 of 5 scenarios passed")).to_be_visible(timeout=30_000)

    page.get_by_role("link", name="Scenarios").click()
    expect(page.get_by_role("heading", name="Scenarios · Demo Tours")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Run scenarios").click()
    expect(page.get_by_text("5 of 5 scenarios passed · live (version 2)", exact=False)).to_be_visible(
        timeout=30_000
    )
    shoot(page, "scenarios")


def test_records_stays_on_its_tab_after_a_correction_and_a_tenant_switch_leaves_no_warning(
    page: Page, dashboard_url: str
) -> None:
    page.goto(f"{dashboard_url}/?tenant={DEMO_TENANT_ID}")
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    send(page, "Update contact info for Lena Park: email is lena@example.com")
    expect(page.get_by_text("update_contact_info succeeded")).to_be_visible(timeout=30_000)
    assert "conversation=" in page.url

    page.get_by_role("link", name="Records").click()
    expect(page.get_by_role("heading", name="Records · Demo Tours")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Contacts").click()
    page.get_by_text("Correct a contact").click()
    choose(page.get_by_label("Contact", exact=True), page.get_by_role("option", name="Lena Park"))
    page.get_by_label("Name", exact=True).fill("Lena Park-Yoon")
    page.get_by_role("button", name="Save contact").click()
    expect(page.get_by_text("Saved Lena Park-Yoon; the CRM is told.")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("tab", selected=True)).to_have_text("Contacts")
    shoot(page, "records-contacts-corrected")

    page.get_by_role("link", name="Chat").click()
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    choose(
        page.get_by_test_id("stSidebar").get_by_label("Tenant"),
        page.get_by_role("option", name="Harbour Clinic"),
    )
    expect(page.get_by_role("heading", name="Chat · Harbour Clinic")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("not one of this tenant's")).to_have_count(0)
    assert "conversation=" not in page.url
