"""Safe prompt changes: drafts stay off the live agent, the publish gate runs the tenant's
scenarios, blocks a failing prompt, and only an admin with a reason gets past it (audited)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from agent_core.access.models import AuditAction, AuditQuery, Principal, PrincipalKind, UserRole
from agent_core.clock import utcnow
from agent_core.domain import StoredScenario, Tenant
from agent_core.errors import (
    ConflictError,
    ForbiddenError,
    GateBlockedError,
    InvalidInputError,
    NotFoundError,
)
from agent_core.store.base import Store
from agent_core.workspace import Workspace
from tests.conftest import TEST_ADMIN, audit_entry, make_workspace, whole_turn

GREETS_KIM = {"name": "Greets as Kim", "steps": [{"say": "Hello", "expect": {"reply_contains": ["Kim"]}}]}


def operator(tenant: Tenant) -> Principal:
    return Principal(
        PrincipalKind.USER, "ops@example.com", UserRole.OPERATOR, frozenset({tenant.id}), uuid4()
    )


@pytest.fixture
def ops(store: Store, tenant: Tenant) -> Workspace:
    workspace = make_workspace(store, operator(tenant))
    workspace.scenarios.save(tenant.id, GREETS_KIM)
    return workspace


def live_prompt(store: Store, tenant: Tenant) -> str:
    current = store.get_tenant(tenant.id)
    assert current is not None
    return current.system_prompt


def test_a_draft_leaves_the_live_agent_alone_until_published(
    store: Store, tenant: Tenant, ops: Workspace
) -> None:
    draft = ops.prompts.save_draft(tenant.id, "You are Kim, the weekend host of Test Tours.")
    assert draft.base_version == 1
    assert live_prompt(store, tenant) == tenant.system_prompt
    assert "weekend" not in whole_turn(ops, tenant.id, "Hello").reply
    published = ops.prompts.publish_draft(tenant.id)
    assert published.run.passed
    assert (published.version.version, live_prompt(store, tenant)) == (2, draft.prompt)
    assert ops.prompts.draft(tenant.id) is None
    assert "weekend" in whole_turn(ops, tenant.id, "Hello").reply


def test_a_draft_equal_to_the_live_prompt_or_empty_is_refused(tenant: Tenant, ops: Workspace) -> None:
    with pytest.raises(ConflictError, match="same as the live prompt"):
        ops.prompts.save_draft(tenant.id, f"  {tenant.system_prompt} ")
    with pytest.raises(InvalidInputError, match="prompt"):
        ops.prompts.save_draft(tenant.id, "   ")
    with pytest.raises(ConflictError, match="no draft"):
        ops.prompts.publish_draft(tenant.id)
    assert ops.prompts.draft(tenant.id) is None


def test_a_failing_draft_is_blocked_and_the_run_is_kept(store: Store, tenant: Tenant, ops: Workspace) -> None:
    ops.prompts.save_draft(tenant.id, "You are Max, the new host.")
    with pytest.raises(GateBlockedError, match="0 of 1 scenario passed against the draft") as blocked:
        ops.prompts.publish_draft(tenant.id)
    assert live_prompt(store, tenant) == tenant.system_prompt
    assert ops.prompts.draft(tenant.id) is not None
    [kept] = ops.scenarios.runs(tenant.id)
    assert kept.id == blocked.value.run.id
    assert (kept.passed, kept.target, kept.started_by) == (False, "draft", "ops@example.com")
    failure = kept.report["results"][0]["attempts"][0]["steps"][0]
    assert "Max" in failure["reply"]
    assert not any(c["passed"] for c in failure["checks"] if c["check"] == "reply contains 'Kim'")


def test_only_an_admin_with_a_reason_publishes_past_a_failure_and_the_audit_says_why(
    store: Store, tenant: Tenant, ops: Workspace
) -> None:
    ops.prompts.save_draft(tenant.id, "You are Max, the new host.")
    with pytest.raises(ForbiddenError, match="admins only"):
        ops.prompts.publish_draft(tenant.id, override_reason="Kim left the company")
    admin = make_workspace(store, TEST_ADMIN)
    with pytest.raises(InvalidInputError, match="override"):
        admin.prompts.publish_draft(tenant.id, override_reason="ok")
    published = admin.prompts.publish_draft(tenant.id, override_reason="Kim left the company")
    assert published.overridden
    assert not published.run.passed
    assert live_prompt(store, tenant) == "You are Max, the new host."
    [entry] = store.list_audit(
        AuditQuery(frozenset({tenant.id}), actions=(AuditAction.PROMPT_PUBLISHED.value,), limit=5)
    )
    assert entry.actor == TEST_ADMIN.label
    assert entry.after is not None
    assert entry.after["override_reason"] == "Kim left the company"
    assert entry.after["run"] == str(published.run.id)
    assert entry.after["run_summary"] == "0 of 1 scenario passed"


def test_a_passing_publish_records_no_override_even_when_one_was_given(tenant: Tenant, store: Store) -> None:
    admin = make_workspace(store, TEST_ADMIN)
    admin.scenarios.save(tenant.id, GREETS_KIM)
    published = admin.prompts.publish(
        tenant.id, "You are Kim, always cheerful.", override_reason="just in case"
    )
    assert not published.overridden
    entry = store.list_audit(
        AuditQuery(frozenset({tenant.id}), actions=(AuditAction.PROMPT_PUBLISHED.value,))
    )[0]
    assert "override_reason" not in (entry.after or {})


def test_a_roll_back_goes_through_the_same_gate(store: Store, tenant: Tenant, ops: Workspace) -> None:
    admin = make_workspace(store, TEST_ADMIN)
    admin.prompts.publish(tenant.id, "You are Max.", override_reason="testing the roll back")
    admin.prompts.publish(tenant.id, "You are Kim again.")
    with pytest.raises(GateBlockedError, match="against the version 2"):
        ops.prompts.roll_back(tenant.id, 2)
    assert live_prompt(store, tenant) == "You are Kim again."
    rolled = ops.prompts.roll_back(tenant.id, 1)
    assert (rolled.version.version, rolled.run.target) == (4, "version 1")


def test_runs_name_what_they_tested(tenant: Tenant, ops: Workspace) -> None:
    assert ops.scenarios.run(tenant.id).target == "live (version 1)"
    ops.prompts.save_draft(tenant.id, "You are Kim, draft.")
    assert ops.scenarios.run(tenant.id, "draft").target == "draft"
    assert ops.scenarios.run(tenant.id, 1, repetitions=3).report["repetitions"] == 3
    with pytest.raises(NotFoundError, match="version 7 does not exist"):
        ops.scenarios.run(tenant.id, 7)
    with pytest.raises(InvalidInputError, match="repetitions"):
        ops.scenarios.run(tenant.id, repetitions=0)
    assert [r.target for r in ops.scenarios.runs(tenant.id)] == ["version 1", "draft", "live (version 1)"]


def test_a_viewer_reads_runs_but_cannot_run_or_edit(store: Store, tenant: Tenant, ops: Workspace) -> None:
    ops.scenarios.run(tenant.id)
    viewer = make_workspace(
        store,
        Principal(PrincipalKind.USER, "v@example.com", UserRole.VIEWER, frozenset({tenant.id}), uuid4()),
    )
    assert len(viewer.scenarios.runs(tenant.id)) == 1
    for change in (
        lambda: viewer.scenarios.run(tenant.id),
        lambda: viewer.scenarios.save(tenant.id, GREETS_KIM),
        lambda: viewer.prompts.save_draft(tenant.id, "You are Eve."),
    ):
        with pytest.raises(ForbiddenError):
            change()


def test_a_scenario_that_no_longer_loads_fails_the_run_instead_of_vanishing(
    store: Store, tenant: Tenant, ops: Workspace
) -> None:
    broken = StoredScenario(uuid4(), tenant.id, "Broken", {"steps": []}, "someone", utcnow())
    store.save_scenarios(tenant.id, [broken], audit=audit_entry(AuditAction.SCENARIOS_SAVED))
    run = ops.scenarios.run(tenant.id)
    assert (run.passed, run.summary) == (False, "1 of 2 scenarios passed")
    assert ops.scenarios.suite(tenant.id).unreadable[broken.id].startswith("invalid scenario")


def test_names_are_unique_per_tenant_ignoring_case(
    tenant: Tenant, other_tenant: Tenant, store: Store
) -> None:
    ops = make_workspace(store, TEST_ADMIN)
    first = ops.scenarios.save(tenant.id, GREETS_KIM)
    with pytest.raises(ConflictError, match="already called"):
        ops.scenarios.save(tenant.id, {**GREETS_KIM, "name": "GREETS AS KIM"})
    ops.scenarios.save(other_tenant.id, GREETS_KIM)
    ops.scenarios.save(tenant.id, {**GREETS_KIM, "description": "edited"}, first.id)
    assert [s.spec.get("description") for s in store.list_scenarios(tenant.id)] == ["edited"]


def test_export_then_import_copies_a_suite_and_a_bad_file_writes_nothing(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    admin = make_workspace(store, TEST_ADMIN)
    admin.scenarios.save(tenant.id, GREETS_KIM)
    admin.scenarios.save(tenant.id, {"name": "Books", "steps": [{"say": "Book John on {today+3} in Rome"}]})
    exported = admin.scenarios.export_file(tenant.id)
    assert "prompt: You are Kim" in exported
    assert admin.scenarios.import_file(other_tenant.id, exported) == (2, 0)
    assert admin.scenarios.import_file(other_tenant.id, exported) == (0, 2)
    assert [s.name for s in store.list_scenarios(other_tenant.id)] == ["Books", "Greets as Kim"]
    with pytest.raises(InvalidInputError, match="steps"):
        admin.scenarios.import_file(tenant.id, "- {name: New, steps: [{say: hi}]}\n- {name: Bad, steps: []}")
    with pytest.raises(InvalidInputError, match="no scenarios"):
        admin.scenarios.import_file(tenant.id, "")
    assert len(store.list_scenarios(tenant.id)) == 2


def test_a_real_conversation_becomes_a_scenario_that_passes(
    store: Store, tenant: Tenant, ops: Workspace
) -> None:
    booked = whole_turn(ops, tenant.id, "Book a tour for Ana Silva on 2027-01-10 in Porto")
    whole_turn(ops, tenant.id, "Thanks!", booked.conversation_id)
    saved = ops.scenarios.from_conversation(tenant.id, booked.conversation_id, "Ana books Porto")
    steps = saved.spec["steps"]
    assert steps[0]["say"].startswith("Book a tour for Ana Silva on {today+")
    book = steps[0]["expect"]["tools"][0]
    assert (book["name"], book["arguments"]["location"]) == ("book_tour", {"equals": "Porto"})
    assert "days_from_today" in book["arguments"]["date"]
    assert steps[1]["expect"] == {"no_tools": True}
    run = ops.scenarios.run(tenant.id)
    assert run.passed, run.report


def test_scenarios_of_another_tenant_cannot_be_reached(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = make_workspace(store, TEST_ADMIN).scenarios.save(other_tenant.id, GREETS_KIM)
    ops = make_workspace(store, operator(tenant))
    for attempt in (
        lambda: ops.scenarios.suite(other_tenant.id),
        lambda: ops.scenarios.delete(other_tenant.id, theirs.id),
        lambda: ops.scenarios.get_run(other_tenant.id, UUID(int=0)),
        lambda: ops.scenarios.export_file(other_tenant.id),
    ):
        with pytest.raises(ForbiddenError):
            attempt()
    with pytest.raises(Exception, match="unknown scenario"):
        ops.scenarios.delete(tenant.id, theirs.id)


def test_a_model_that_is_down_blocks_the_publication_instead_of_passing_it(
    store: Store, tenant: Tenant
) -> None:
    from collections.abc import Sequence

    from agent_core.domain import ChatMessage, ToolSpec
    from agent_core.errors import ModelUnavailableError
    from agent_core.llm.scripted import ScriptedModel, ScriptedReply

    def down(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ScriptedReply:
        raise ModelUnavailableError("the model server did not answer")

    workspace = make_workspace(store, operator(tenant), model=ScriptedModel(down))
    workspace.scenarios.save(tenant.id, GREETS_KIM)
    workspace.prompts.save_draft(tenant.id, "You are Kim, the calm host.")
    with pytest.raises(GateBlockedError) as blocked:
        workspace.prompts.publish_draft(tenant.id)
    step = blocked.value.run.report["results"][0]["attempts"][0]["steps"][0]
    assert step["error"] == "the model server did not answer"
    assert live_prompt(store, tenant) == tenant.system_prompt


def test_a_tenant_keeps_a_bounded_number_of_scenarios(
    store: Store, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent_core.prompt_changes

    monkeypatch.setattr(agent_core.prompt_changes, "MAX_SCENARIOS", 2)
    admin = make_workspace(store, TEST_ADMIN)
    admin.scenarios.save(tenant.id, GREETS_KIM)
    with pytest.raises(ConflictError, match="at most 2 scenarios"):
        admin.scenarios.import_file(
            tenant.id, "- {name: A, steps: [{say: a}]}\n- {name: B, steps: [{say: b}]}"
        )
    admin.scenarios.save(tenant.id, {"name": "A", "steps": [{"say": "a"}]})
    with pytest.raises(ConflictError, match="at most 2 scenarios"):
        admin.scenarios.save(tenant.id, {"name": "B", "steps": [{"say": "b"}]})
    assert admin.scenarios.import_file(tenant.id, "- {name: A, steps: [{say: again}]}") == (0, 1)
