"""Tours, notes and contacts of the selected tenant: search, filter, sort, page, download."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

import streamlit as st

from agent_core.access.models import Action
from agent_core.domain import Contact, Note, Tour, TourStatus
from agent_core.errors import AgentCoreError, InvalidInputError
from agent_core.store.records import CONTACTS, NOTES, TOURS, Page, RecordQuery, TableSpec, all_pages
from agent_core.tenant_settings import settings_from
from dashboard.filters import current_page, day_range
from dashboard.state import current_tenant, get_runtime, get_workspace, session_key
from dashboard.views import column_label, records_csv, records_frame, tour_change_line

CSV_ROW_LIMIT = 200_000

workspace = get_workspace(get_runtime())
tenant = current_tenant(workspace)
st.header(f"Records · {tenant.name}")
settings = settings_from(tenant.settings)
ZONE = settings.zone(get_runtime().settings.zone)
REGION = settings.phone_region

Lister = Callable[[Any, RecordQuery], Page[Tour] | Page[Note] | Page[Contact]]


def csv_export(lister: Callable[[UUID, RecordQuery], Page[Any]], query: RecordQuery) -> Callable[[], str]:
    """Every matching row as CSV, read in batches only when the download is clicked."""
    return lambda: "".join(records_csv(all_pages(lister, tenant.id, query, CSV_ROW_LIMIT), ZONE, REGION))


def record_table(
    label: str, spec: TableSpec, lister: Lister, date_label: str, empty_hint: str
) -> Page[Tour] | Page[Note] | Page[Contact] | None:
    """Filters, the current page, counts and a CSV download for one kind of record; returns
    the page shown."""
    key = session_key(tenant, spec.table)
    top = st.columns([3, 4, 2, 1, 1])
    search = top[0].text_input("Search", key=f"{key}:search", placeholder="name, place, text…")
    with top[1]:
        days = day_range(date_label, f"{key}:days")
    sort = top[2].selectbox("Sort by", list(spec.sortable), format_func=column_label, key=f"{key}:sort")
    descending = top[3].toggle("Desc.", key=f"{key}:desc")
    size = top[4].selectbox("Rows", [25, 50, 100, 250], index=1, key=f"{key}:size")
    query = RecordQuery(
        search=search,
        date_from=days[0],
        date_to=days[1],
        sort=sort,
        descending=descending,
        limit=size,
    )
    page_key = f"{key}:page"
    page_number = current_page(key, (search, days, sort, descending, size))
    try:
        page = lister(tenant.id, replace(query, offset=(page_number - 1) * size))
        if not page.rows and page.total:
            # The filters changed under an old page number: go to the last page that exists.
            page_number = -(-page.total // size)
            page = lister(tenant.id, replace(query, offset=(page_number - 1) * size))
    except InvalidInputError as exc:
        st.error(str(exc))
        return None
    total = page.total
    if total == 0:
        st.info(
            empty_hint if not (search or any(days)) else f"No {label} match these filters.",
            icon=":material/search_off:",
        )
        return None
    pages = -(-total // size)
    if st.session_state.get(page_key, 1) != page_number:
        # Dropped, not set: the pagination below starts again on `page_number` (see current_page).
        st.session_state.pop(page_key, None)
    first = (page_number - 1) * size + 1
    noun = label if total != 1 else label.removesuffix("s")
    st.caption(f"{total:,} {noun} · showing {first:,}–{first + len(page.rows) - 1:,}")
    frame = records_frame(page.rows, ZONE, REGION)
    if "Conversation" in frame.columns:
        # Whose a record is: the conversation that wrote it, one click away.
        frame["Conversation"] = frame["Conversation"].map(
            lambda c: f"/conversations?tenant={tenant.id}&conversation={c}" if c else None
        )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "Conversation": st.column_config.LinkColumn(
                display_text="Open", help="The conversation that wrote it, on the Conversations page"
            )
        },
    )
    bottom = st.columns([4, 2])
    with bottom[0]:
        st.pagination(pages, default=page_number, key=page_key)
    bottom[1].download_button(
        f"Download {label} as CSV",
        data=csv_export(lister, query),
        file_name=f"{tenant.name}-{spec.table}.csv".replace(" ", "_"),
        mime="text/csv",
        help=f"All matching {label} (up to {CSV_ROW_LIMIT:,} rows)",
    )
    return page


def corrected(message: str) -> None:
    """Remember what was done for the next run, and rerun so every table shows it."""
    st.session_state[session_key(tenant, "correction_notice")] = message
    st.rerun()


def show_notice() -> None:
    """What the last correction did."""
    if notice := st.session_state.pop(session_key(tenant, "correction_notice"), None):
        st.success(notice, icon=":material/check_circle:")


def may_correct() -> bool:
    """Whether the principal may correct this tenant's records (a caption says so when not)."""
    if workspace.may(Action.CORRECT, tenant.id):
        return True
    st.caption("Your role can read these records, not change them.")
    return False


