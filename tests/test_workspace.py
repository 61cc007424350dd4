"""What each principal may do with tenant data, checked in agent_core (not by hiding
buttons): refusals write nothing, and every change leaves exactly one audit entry naming
who made it. Prompt edits: validated, versioned, undoable, used by the very next turn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from agent_core.access.authentication import LOCAL_PRINCIPAL
from agent_core.access.forms import MAX_PROMPT_CHARS
from agent_core.access.models import AuditAction, AuditQuery, Principal, PrincipalKind, UserRole
from agent_core.clock import FixedClock
from agent_core.domain import EventName, RunStatus, StoredScenario, Tenant, TourStatus
from agent_core.errors import AgentCoreError, ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from agent_core.store.base import Store
from agent_core.store.sqlite import SqliteStore
from agent_core.workspace import Workspace
from tests.conftest import make_workspace, turn_steps, whole_turn

Operation = Callable[[Workspace, UUID], object]

READS: dict[str, Operation] = {
    "see the tenant": lambda w, t: w.tenant(t),
    "list tours": lambda w, t: w.list_tours(t),
    "list notes": lambda w, t: w.list_notes(t),
    "list contacts": lambda w, t: w.list_contacts(t),
    "list conversations": lambda w, t: w.list_conversations(t),
    "read a conversation": lambda w, t: w.conversation(t, uuid4()),
    "list events": lambda w, t: w.list_events(t),
    "list prompt versions": lambda w, t: w.prompts.versions(t),
    "read the prompt draft": lambda w, t: w.prompts.draft(t),
    "list scenarios": lambda w, t: w.scenarios.suite(t),
    "list scenario runs": lambda w, t: w.scenarios.runs(t),
    "export scenarios": lambda w, t: w.scenarios.export_file(t),
}
CHANGES: dict[str, Operation] = {
    "chat": lambda w, t: whole_turn(w, t, "Hello"),
    "stream a turn": lambda w, t: turn_steps(w, t, "Hello"),
    "stop a turn": lambda w, t: w.stop_turn(t, uuid4()),
    "save the prompt": lambda w, t: w.prompts.publish(t, "You are Mallory."),
    "roll back the prompt": lambda w, t: w.prompts.roll_back(t, 1),
    "save a prompt draft": lambda w, t: w.prompts.save_draft(t, "You are Mallory."),
    "discard the prompt draft": lambda w, t: w.prompts.discard_draft(t),
    "publish the draft": lambda w, t: w.prompts.publish_draft(t),
    "save a scenario": lambda w, t: w.scenarios.save(t, {"name": "x", "steps": [{"say": "hi"}]}),
    "delete a scenario": lambda w, t: w.scenarios.delete(t, uuid4()),
    "import scenarios": lambda w, t: w.scenarios.import_file(t, "[]"),
    "run scenarios": lambda w, t: w.scenarios.run(t),
    "replay an event": lambda w, t: w.replay_event(t, uuid4()),
    "cancel a booking": lambda w, t: w.corrections.cancel_tour(t, uuid4()),
    "move a booking": lambda w, t: w.corrections.reschedule_tour(t, uuid4(), "2027-01-01"),
    "correct a contact": lambda w, t: w.corrections.correct_contact(t, uuid4(), "Bob Lee", None, None),
    "merge contacts": lambda w, t: w.corrections.merge_contacts(t, uuid4(), uuid4()),
    "delete a note": lambda w, t: w.corrections.delete_note(t, uuid4()),
    "read its audit log": lambda w, t: w.list_audit(t),
}
ADMIN_ONLY: dict[str, Callable[[Workspace], object]] = {
    "add a tenant": lambda w: w.create_tenant(f"Rogue {uuid4().hex[:6]}", "You are rogue."),
    "list users": lambda w: w.accounts.users(),
    "add a user": lambda w: w.accounts.add_user(f"x{uuid4().hex[:6]}@example.com", "admin"),
    "list API keys": lambda w: w.accounts.api_keys(),
    "create an API key": lambda w: w.accounts.create_api_key("sneaky", None),
}


def user(role: UserRole, *tenants: Tenant) -> Principal:
    return Principal(
        PrincipalKind.USER, f"{role.value}@example.com", role, frozenset(t.id for t in tenants), uuid4()
    )


def snapshot(store: Store, tenant: Tenant) -> tuple[object, ...]:
    """Everything a refused call could have written."""
    return (
        store.list_prompt_versions(tenant.id),
        store.list_conversations(tenant.id),
        len(store.list_audit(AuditQuery(limit=10_000))),
        len(store.list_users()),
        len(store.list_api_keys()),
        len(store.list_tenants()),
    )


@pytest.mark.parametrize("operation", [*READS, *CHANGES])
def test_an_operator_of_one_tenant_can_neither_read_nor_change_another(
    store: Store, tenant: Tenant, other_tenant: Tenant, operation: str
) -> None:
    workspace = make_workspace(store, user(UserRole.OPERATOR, tenant))
    before = snapshot(store, other_tenant)
    with pytest.raises(ForbiddenError):
        {**READS, **CHANGES}[operation](workspace, other_tenant.id)
    assert snapshot(store, other_tenant) == before
    assert [t.id for t in workspace.tenants()] == [tenant.id]


@pytest.mark.parametrize("operation", list(CHANGES))
def test_a_viewer_reads_its_tenant_and_changes_nothing(store: Store, tenant: Tenant, operation: str) -> None:
    workspace = make_workspace(store, user(UserRole.VIEWER, tenant))
    for read in READS.values():
        read(workspace, tenant.id)
    before = snapshot(store, tenant)
    with pytest.raises(ForbiddenError):
        CHANGES[operation](workspace, tenant.id)
    assert snapshot(store, tenant) == before


@pytest.mark.parametrize("operation", list(ADMIN_ONLY))
@pytest.mark.parametrize("role", [UserRole.OPERATOR, UserRole.VIEWER])
def test_only_admins_manage_tenants_users_and_keys(
    store: Store, tenant: Tenant, operation: str, role: UserRole
) -> None:
    workspace = make_workspace(store, user(role, tenant))
    before = snapshot(store, tenant)
    with pytest.raises(ForbiddenError, match="admins only"):
        ADMIN_ONLY[operation](workspace)
    assert snapshot(store, tenant) == before


def test_an_operator_sees_the_audit_of_its_tenants_only(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    admin = make_workspace(store)
    admin.prompts.publish(tenant.id, "You are Kim, version two.")
    admin.prompts.publish(other_tenant.id, "You are Lee, version two.")
    operator = make_workspace(store, user(UserRole.OPERATOR, tenant))
    seen = operator.list_audit()
    assert seen
    assert {e.tenant_id for e in seen} == {tenant.id}


def audit_rows(store: Store) -> list[tuple[str, str, UUID | None]]:
    return [(str(e.action), e.actor, e.tenant_id) for e in store.list_audit(AuditQuery(limit=10_000))]


def test_every_change_leaves_exactly_one_audit_entry_naming_its_actor(store: Store, tenant: Tenant) -> None:
    admin = make_workspace(store)
    operator = make_workspace(store, user(UserRole.OPERATOR, tenant))

    def one_entry(
        change: Callable[[], object], action: AuditAction, actor: str, tenant_id: UUID | None
    ) -> None:
        before = audit_rows(store)
        change()
        after = audit_rows(store)
        assert after[1:] == before
        assert after[0] == (action.value, actor, tenant_id)

    one_entry(
        lambda: operator.prompts.publish(tenant.id, "You are Kim, now brief."),
        AuditAction.PROMPT_PUBLISHED,
        "operator@example.com",
        tenant.id,
    )
    one_entry(
        lambda: operator.prompts.save_draft(tenant.id, "You are Kim, drafted."),
        AuditAction.PROMPT_DRAFT_SAVED,
        "operator@example.com",
        tenant.id,
    )
    one_entry(
        lambda: operator.prompts.discard_draft(tenant.id),
        AuditAction.PROMPT_DRAFT_DISCARDED,
        "operator@example.com",
        tenant.id,
    )
    saved: list[StoredScenario] = []
    one_entry(
        lambda: saved.append(
            operator.scenarios.save(tenant.id, {"name": "Greets", "steps": [{"say": "Hi"}]})
        ),
        AuditAction.SCENARIOS_SAVED,
        "operator@example.com",
        tenant.id,
    )
    one_entry(
        lambda: operator.scenarios.import_file(tenant.id, "- name: Books\n  steps: [{say: Book}]\n"),
        AuditAction.SCENARIOS_SAVED,
        "operator@example.com",
        tenant.id,
    )
    one_entry(
        lambda: operator.scenarios.delete(tenant.id, saved[0].id),
        AuditAction.SCENARIO_DELETED,
        "operator@example.com",
        tenant.id,
    )
    one_entry(
        lambda: operator.prompts.roll_back(tenant.id, 1),
        AuditAction.PROMPT_ROLLED_BACK,
        "operator@example.com",
        tenant.id,
    )
    one_entry(
        lambda: operator.replay_event(tenant.id, uuid4()),
        AuditAction.EVENT_REPLAYED,
        "operator@example.com",
        tenant.id,
    )
    before = audit_rows(store)
    created = admin.create_tenant(f"Audited {uuid4().hex[:6]}", "You are new.")
    assert audit_rows(store) == [(AuditAction.TENANT_CREATED.value, "cli:tests", created.id), *before]
    added: list[object] = []
    email = f"new{uuid4().hex[:6]}@example.com"
    one_entry(
        lambda: added.append(admin.accounts.add_user(email, "viewer", [tenant.id])),
        AuditAction.USER_ADDED,
        "cli:tests",
        None,
    )
    new_user = store.find_user(email)
    assert new_user is not None
    one_entry(
        lambda: admin.accounts.change_user(new_user.id, role="operator", tenants=[tenant.id], disabled=False),
        AuditAction.USER_CHANGED,
        "cli:tests",
        None,
    )
    one_entry(
        lambda: admin.accounts.reset_password(new_user.id), AuditAction.PASSWORD_CHANGED, "cli:tests", None
    )
    keys: list[object] = []
    one_entry(
        lambda: keys.append(admin.accounts.create_api_key("gateway", tenant.id)),
        AuditAction.API_KEY_CREATED,
        "cli:tests",
        tenant.id,
    )
    key = store.list_api_keys(frozenset({tenant.id}))[0]
    one_entry(
        lambda: admin.accounts.revoke_api_key(key.id), AuditAction.API_KEY_REVOKED, "cli:tests", tenant.id
    )

    booked = whole_turn(operator, tenant.id, "Book a tour for Ana Silva on 2027-01-10 in Porto")
    booking = UUID(str((booked.tool_calls[0].result or {})["booking_id"]))
    one_entry(
        lambda: operator.corrections.reschedule_tour(tenant.id, booking, "2027-01-17", "Lisbon"),
        AuditAction.TOUR_RESCHEDULED,
        "operator@example.com",
        tenant.id,
    )
    one_entry(
        lambda: operator.corrections.cancel_tour(tenant.id, booking),
        AuditAction.TOUR_CANCELLED,
        "operator@example.com",
        tenant.id,
    )
    moved = store.list_audit(AuditQuery(actions=(AuditAction.TOUR_RESCHEDULED.value,), limit=1))[0]
    assert ((moved.before or {})["date"], (moved.after or {})["date"]) == ("2027-01-10", "2027-01-17")
    assert [c.by.label for c in store.list_tour_changes(tenant.id, booking)] == ["operator@example.com"] * 2

    changed = store.list_audit(AuditQuery(actions=(AuditAction.USER_CHANGED.value,), limit=1))[0]
    assert (changed.before or {})["role"] == "viewer"
    assert (changed.after or {})["role"] == "operator"
    published = store.list_audit(
        AuditQuery(frozenset({tenant.id}), actions=(AuditAction.PROMPT_PUBLISHED.value,))
    )[0]
    assert published.before == {"prompt": tenant.system_prompt}
    assert published.after is not None
    assert (published.after["prompt"], published.after["version"]) == ("You are Kim, now brief.", 2)
    assert published.after["run_summary"] == "no scenarios to run"


def test_a_replayed_event_reruns_its_failed_listeners(store: Store, tenant: Tenant) -> None:
    from agent_core.events.bus import EventBus

    bus = EventBus(store, [])
    (event,) = [bus.outbox(EventName.TOUR_BOOKED, tenant.id, {})]
    store.events.save([type(event)(event.event, ("crm",))])
    store.events.claim_run(tenant.id, event.event.id, "crm")
    store.events.finish_run(tenant.id, event.event.id, "crm", RunStatus.FAILED, 3, "down", 1.0)
    workspace = make_workspace(store, user(UserRole.OPERATOR, tenant))
    assert workspace.replay_event(tenant.id, event.event.id) == ["crm"]


def test_the_last_active_admin_cannot_be_demoted_or_disabled(tmp_path: object) -> None:
    from pathlib import Path

    from agent_core.store.sqlite import SqliteStore

    store = SqliteStore(Path(str(tmp_path)) / "admins.sqlite3")
    admin = make_workspace(store)
    only, _ = admin.accounts.add_user("boss@example.com", "admin")
    with pytest.raises(InvalidInputError, match="last active admin"):
        admin.accounts.change_user(
            only.id, role="viewer", tenants=[store.list_tenants()[0].id], disabled=False
        )
    with pytest.raises(InvalidInputError, match="last active admin"):
        admin.accounts.change_user(only.id, role="admin", tenants=[], disabled=True)
    admin.accounts.add_user("second@example.com", "admin")
    assert admin.accounts.change_user(only.id, role="admin", tenants=[], disabled=True).disabled
    store.close()


def test_in_local_mode_the_first_user_must_be_an_admin(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "first.sqlite3")
    tenant = store.list_tenants()[0]
    local = make_workspace(store, LOCAL_PRINCIPAL)
    with pytest.raises(InvalidInputError, match="the first user must be an admin"):
        local.accounts.add_user("ana@example.com", "operator", [tenant.id])
    assert store.list_users() == [], "nothing was written"
    local.accounts.add_user("boss@example.com", "admin")
    local.accounts.add_user("ana@example.com", "operator", [tenant.id])
    assert sorted(u.email for u in store.list_users()) == ["ana@example.com", "boss@example.com"]
    store.close()


def test_a_made_password_is_one_time_until_its_user_chooses_their_own(store: Store, tenant: Tenant) -> None:
    suffix = uuid4().hex[:6]
    admin = make_workspace(store)
    user, one_time = admin.accounts.add_user(f"ana{suffix}@example.com", "operator", [tenant.id])
    assert one_time is not None
    assert store.get_user(user.id).must_change_password  # type: ignore[union-attr]
    ana = make_workspace(store, user.principal())
    ana.accounts.change_own_password(one_time, "a password of her own")
    assert not store.get_user(user.id).must_change_password  # type: ignore[union-attr]
    admin.accounts.reset_password(user.id)
    assert store.get_user(user.id).must_change_password, "a reset hands out a one-time password again"  # type: ignore[union-attr]
    chosen, _ = admin.accounts.add_user(
        f"vic{suffix}@example.com", "viewer", [tenant.id], password="typed by the adder"
    )
    assert not chosen.must_change_password


@pytest.mark.parametrize(
    ("email", "role", "tenants", "problem"),
    [
        ("not-an-email", "viewer", "own", "email"),
        ("a@example.com", "owner", "own", "role"),
        ("a@example.com", "operator", "none", "needs at least one tenant"),
        ("a@example.com", "viewer", "unknown", "unknown tenant"),
    ],
)
def test_bad_users_are_refused_with_the_reason(
    store: Store, tenant: Tenant, email: str, role: str, tenants: str, problem: str
) -> None:
    chosen = {"own": [tenant.id], "none": [], "unknown": [uuid4()]}[tenants]
    users = len(store.list_users())
    with pytest.raises(InvalidInputError, match=problem):
        make_workspace(store).accounts.add_user(email, role, chosen)
    assert len(store.list_users()) == users


def test_a_chosen_password_must_be_long_enough(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="at least 12 characters"):
        make_workspace(store).accounts.add_user(f"p{uuid4().hex[:6]}@example.com", "admin", password="short")


# -- prompt edits --------------------------------------------------------------------


def test_a_saved_prompt_changes_the_next_reply(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    workspace = make_workspace(store, clock=clock)
    assert whole_turn(workspace, tenant.id, "Hello").reply.startswith("Hello! I'm Kim")
    workspace.prompts.publish(tenant.id, "You are Robin, the weekend host.")
    assert whole_turn(workspace, tenant.id, "Hello").reply.startswith("Hello! I'm Robin, the weekend host.")


@pytest.mark.parametrize(
    ("prompt", "problem"),
    [
        ("   ", "prompt: String should have at least 1 character"),
        ("x" * (MAX_PROMPT_CHARS + 1), f"prompt: String should have at most {MAX_PROMPT_CHARS} characters"),
        ("bad\x00prompt", "prompt: must not contain NUL characters"),
    ],
)
def test_bad_prompts_are_refused_and_nothing_changes(
    store: Store, tenant: Tenant, prompt: str, problem: str
) -> None:
    audit = audit_rows(store)
    with pytest.raises(InvalidInputError, match=problem):
        make_workspace(store).prompts.publish(tenant.id, prompt)
    assert [v.version for v in store.list_prompt_versions(tenant.id)] == [1]
    assert audit_rows(store) == audit


def test_every_version_is_kept_with_its_author_and_a_rollback_is_a_new_version(
    store: Store, tenant: Tenant
) -> None:
    ana = make_workspace(store, user(UserRole.OPERATOR, tenant))
    ana.prompts.publish(tenant.id, "Second")
    ana.prompts.publish(tenant.id, "Third")
    rolled = make_workspace(store).prompts.roll_back(tenant.id, 1)
    assert rolled.version.version == 4
    history = [(v.version, v.prompt, v.author) for v in store.list_prompt_versions(tenant.id)]
    assert history == [
        (4, tenant.system_prompt, "cli:tests"),
        (3, "Third", "operator@example.com"),
        (2, "Second", "operator@example.com"),
        (1, tenant.system_prompt, "created"),
    ]
    with pytest.raises(NotFoundError, match="version 9 does not exist"):
        ana.prompts.roll_back(tenant.id, 9)


def test_editing_an_unknown_tenant_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        make_workspace(store).prompts.publish(uuid4(), "Hello")


def test_tenants_are_added_with_a_validated_name_and_prompt(store: Store) -> None:
    admin = make_workspace(store)
    name = f"Alpine Walks {uuid4().hex[:6]}"
    tenant = admin.create_tenant(f"  {name} ", "You are Heidi.")
    assert tenant.name == name
    assert store.list_prompt_versions(tenant.id)[0].prompt == "You are Heidi."
    with pytest.raises(InvalidInputError, match="already exists"):
        admin.create_tenant(name.lower(), "Another")
    with pytest.raises(InvalidInputError, match="name: String should have at least 1 character"):
        admin.create_tenant("   ", "prompt")


# -- corrections ----------------------------------------------------------------------


def test_an_operator_cancels_and_moves_what_the_agent_booked_and_the_customer_is_told(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    from agent_core.events.bus import EventBus
    from agent_core.events.listeners import default_listeners

    bus = EventBus(store, default_listeners(store))
    bus.start()
    workspace = make_workspace(store, user(UserRole.OPERATOR, tenant), clock=clock, bus=bus)
    result = whole_turn(workspace, tenant.id, "Book a tour for Ana Silva on 2027-01-10 in Porto")
    booking = UUID(str((result.tool_calls[0].result or {})["booking_id"]))
    moved = workspace.corrections.reschedule_tour(tenant.id, booking, "2027-01-17")
    assert (moved.tour_date.isoformat(), moved.location) == ("2027-01-17", "Porto")
    cancelled = workspace.corrections.cancel_tour(tenant.id, booking)
    assert cancelled.status is TourStatus.CANCELLED
    bus.close()
    history = [
        (c.kind.value, c.from_date.isoformat(), c.by.kind)
        for c in workspace.corrections.tour_history(tenant.id, booking)
    ]
    assert history == [("rescheduled", "2027-01-10", "operator"), ("cancelled", "2027-01-17", "operator")]
    templates = sorted(
        m.payload["template"] for m in store.events.outbox(tenant.id) if m.kind == "booking_confirmation"
    )
    assert templates == [
        "booking_cancelled",
        "booking_rescheduled",
    ]  # the booking itself went through the agent's recorder
    with pytest.raises(ConflictError, match="cancelled already"):
        workspace.corrections.cancel_tour(tenant.id, booking)


@pytest.mark.parametrize(
    ("new_date", "refusal", "problem"),
    [
        ("2025-01-01", InvalidInputError, "is in the past"),
        ("not a date", InvalidInputError, "new_date"),
        ("2027-01-12", InvalidInputError, "already has a booking"),
        ("2027-01-10", ConflictError, "already on that day at that place"),
    ],
)
def test_a_bad_move_is_refused_and_changes_nothing(
    store: Store,
    tenant: Tenant,
    clock: FixedClock,
    new_date: str,
    refusal: type[AgentCoreError],
    problem: str,
) -> None:
    workspace = make_workspace(store, clock=clock)
    first = whole_turn(workspace, tenant.id, "Book a tour for Kai Berg on 2027-01-10 in Bergen")
    whole_turn(workspace, tenant.id, "Book a tour for Kai Berg on 2027-01-12 in Bergen")
    booking = UUID(str((first.tool_calls[0].result or {})["booking_id"]))
    audit = audit_rows(store)
    with pytest.raises(refusal, match=problem):
        workspace.corrections.reschedule_tour(tenant.id, booking, new_date)
    tour = store.get_tour(tenant.id, booking)
    assert tour is not None
    assert tour.tour_date.isoformat() == "2027-01-10"
    assert audit_rows(store) == audit
    assert store.list_tour_changes(tenant.id, booking) == []


def test_an_operator_repairs_a_contact_the_agent_got_wrong_and_the_crm_learns_of_it(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    from agent_core.events.bus import EventBus
    from agent_core.events.listeners import default_listeners

    bus = EventBus(store, default_listeners(store))
    bus.start()
    operator = make_workspace(store, user(UserRole.OPERATOR, tenant), clock=clock, bus=bus)
    wrong = whole_turn(
        operator, tenant.id, "Update contact info for Change Bob Lee: phone is +44 20 7946 0958"
    )
    contact_id = UUID(str((wrong.tool_calls[0].result or {})["contact_id"]))
    fixed = operator.corrections.correct_contact(
        tenant.id, contact_id, " Bob   Lee ", "bob@example.com", "+44 20 7946 0958"
    )
    # A valid number is kept in E.164, however it was typed.
    assert (fixed.name, fixed.email, fixed.phone) == ("Bob Lee", "bob@example.com", "+442079460958")
    bus.close()
    crm = [m.payload for m in store.events.outbox(tenant.id) if m.kind == "crm_sync"]
    assert any(p["name"] == "Bob Lee" and p["email"] == "bob@example.com" for p in crm)
    entry = store.list_audit(AuditQuery(frozenset({tenant.id}), actions=("contact.corrected",)))[0]
    assert ((entry.before or {})["name"], (entry.after or {})["name"]) == ("Change Bob Lee", "Bob Lee")
    with pytest.raises(InvalidInputError, match="email"):
        operator.corrections.correct_contact(tenant.id, contact_id, "Bob Lee", "not-an-email", None)


def test_two_contacts_of_one_person_are_merged_into_one(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    operator = make_workspace(store, user(UserRole.OPERATOR, tenant), clock=clock)
    first = whole_turn(operator, tenant.id, "Update contact info for Sarah Jones: email is sarah@example.com")
    second = whole_turn(operator, tenant.id, "Update contact info for Sara Jones: phone is +1-555-0123")
    keep = UUID(str((first.tool_calls[0].result or {})["contact_id"]))
    drop = UUID(str((second.tool_calls[0].result or {})["contact_id"]))
    with pytest.raises(InvalidInputError, match="merge the two instead"):
        operator.corrections.correct_contact(tenant.id, drop, "Sarah Jones", None, "+1-555-0123")
    merged = operator.corrections.merge_contacts(tenant.id, keep, drop)
    assert (merged.name, merged.email, merged.phone) == ("Sarah Jones", "sarah@example.com", "+1-555-0123")
    assert [c.name for c in store.list_contacts(tenant.id).rows] == ["Sarah Jones"]
    with pytest.raises(NotFoundError):
        operator.corrections.merge_contacts(tenant.id, keep, drop)


def test_a_note_is_deleted_with_its_text_kept_in_the_audit_log(
    store: Store, tenant: Tenant, clock: FixedClock
) -> None:
    operator = make_workspace(store, user(UserRole.OPERATOR, tenant), clock=clock)
    noted = whole_turn(operator, tenant.id, "Please note that the caller is rude")
    (note,) = store.list_notes(tenant.id).rows
    assert noted.tool_calls[0].result is not None
    operator.corrections.delete_note(tenant.id, note.id)
    assert store.list_notes(tenant.id).total == 0
    entry = store.list_audit(AuditQuery(frozenset({tenant.id}), actions=("note.deleted",)))[0]
    assert entry.before == {"content": "The caller is rude"}
    with pytest.raises(NotFoundError):
        operator.corrections.delete_note(tenant.id, note.id)


def test_a_failed_turn_is_retried_without_a_second_message_or_a_second_booking(
    store: Store, tenant: Tenant
) -> None:
    from collections.abc import Sequence

    from agent_core.agent.steps import TurnStarted
    from agent_core.domain import ChatMessage, ToolCallRequest, ToolSpec
    from agent_core.errors import ModelUnavailableError
    from agent_core.llm.scripted import ScriptedModel, ScriptedReply
    from agent_core.store.records import RecordQuery

    down = [True]
    booking = '{"name": "Ana Silva", "date": "2027-01-10", "location": "Porto"}'

    def respond(messages: Sequence[ChatMessage], _: Sequence[ToolSpec]) -> ScriptedReply:
        if messages[-1].role == "user":
            return ScriptedReply(tool_calls=(ToolCallRequest("call_1", "book_tour", booking),))
        if down[0]:
            raise ModelUnavailableError("the model server did not answer")
        return ScriptedReply("Booked Ana Silva for Porto.")

    workspace = make_workspace(store, model=ScriptedModel(respond))
    seen: list[object] = []
    steps = turn_steps(workspace, tenant.id, "Book Ana Silva in Porto on 2027-01-10")
    with pytest.raises(ModelUnavailableError):
        seen.extend(steps)
    started = seen[0]
    assert isinstance(started, TurnStarted)
    conversation = started.conversation_id
    down[0] = False
    result = None
    for step in workspace.stream(workspace.retry_request(tenant.id, conversation)):
        result = getattr(step, "result", result)
    assert result is not None
    assert result.reply == "Booked Ana Silva for Porto."
    messages = store.list_messages(tenant.id, conversation)
    assert [m.role for m in messages].count("user") == 1
    assert store.list_tours(tenant.id, RecordQuery()).total == 1
    assert [t.status for t in workspace.turns(tenant.id, conversation)] == ["failed", "succeeded"]
    with pytest.raises(ConflictError, match="only the last message"):
        list(workspace.stream(workspace.retry_request(tenant.id, conversation)))


def test_a_turn_records_its_channel_and_who_started_it(store: Store, tenant: Tenant) -> None:
    from agent_core.domain import Channel
    from agent_core.store.conversation_log import ConversationQuery
    from agent_core.workspace import cli_principal

    whole_turn(make_workspace(store, user(UserRole.OPERATOR, tenant)), tenant.id, "Hello from the dashboard")
    whole_turn(make_workspace(store, cli_principal("ops")), tenant.id, "Hello from the shell")
    rows = store.search_conversations(tenant.id, ConversationQuery()).rows
    assert {(r.channel, r.started_by) for r in rows} == {
        (Channel.DASHBOARD, "operator@example.com"),
        (Channel.CLI, "cli:ops"),
    }
