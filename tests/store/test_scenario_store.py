"""Drafts, scenarios and runs: every backend keeps them per tenant, all or nothing, audited."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from agent_core.access.models import AuditAction, AuditEntry, AuditQuery
from agent_core.clock import utcnow
from agent_core.domain import PromptDraft, ScenarioRunRecord, StoredScenario, Tenant
from agent_core.errors import InvalidInputError, NotFoundError
from agent_core.store.base import Store
from agent_core.store.demo_data import DEMO_TENANT_ID, demo_scenario_rows
from tests.conftest import TEST_ADMIN, audit_entry


def scenario(tenant: Tenant, name: str) -> StoredScenario:
    return StoredScenario(uuid4(), tenant.id, name, {"steps": [{"say": f"Hi from {name}"}]}, "kim", utcnow())


def run(tenant: Tenant, *, passed: bool, minutes_ago: int = 0) -> ScenarioRunRecord:
    return ScenarioRunRecord(
        uuid4(),
        tenant.id,
        "draft",
        "demo",
        passed,
        "1 of 1 scenario passed" if passed else "0 of 1 scenarios passed",
        {"results": [{"name": "x"}]},
        "kim",
        utcnow() - timedelta(minutes=minutes_ago),
    )


def audit_actions(store: Store, tenant: Tenant) -> list[AuditAction]:
    return [e.action for e in store.list_audit(AuditQuery(tenants=frozenset({tenant.id})))]


def test_the_demo_tenants_ship_their_scenarios(store: Store) -> None:
    stored = {(s.id, s.name): s.spec for s in store.list_scenarios(DEMO_TENANT_ID)}
    seeded = {
        (r["id"], r["name"]): r["spec"] for r in demo_scenario_rows() if r["tenant_id"] == DEMO_TENANT_ID
    }
    assert stored == seeded


def test_a_draft_is_kept_per_tenant_and_replaced_by_the_next_save(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    assert store.get_prompt_draft(tenant.id) is None
    first = PromptDraft(tenant.id, "Draft one", 1, "kim", utcnow())
    store.save_prompt_draft(first, audit=audit_entry(AuditAction.PROMPT_DRAFT_SAVED, "prompt draft"))
    store.save_prompt_draft(
        PromptDraft(tenant.id, "Draft two", 1, "lee", utcnow()),
        audit=audit_entry(AuditAction.PROMPT_DRAFT_SAVED, "prompt draft"),
    )
    draft = store.get_prompt_draft(tenant.id)
    assert draft is not None
    assert (draft.prompt, draft.author, draft.base_version) == ("Draft two", "lee", 1)
    assert store.get_prompt_draft(other_tenant.id) is None


def test_publishing_the_drafts_text_consumes_the_draft_but_another_text_does_not(
    store: Store, tenant: Tenant
) -> None:
    audit = audit_entry(AuditAction.PROMPT_DRAFT_SAVED, "prompt draft")
    store.save_prompt_draft(PromptDraft(tenant.id, "The draft", 1, "kim", utcnow()), audit=audit)
    store.update_system_prompt(
        tenant.id, "Something else", "lee", audit=audit_entry(AuditAction.PROMPT_SAVED), replaces=1
    )
    assert store.get_prompt_draft(tenant.id) is not None
    store.update_system_prompt(
        tenant.id, "The draft", "kim", audit=audit_entry(AuditAction.PROMPT_PUBLISHED), replaces=2
    )
    assert store.get_prompt_draft(tenant.id) is None


def test_discarding_a_draft_is_audited_once(store: Store, tenant: Tenant) -> None:
    discard = audit_entry(AuditAction.PROMPT_DRAFT_DISCARDED, "prompt draft")
    assert store.discard_prompt_draft(tenant.id, audit=discard) is False
    store.save_prompt_draft(
        PromptDraft(tenant.id, "Draft", 1, "kim", utcnow()),
        audit=audit_entry(AuditAction.PROMPT_DRAFT_SAVED, "prompt draft"),
    )
    assert store.discard_prompt_draft(tenant.id, audit=discard) is True
    assert store.get_prompt_draft(tenant.id) is None


def test_scenarios_are_saved_together_listed_by_name_and_updated_by_id(store: Store, tenant: Tenant) -> None:
    b, a = scenario(tenant, "B books"), scenario(tenant, "A greets")
    store.save_scenarios(tenant.id, [b, a], audit=audit_entry(AuditAction.SCENARIOS_SAVED))
    assert [s.name for s in store.list_scenarios(tenant.id)] == ["A greets", "B books"]
    renamed = StoredScenario(b.id, tenant.id, "C books", {"steps": [{"say": "Book"}]}, "lee", utcnow())
    store.save_scenarios(tenant.id, [renamed], audit=audit_entry(AuditAction.SCENARIOS_SAVED))
    stored = {s.id: s for s in store.list_scenarios(tenant.id)}
    assert (stored[b.id].name, stored[b.id].spec, stored[b.id].author) == ("C books", renamed.spec, "lee")
    assert len(stored) == 2


def test_a_name_clash_saves_none_of_the_batch(store: Store, tenant: Tenant) -> None:
    saved = AuditEntry.by(TEST_ADMIN, AuditAction.SCENARIOS_SAVED, "scenarios", tenant_id=tenant.id)
    store.save_scenarios(tenant.id, [scenario(tenant, "Greets")], audit=saved)
    before = audit_actions(store, tenant)
    assert AuditAction.SCENARIOS_SAVED in before
    with pytest.raises(InvalidInputError):
        store.save_scenarios(
            tenant.id,
            [scenario(tenant, "New one"), scenario(tenant, "Greets")],
            audit=AuditEntry.by(TEST_ADMIN, AuditAction.SCENARIOS_SAVED, "scenarios", tenant_id=tenant.id),
        )
    assert [s.name for s in store.list_scenarios(tenant.id)] == ["Greets"]
    assert audit_actions(store, tenant) == before


def test_scenarios_of_another_tenant_are_neither_listed_nor_overwritten_nor_deleted(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = scenario(other_tenant, "Theirs")
    store.save_scenarios(other_tenant.id, [theirs], audit=audit_entry(AuditAction.SCENARIOS_SAVED))
    assert store.list_scenarios(tenant.id) == []
    hijack = StoredScenario(theirs.id, tenant.id, "Mine now", {"steps": [{"say": "x"}]}, "eve", utcnow())
    store.save_scenarios(tenant.id, [hijack], audit=audit_entry(AuditAction.SCENARIOS_SAVED))
    assert [s.name for s in store.list_scenarios(other_tenant.id)] == ["Theirs"]
    with pytest.raises(NotFoundError):
        store.delete_scenario(tenant.id, theirs.id, audit=audit_entry(AuditAction.SCENARIO_DELETED))
    assert [s.name for s in store.list_scenarios(other_tenant.id)] == ["Theirs"]


def test_deleting_a_scenario_is_audited(store: Store, tenant: Tenant) -> None:
    kept = scenario(tenant, "Greets")
    store.save_scenarios(tenant.id, [kept], audit=audit_entry(AuditAction.SCENARIOS_SAVED))
    store.delete_scenario(tenant.id, kept.id, audit=audit_entry(AuditAction.SCENARIO_DELETED))
    assert store.list_scenarios(tenant.id) == []
    with pytest.raises(NotFoundError):
        store.delete_scenario(tenant.id, kept.id, audit=audit_entry(AuditAction.SCENARIO_DELETED))


def test_runs_are_kept_newest_first_and_read_per_tenant(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    old, new = run(tenant, passed=False, minutes_ago=5), run(tenant, passed=True)
    store.save_scenario_run(old)
    store.save_scenario_run(new)
    runs = store.list_scenario_runs(tenant.id)
    assert [(r.id, r.passed) for r in runs] == [(new.id, True), (old.id, False)]
    assert runs[1].report == old.report
    assert store.get_scenario_run(tenant.id, old.id) == runs[1]
    assert store.get_scenario_run(other_tenant.id, old.id) is None
    assert store.list_scenario_runs(other_tenant.id) == []
    assert len(store.list_scenario_runs(tenant.id, limit=1)) == 1