def contact_corrections(contacts: Sequence[Contact]) -> None:
    """Edit a contact the agent got wrong, or merge two contacts of one person."""
    if not contacts:
        return
    with st.expander("Correct a contact", icon=":material/person_edit:"):
        if not may_correct():
            return
        chosen = st.selectbox(
            "Contact", contacts, format_func=lambda c: c.name, key=session_key(tenant, "correct_contact")
        )
        with st.form(session_key(tenant, f"contact:{chosen.id}")):
            name = st.text_input("Name", value=chosen.name, max_chars=100)
            email = st.text_input("Email (blank: none)", value=chosen.email or "", max_chars=254)
            phone = st.text_input("Phone (blank: none)", value=chosen.phone or "", max_chars=32)
            if st.form_submit_button("Save contact", type="primary"):
                try:
                    saved = workspace.corrections.correct_contact(
                        tenant.id, chosen.id, name, email.strip() or None, phone.strip() or None
                    )
                except AgentCoreError as exc:
                    st.error(str(exc), icon=":material/warning:")
                else:
                    corrected(f"Saved {saved.name}; the CRM is told.")
        others = [c for c in contacts if c.id != chosen.id]
        if others:
            duplicate = st.selectbox(
                f"Same person as {chosen.name}?",
                others,
                format_func=lambda c: f"{c.name} · {c.email or 'no email'} · {c.phone or 'no phone'}",
                key=session_key(tenant, "merge_contact"),
            )
            confirm = st.checkbox(
                f"Yes, merge {duplicate.name} into {chosen.name} ({duplicate.name} is removed)",
                key=session_key(tenant, f"merge_confirm:{chosen.id}:{duplicate.id}"),
            )
            if st.button("Merge contacts", disabled=not confirm, key=session_key(tenant, "merge_button")):
                try:
                    merged = workspace.corrections.merge_contacts(tenant.id, chosen.id, duplicate.id)
                except AgentCoreError as exc:
                    st.error(str(exc), icon=":material/warning:")
                else:
                    corrected(f"Merged {duplicate.name} into {merged.name}.")


def note_corrections(notes: Sequence[Note]) -> None:
    """Delete a note the agent should not have taken (its text stays in the audit log)."""
    if not notes:
        return
    with st.expander("Delete a note", icon=":material/delete:"):
        if not may_correct():
            return
        chosen = st.selectbox(
            "Note",
            notes,
            format_func=lambda n: n.content if len(n.content) <= 80 else n.content[:79] + "…",
            key=session_key(tenant, "delete_note"),
        )
        confirm = st.checkbox("Yes, delete this note", key=session_key(tenant, f"delete_confirm:{chosen.id}"))
        if st.button("Delete note", disabled=not confirm, key=session_key(tenant, "delete_button")):
            try:
                workspace.corrections.delete_note(tenant.id, chosen.id)
            except AgentCoreError as exc:
                st.error(str(exc), icon=":material/warning:")
            else:
                corrected("Note deleted (its text is kept in the audit log).")


