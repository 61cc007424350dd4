"""Every dashboard page through Streamlit's AppTest: what an operator sees and can do."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button

from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from agent_core.testing.net import free_port
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from agent_core.voice.channel import Heard
from agent_core.voice.recording import SpokenTurn
from dashboard.state import TENANT_KEY, _runtime
from tests.conftest import ROOT, TEST_ADMIN
from tests.voice.test_recordings import tone

SEED_MESSAGES = {
    "Hello, what can you help me with?": None,
    "I want to book a tour for John Smith on 2027-03-15 in Paris.": "book_tour succeeded",
    "Please note that the client prefers morning tours and vegetarian meals.": "take_note succeeded",
    "Update contact info for Sarah Jones: email is sarah@example.com, phone is +1-555-0123.": "update_contact_info succeeded",
}


def texts(app: AppTest) -> str:
    """All markdown and captions on the page, joined (markdown escapes removed)."""
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption]
    return "\n".join(parts).replace("\\", "")


def send(app: AppTest, message: str) -> AppTest:
    return app.chat_input[0].set_value(message).run()


def pick_tenant(app: AppTest, tenant_id: UUID) -> AppTest:
    """Choose a tenant in the sidebar selector.

    With st.navigation, AppTest neither reports nor drives the entry script's sidebar
    after the first run, so the choice is made the way the selector records it. The real
    selector (and adding a tenant) is exercised in the browser test.
    """
    app.session_state[TENANT_KEY] = str(tenant_id)
    return app.run()


def test_the_app_opens_on_the_demo_tenant_and_says_what_it_runs_on(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert app.sidebar.selectbox[0].value == DEMO_TENANT_ID
    assert app.query_params["tenant"] == str(DEMO_TENANT_ID)
    assert "offline demo model" in "\n".join(c.value for c in app.sidebar.caption)
    assert app.subheader[0].value == "Chat · Demo Tours"


def test_each_seed_message_shows_its_tool_call_and_the_record_appears(app: AppTest) -> None:
    app.run()
    for message, tool_label in SEED_MESSAGES.items():
        send(app, message)
        assert not app.exception
        labels = [s.label for s in app.status]
        if tool_label:
            assert any(label.startswith(tool_label) for label in labels), labels
    page = texts(app)
    assert "I've booked a tour for John Smith on Monday 15 March 2027 in Paris" in page
    assert "Noted: “The client prefers morning tours and vegetarian meals.”" in page
    app.switch_page("pages/records.py").run()
    assert not app.exception
    tours, notes, contacts = (frame.value for frame in app.dataframe)
    assert tours[["Customer", "Date", "Place", "Status"]].values.tolist() == [
        ["John Smith", date(2027, 3, 15), "Paris", "booked"]
    ]
    assert tours.columns[-1] == "Reference"
    # Whose note: the customer booked earlier in its conversation.
    assert notes[["Customer", "Note"]].values.tolist() == [
        ["John Smith", "The client prefers morning tours and vegetarian meals."]
    ]
    assert contacts[["Name", "Email", "Phone"]].values.tolist() == [
        ["Sarah Jones", "sarah@example.com", "+1-555-0123"]
    ]


def test_switching_tenants_never_shows_the_other_tenants_chat_or_records(app: AppTest) -> None:
    app.run()
    send(app, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    pick_tenant(app, SECOND_DEMO_TENANT_ID)
    assert app.subheader[0].value == "Chat · Harbour Clinic"
    assert "John Smith" not in texts(app)
    assert len(app.status) == 0
    app.switch_page("pages/records.py").run()
    assert len(app.dataframe) == 0
    assert "No appointments yet" in "\n".join(i.value for i in app.info)  # the clinic's word
    pick_tenant(app, DEMO_TENANT_ID)
    assert app.dataframe[0].value["Customer"].tolist() == ["John Smith"]


def button(app: AppTest, label: str) -> Button:
    return next(b for b in app.button if b.label == label)


def labelled(elements: Iterable[Any], label: str) -> Any:
    """The widget with this label (pages hold several of a kind)."""
    return next(e for e in elements if e.label == label)


def save_draft(app: AppTest, prompt: str) -> AppTest:
    app.switch_page("pages/prompts.py").run()
    app.text_area[0].input(prompt)
    return button(app, "Save draft").click().run()


def publish(app: AppTest) -> AppTest:
    app.checkbox[0].check().run()
    return button(app, "Publish draft").click().run()


def test_a_draft_goes_live_only_when_published_after_its_scenarios_pass(app: AppTest) -> None:
    app.run()
    save_draft(app, "You are Max, the night concierge of Demo Tours.")
    assert not app.exception
    assert "Draft saved" in app.success[0].value
    app.switch_page("pages/chat.py").run()
    send(app, "Hello")
    assert "I'm Max" not in texts(app)
    app.switch_page("pages/prompts.py").run()
    publish(app)
    assert not app.exception
    assert "Version 2 is live: 5 of 5 scenarios passed" in app.success[0].value
    assert any("Version 2" in e.label and "the local admin" in e.label for e in app.expander)
    app.switch_page("pages/chat.py").run()
    send(app, "Hello")
    assert "Hello! I'm Max, the night concierge of Demo Tours." in texts(app)


def test_a_failing_draft_is_blocked_with_its_failures_and_an_admin_overrides_with_a_reason(
    app: AppTest,
) -> None:
    app.run()
    save_draft(app, "You are Max, the concierge of Acme.")
    publish(app)
    assert not app.exception
    assert "Not published: 4 of 5 scenarios passed against the draft" in app.error[0].value
    assert any(e.label.startswith("Failed · Greets without using a tool · 0/1") for e in app.expander)
    assert ":red-badge[Failed] reply contains 'Demo Tours'" in texts(app)
    app.text_input[0].input("Rebranding to Acme today")
    button(app, "Publish anyway").click().run()
    assert (
        "Version 2 is live: 4 of 5 scenarios passed (published past failing scenarios" in app.success[0].value
    )
    app.switch_page("pages/audit.py").run()
    assert "Rebranding to Acme today" in app.dataframe[0].value.to_csv()


def test_the_sandbox_answers_with_the_draft_beside_the_live_prompt_and_writes_nothing(app: AppTest) -> None:
    app.run()
    save_draft(app, "You are Max, the night concierge of Demo Tours.")
    app.chat_input[0].set_value("Hello").run()
    assert not app.exception
    assert [s.value for s in app.subheader] == ["Draft", "Live (version 1)"]
    page = texts(app)
    assert "I'm Max, the night concierge" in page
    assert "I'm Ava, the booking assistant" in page
    app.chat_input[0].set_value("Book a tour for Ana Silva on 2027-01-10 in Porto").run()
    assert [s.label.split(" ·")[0] for s in app.status] == ["book_tour succeeded"] * 2
    app.switch_page("pages/records.py").run()
    assert "No tours yet" in "\n".join(i.value for i in app.info)


def test_an_empty_prompt_is_refused(app: AppTest) -> None:
    app.run()
    save_draft(app, "   ")
    assert "prompt: String should have at least 1 character" in app.error[0].value


def test_blank_chat_input_is_rejected_with_a_message(app: AppTest) -> None:
    app.run()
    send(app, "   ")
    assert "message: String should have at least 1 character" in app.error[0].value


def test_an_unknown_tenant_in_the_link_falls_back_with_a_warning(app: AppTest) -> None:
    app.query_params["tenant"] = str(uuid4())
    app.run()
    assert "is not one you can open" in app.sidebar.warning[0].value
    assert app.sidebar.selectbox[0].value == DEMO_TENANT_ID


def test_the_events_page_lists_and_filters_what_happened(app: AppTest) -> None:
    app.run()
    send(app, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    app.switch_page("pages/events.py").run()
    frame = app.dataframe[0].value
    assert {"chat.message.received", "tool.called", "chat.reply.sent"} <= set(frame["Event"])
    assert frame.loc[frame["Event"] == "tool.called", "About"].tolist() == ["book_tour"]
    assert frame.loc[frame["Event"] == "tour.booked", "About"].tolist() == ["John Smith · 2027-03-15 · Paris"]
    app.multiselect[0].select("tool.called").run()
    assert set(app.dataframe[0].value["Event"]) == {"tool.called"}


def test_user_text_is_shown_literally_never_as_html(app: AppTest) -> None:
    app.run()
    send(app, "Please note that <img src=x onerror=alert(1)> **bold** $x$")
    rendered = "\n".join(m.value for m in app.markdown)
    assert "\\<img src\\=x onerror\\=alert\\(1\\)\\>" in rendered
    assert "\\*\\*bold\\*\\* \\$x\\$" in rendered
    assert not re.search(r"(?<!\\)<img", rendered)


def test_a_model_that_is_down_is_explained_and_the_message_kept(
    app_on_model: Callable[[str], AppTest],
) -> None:
    app = app_on_model(f"http://127.0.0.1:{free_port()}/v1")
    app.run()
    assert "Model: openai:gpt-4o-mini" in "\n".join(c.value for c in app.sidebar.caption)
    send(app, "Hello")
    assert app.error[0].value == "Not answered: cannot reach the model server (check OPENAI_BASE_URL)"
    assert [b.label for b in app.button if b.label == "Retry"] == ["Retry"]
    app.run()
    assert "Hello" in texts(app), "the message is in the conversation's history after a rerun"


def test_an_operator_moves_then_cancels_a_booking_from_the_records_page_and_it_is_audited(
    app: AppTest,
) -> None:
    app.run()
    send(app, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    app.switch_page("pages/records.py").run()
    app.radio[0].set_value("Move").run()
    (new_date,) = [d for d in app.date_input if d.label == "New date"]
    new_date.set_value(date(2027, 3, 22))
    app.checkbox[-1].check().run()
    _submit(app, "Move booking")
    assert not app.exception
    assert "John Smith's booking: Moved to 22 Mar 2027 in Paris." in app.success[0].value
    assert app.dataframe[0].value["Date"].tolist() == [date(2027, 3, 22)]
    app.radio[0].set_value("Cancel").run()
    app.checkbox[-1].check().run()
    _submit(app, "Cancel booking")
    assert "John Smith's booking: Cancelled." in app.success[0].value
    assert app.dataframe[0].value["Status"].tolist() == ["cancelled"]
    assert any(
        "moved from 2027-03-15 in Paris to 2027-03-22 in Paris by the local admin" in c.value
        for c in app.caption
    )
    app.switch_page("pages/audit.py").run()
    actions = app.dataframe[0].value[["Action", "Who"]].values.tolist()
    assert actions[:2] == [["tour.cancelled", "the local admin"], ["tour.rescheduled", "the local admin"]]


def test_a_correction_waits_for_its_confirmation(app: AppTest) -> None:
    app.run()
    send(app, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    app.switch_page("pages/records.py").run()
    for action in ("Move", "Cancel"):
        app.radio[0].set_value(action).run()
        (button,) = [b for b in app.button if b.label == f"{action} booking"]
        assert button.disabled, f"{action} is offered before its confirmation is ticked"
        app.checkbox[-1].check().run()
        (button,) = [b for b in app.button if b.label == f"{action} booking"]
        assert not button.disabled
        app.checkbox[-1].uncheck().run()
    assert app.dataframe[0].value["Status"].tolist() == ["booked"]


def _submit(app: AppTest, label: str) -> None:
    (button,) = [b for b in app.button if b.label == label]
    button.click().run()


def test_a_wrong_contact_is_fixed_and_a_duplicate_merged_from_the_records_page(app: AppTest) -> None:
    app.run()
    send(app, "Update contact info for Change Bob Lee: phone is +44 20 7946 0958")
    send(app, "Update contact info for Bob Lee: email is bob@example.com")
    app.switch_page("pages/records.py").run()
    (name,) = [t for t in app.text_input if t.label == "Name"]
    assert name.value == "Bob Lee"  # contacts are listed by name
    (contacts,) = [s for s in app.selectbox if s.label == "Contact"]
    contacts.set_value(next(o for o in contacts.options if o == "Change Bob Lee")).run()
    (name,) = [t for t in app.text_input if t.label == "Name"]
    name.input("Robert Lee")
    _submit(app, "Save contact")
    assert "Saved Robert Lee; the CRM is told." in app.success[0].value
    (contacts,) = [s for s in app.selectbox if s.label == "Contact"]
    contacts.set_value("Bob Lee").run()
    app.checkbox[-1].check().run()
    _submit(app, "Merge contacts")
    assert "Merged Robert Lee into Bob Lee." in app.success[0].value
    frame = app.dataframe[-1].value  # no tours or notes: the only table
    assert frame[["Name", "Email", "Phone"]].values.tolist() == [
        ["Bob Lee", "bob@example.com", "+44 20 7946 0958"]
    ]


def test_a_conversation_lists_the_records_it_wrote_with_their_state_now(app: AppTest) -> None:
    app.run()
    send(app, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    send(app, "Please note that John prefers mornings")
    send(app, "Can you cancel the booking for John Smith?")
    app.run()  # reopen the conversation from the store
    (panel,) = [e for e in app.expander if e.label.startswith("Records this conversation wrote")]
    assert panel.label == "Records this conversation wrote (3)"
    lines = texts(app)
    assert "- booked John Smith · 2027-03-15 · Paris — cancelled since\n" in lines
    assert "- noted: John prefers mornings\n" in lines
    assert "- cancelled John Smith · 2027-03-15 · Paris\n" in lines, "said once, not twice"


def test_a_clinic_calls_its_bookings_appointments_and_suggests_its_own_example(app: AppTest) -> None:
    app.run()
    pick_tenant(app, SECOND_DEMO_TENANT_ID)
    app.switch_page("pages/settings.py").run()
    assert not app.exception
    (noun,) = [t for t in app.text_input if t.label == "A booking is called"]
    noun.input("appointment")
    (plural,) = [t for t in app.text_input if t.label == "Plural"]
    plural.input("appointments")
    app.text_area[0].input("Book an appointment for Ana Silva on 2027-01-10 at the Harbour Clinic.")
    _submit(app, "Save settings")
    assert app.success[0].value == "Settings saved."
    app.switch_page("pages/records.py").run()
    assert [t.label for t in app.tabs] == ["Appointments", "Notes", "Contacts"]
    assert "No appointments yet" in app.info[0].value
    app.switch_page("pages/chat.py").run()
    assert (
        "Try: “Book an appointment for Ana Silva on 2027-01-10 at the Harbour Clinic.”" in app.info[0].value
    )
    send(app, "Hello, what can you help me with?")
    greeting = texts(app)
    assert "I can book an appointment" in greeting
    assert "tour" not in greeting.lower(), "the clinic's assistant speaks of appointments"
    send(app, "Book an appointment for Ana Silva on 2027-01-10 in Porto.")
    assert "Done: I've booked an appointment for Ana Silva on Sunday 10 January 2027 in Porto" in texts(app)
    app.switch_page("pages/audit.py").run()
    assert app.dataframe[0].value["Action"].tolist()[0] == "tenant.settings_changed"


def test_a_spoken_message_is_played_back_on_conversations_until_it_is_forgotten(app: AppTest) -> None:
    app.run()
    send(app, "Hello, what can you help me with?")
    conversation = UUID(app.query_params["conversation"])
    runtime = _runtime()
    workspace = runtime.acting_as(TEST_ADMIN)
    [turn] = workspace.turns(DEMO_TENANT_ID, conversation)
    # As push-to-talk keeps it: 1.5 s heard, a 2 s reply spoken.
    now = time.perf_counter()
    spoken = SpokenTurn(
        Heard("Hello, what can you help me with?", 1.5, 300.0, tone(1.5), now - 0.8, now - 0.5)
    )
    spoken.started(turn.id, conversation)
    spoken.answered()
    spoken.spoke(tone(2.0).wav())
    assert workspace.keep_spoken_turn(DEMO_TENANT_ID, spoken)

    app.switch_page("pages/conversations.py").run()
    app.query_params["conversation"] = str(conversation)
    app.run()
    assert not app.exception
    assert "heard 1.5 s · transcribed in 0.30 s" in texts(app)
    assert "first audio after" in texts(app)
    players = app.get("audio")
    assert len(players) == 2, "what the caller said and what was answered"
    assert [c.value for c in app.caption if c.value in ("The caller", "The answer")] == [
        "The caller",
        "The answer",
    ]

    # A caller asks to be forgotten: confirmed, the audio goes, the timings stay.
    labelled(app.checkbox, "Yes, forget them").check().run()
    button(app, "Forget recordings").click().run()
    assert app.success[0].value == "Forgot the recordings of 1 spoken message."
    assert "recordings not kept" in texts(app)
    assert not app.get("audio")
    assert not [b for b in app.button if b.label == "Forget recordings"]

    # How long a tenant keeps them is its setting.
    app.switch_page("pages/settings.py").run()
    labelled(app.number_input, "Keep recordings for (days)").set_value(7)
    _submit(app, "Save settings")
    assert app.success[0].value == "Settings saved."
    assert workspace.tenant(DEMO_TENANT_ID).settings["recording_days"] == 7


def test_the_scenarios_page_runs_the_demo_suite_and_shows_the_run(app: AppTest) -> None:
    app.run()
    app.switch_page("pages/scenarios.py").run()
    assert not app.exception
    assert app.header[0].value == "Scenarios · Demo Tours"
    assert "5 scenarios, by name." in texts(app)
    button(app, "Run scenarios").click().run()
    assert not app.exception
    runs = app.dataframe[0].value
    assert runs[["Verdict", "Result"]].values.tolist() == [["Passed", "5 of 5 scenarios passed"]]
    assert runs["Tested"].tolist() == ["live (version 1)"]
    assert len(app.dataframe) == 1, "the run against the live prompt is not compared with itself"
    results = [e.label for e in app.expander if e.label.startswith(("Passed · ", "Failed · "))]
    assert len(results) == 5, "each scenario's result is listed once"
    assert all(label.startswith("Passed · ") and label.endswith("1/1 passed") for label in results)
    assert ":green-badge[Passed] reply contains 'Demo Tours'" in texts(app)


def test_a_scenario_is_added_from_the_form_and_a_nameless_one_is_refused(app: AppTest) -> None:
    app.run()
    app.switch_page("pages/scenarios.py").run()
    labelled(app.text_input, "Name").input("Notes a diet")
    labelled(app.text_area, "The caller says").input("Please note that Ana is vegan.")
    labelled(app.selectbox, "The agent must call").select("take_note")
    button(app, "Add scenario").click().run()
    assert not app.exception
    assert app.success[0].value == "Scenario added."
    assert "6 scenarios, by name." in texts(app)
    labelled(app.text_input, "Name").input(" ")
    labelled(app.text_area, "The caller says").input("Hello")
    button(app, "Add scenario").click().run()
    assert "name: String should have at least 1 character" in app.error[0].value


def test_a_conversation_is_turned_into_a_scenario_from_the_chat_page(app: AppTest) -> None:
    app.run()
    send(app, "Book a tour for Ana Silva on 2027-01-10 in Porto")
    app.run()
    app.text_input[0].input("Ana books Porto")
    button(app, "Save scenario").click().run()
    assert not app.exception
    assert "Saved scenario “Ana books Porto”" in app.success[0].value
    app.switch_page("pages/scenarios.py").run()
    assert "6 scenarios, by name." in texts(app)
    assert any(e.label == "Ana books Porto · not run yet" for e in app.expander)


def test_a_reload_or_a_shared_link_reopens_the_open_conversation(app: AppTest) -> None:
    app.run()
    send(app, "Please note that Zoë prefers boats.")
    conversation = app.query_params["conversation"]
    assert UUID(conversation)
    reopened = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30)
    reopened.query_params["conversation"] = conversation
    reopened.run()
    assert not reopened.exception
    assert "Noted: “Zoë prefers boats.”" in texts(reopened)
    stranger = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30)
    stranger.query_params["conversation"] = str(uuid4())
    stranger.run()
    assert any("not one of this tenant's" in w.value for w in stranger.warning)
    assert "conversation" not in stranger.query_params


def test_a_message_over_the_limit_is_refused_saying_the_limit(app: AppTest) -> None:
    app.run()
    send(app, "x" * 4_321)
    assert "is 4321 characters long; the limit is 4000" in app.error[0].value


def test_a_new_search_starts_on_the_first_page_of_its_results(app: AppTest, app_env: Path) -> None:
    store = SqliteStore(app_env)
    with store._transaction() as session:
        for number in range(60):
            session.execute(
                "INSERT INTO notes (id, tenant_id, content, created_at) VALUES (:id, :t, :c, :at)",
                {"id": uuid4(), "t": DEMO_TENANT_ID, "c": f"Note {number:02d}", "at": datetime.now(UTC)},
            )
    store.close()
    app.run()
    app.switch_page("pages/records.py").run()
    app.session_state[f"notes:{DEMO_TENANT_ID}:page"] = 2
    app.run()
    assert "60 notes · showing 51–60" in texts(app)
    labelled_search = next(t for t in app.text_input if t.key == f"notes:{DEMO_TENANT_ID}:search")
    labelled_search.input("Note 1").run()
    assert "10 notes · showing 1–10" in texts(app)


def test_a_failed_turn_is_marked_and_retry_answers_it_without_a_second_copy(
    app_on_model: Callable[[str], AppTest],
) -> None:
    with FakeOpenAIServer() as server:
        app = app_on_model(server.base_url)
        app.run()
        server.enqueue(FakeCompletion(status=500, text="boom"))
        send(app, "Hello there")
        assert not app.exception
        assert app.error[0].value == "Not answered: the model server failed (HTTP 500)"
        server.enqueue(FakeCompletion(text="Hello! How can I help?"))
        button(app, "Retry").click().run()
        assert not app.exception
        assert "Hello! How can I help?" in texts(app)
        assert not [e for e in app.error if e.value.startswith("Not answered")]
        messages, _ = (
            _runtime()
            .acting_as(TEST_ADMIN)
            .conversation(DEMO_TENANT_ID, UUID(app.query_params["conversation"]))
        )
        assert [m.role for m in messages] == ["user", "assistant"]


def test_a_claim_no_tool_backed_is_held_back_and_the_conversation_says_what(
    app_on_model: Callable[[str], AppTest],
) -> None:
    with FakeOpenAIServer() as server:
        app = app_on_model(server.base_url)
        app.run()
        server.enqueue(FakeCompletion(text="Sure. I've booked John Smith for Paris."))
        send(app, "Book John Smith in Paris")
        assert not app.exception
        assert "Nothing has been booked yet" in texts(app)
        [held] = [w.value for w in app.warning if w.value.startswith("Held back")]
        assert held.startswith("Held back from the answer — the model claims a booking no tool completed:")
        assert "booked John Smith for Paris" in held


def test_a_turn_waiting_on_the_model_shows_its_progress_and_stops_when_asked(
    app_on_model: Callable[[str], AppTest],
) -> None:
    with FakeOpenAIServer() as server:
        app = app_on_model(server.base_url)
        app.run()
        server.enqueue(FakeCompletion(text="Far too late.", delay=20))
        send(app, "Hello?")
        assert not app.exception
        assert "Thinking…" in texts(app)
        assert app.chat_input[0].disabled, "one message at a time"
        assert "Hello?" in texts(app), "the message is stored and shown while it is answered"
        button(app, "Stop").click().run()
        turn = app.session_state[f"running_turn:{DEMO_TENANT_ID}"]
        assert turn.wait_done(10)
        app.run()
        assert app.error[0].value == "Not answered: stopped by the local admin"
        assert [b.label for b in app.button if b.label == "Retry"] == ["Retry"]
        assert not app.chat_input[0].disabled
        server.enqueue(FakeCompletion(text="Here now."))
        button(app, "Retry").click().run()
        assert "Here now." in texts(app)


def test_the_conversations_page_lists_filters_and_opens_a_conversation(app: AppTest) -> None:
    app.run()
    send(app, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    booked = app.query_params["conversation"]
    app.session_state[f"conversation:{DEMO_TENANT_ID}"] = None
    app.run()
    send(app, "Please note that the client prefers boats.")
    app.switch_page("pages/conversations.py").run()
    assert not app.exception
    assert app.header[0].value == "Conversations · Demo Tours"
    assert "2 conversations · showing 1–2" in texts(app)
    log = app.dataframe[0].value
    assert log["Outcome"].tolist() == ["noted", "booked"]
    assert log["Turns"].tolist() == [1, 1]
    labelled(app.selectbox, "Outcome").select("booked").run()
    assert "1 conversation · showing 1–1" in texts(app)
    # One picked day applies at once: no second day, no closing the calendar first.
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    labelled(app.date_input, "Started from").set_value(tomorrow).run()
    assert "No conversation matches these filters." in [i.value for i in app.info]
    labelled(app.date_input, "Started from").set_value(None).run()
    assert "1 conversation · showing 1–1" in texts(app)
    labelled(app.text_input, "Customer").input("nobody").run()
    assert "No conversation matches these filters." in [i.value for i in app.info]
    app.query_params["conversation"] = booked
    app.run()
    assert [s.label.split(" ·")[0] for s in app.status] == ["book_tour succeeded"]
    assert "I've booked a tour for John Smith" in texts(app)


def test_the_analytics_page_counts_the_tenants_activity_and_admins_see_every_tenant(app: AppTest) -> None:
    app.run()
    app.switch_page("pages/analytics.py").run()
    assert "No activity in these days." in [i.value for i in app.info]
    app.switch_page("pages/chat.py").run()
    send(app, "I want to book a tour for John Smith on 2027-03-15 in Paris.")
    send(app, "Please note that the client prefers boats.")
    pick_tenant(app, SECOND_DEMO_TENANT_ID)
    send(app, "Hello")
    pick_tenant(app, DEMO_TENANT_ID)
    app.switch_page("pages/analytics.py").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert (metrics["Turns"], metrics["Bookings"], metrics["Failed turns"]) == ("2", "1", "0 (0.0%)")
    assert metrics["Estimated cost"] == "$0.00"  # the demo model uses no tokens
    assert app.dataframe[0].value["Tool"].tolist() == ["book_tour", "take_note"]
    assert app.dataframe[1].value["What"].tolist() == [
        "Whole turn",
        "… the model",
        "… the tools",
        "… the store and the loop",
        "One tool call",
    ]
    app.toggle[0].set_value(True).run()
    assert app.header[0].value == "Analytics · all tenants"
    assert {m.label: m.value for m in app.metric}["Turns"] == "3"