def booking_corrections(tours: Sequence[Tour]) -> None:
    """Cancel or move one of the bookings shown, with a confirmation; its history and the
    conversation that made it."""
    if not tours:
        return
    with st.expander(f"Correct a {settings.booking_noun}", icon=":material/edit_calendar:"):
        chosen = st.selectbox(
            "Booking",
            tours,
            format_func=lambda t: (
                f"{t.customer_name} · {t.tour_date:%d %b %Y} · {t.location} · {t.status.value}"
            ),
            key=session_key(tenant, "correct_booking"),
        )
        history = workspace.corrections.tour_history(tenant.id, chosen.id)
        for change in history:
            st.caption(tour_change_line(change, ZONE))
        if chosen.conversation_id is not None and st.button(
            "Open the conversation that booked it", key=session_key(tenant, "open_conversation")
        ):
            st.session_state[session_key(tenant, "conversation")] = chosen.conversation_id
            st.switch_page("pages/chat.py")
        if chosen.status is not TourStatus.BOOKED:
            st.info("This booking is cancelled.", icon=":material/event_busy:")
            return
        if not may_correct():
            return
        action = st.radio(
            "Change", ["Move", "Cancel"], horizontal=True, key=session_key(tenant, "correct_action")
        )
        # The same pattern as every other change here: the button waits for its tick.
        correction = session_key(tenant, f"correct:{chosen.id}")
        if action == "Move":
            new_date = st.date_input(
                "New date", value=chosen.tour_date, format="YYYY-MM-DD", key=f"{correction}:date"
            )
            new_place = st.text_input(
                "New place", value=chosen.location, max_chars=100, key=f"{correction}:place"
            )
        confirm = st.checkbox(
            f"Yes, {action.lower()} this booking; {chosen.customer_name} will be told",
            key=f"{correction}:{action}:confirm",
        )
        if st.button(f"{action} booking", type="primary", disabled=not confirm, key=f"{correction}:go"):
            try:
                if action == "Move":
                    changed = workspace.corrections.reschedule_tour(tenant.id, chosen.id, new_date, new_place)
                    done = f"Moved to {changed.tour_date:%d %b %Y} in {changed.location}."
                else:
                    workspace.corrections.cancel_tour(tenant.id, chosen.id)
                    done = "Cancelled."
            except AgentCoreError as exc:
                st.error(str(exc), icon=":material/warning:")
            else:
                corrected(f"{chosen.customer_name}'s booking: {done}")


show_notice()
bookings = settings.booking_noun_plural
# A keyed tab remembers which one is open: a correction's rerun stays on it.
tours_tab, notes_tab, contacts_tab = st.tabs(
    [bookings.capitalize(), "Notes", "Contacts"], key=session_key(tenant, "records_tab"), on_change="rerun"
)
with tours_tab:
    shown = record_table(
        bookings,
        TOURS,
        workspace.list_tours,
        f"{settings.booking_noun.capitalize()} dates",
        f"No {bookings} yet: book one from the Chat page.",
    )
    booking_corrections([r for r in shown.rows if isinstance(r, Tour)] if shown else [])
with notes_tab:
    shown_notes = record_table(
        "notes",
        NOTES,
        workspace.list_notes,
        "Created between",
        "No notes yet: ask the agent to note something.",
    )
    note_corrections([r for r in shown_notes.rows if isinstance(r, Note)] if shown_notes else [])
with contacts_tab:
    shown_contacts = record_table(
        "contacts",
        CONTACTS,
        workspace.list_contacts,
        "Updated between",
        "No contacts yet: give the agent someone's email or phone.",
    )
    contact_corrections([r for r in shown_contacts.rows if isinstance(r, Contact)] if shown_contacts else [])
