"""Changing a tenant's prompt safely: drafts, scenarios, runs, and the publish gate.

An edit is a draft until someone publishes it. Publishing (and rolling back) first runs the
tenant's scenarios against the text about to go live, keeps the run, and goes on only when
every scenario passed — or when an admin overrides the failure with a reason, which the
audit entry of the publication carries. Two facades of the `Workspace`
(`workspace.scenarios`, `workspace.prompts`), composed with its guard: every method checks
the acting principal first and every change is audited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from agent_core.access.forms import OverrideReason, PromptEdit, parse_form
from agent_core.access.models import Action, AuditAction
from agent_core.clock import utcnow
from agent_core.domain import (
    ChatMessage,
    PromptDraft,
    PromptVersion,
    ScenarioRunRecord,
    StoredScenario,
    Tenant,
    ToolCallRecord,
    ToolCallStatus,
)
from agent_core.errors import (
    ConflictError,
    GateBlockedError,
    InvalidInputError,
    NotFoundError,
)
from agent_core.guard import Guard
from agent_core.ids import new_id
from agent_core.prompt_cache import PromptCache
from agent_core.scenarios.results import AttemptResult, ScenarioResult, StepResult, SuiteReport
from agent_core.scenarios.runner import Progress, ScenarioRunner
from agent_core.scenarios.sandbox import AgentParts, Sandbox
from agent_core.scenarios.spec import (
    MAX_SCENARIOS,
    MAX_STEPS,
    Scenario,
    ScenarioFile,
    SuiteTenant,
    dump_scenario_file,
    parse_scenario,
    parse_scenario_file,
    scenario_json,
)
from agent_core.store.base import Store
from agent_core.store.refusals import PROMPT_CHANGED, UNKNOWN_SCENARIO

_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
LIVE = "live"
DRAFT = "draft"


@dataclass(frozen=True, slots=True)
class StoredSuite:
    """A tenant's scenarios as stored, each parsed (or why it cannot be)."""

    stored: list[StoredScenario]
    parsed: dict[UUID, Scenario]
    unreadable: dict[UUID, str]


@dataclass(frozen=True, slots=True)
class Publication:
    """A prompt that went live, with the run that let it through."""

    version: PromptVersion
    run: ScenarioRunRecord
    overridden: bool


class Scenarios:
    """A tenant's scenarios: what the agent must do with what a caller says, kept, imported,
    exported, and run in sandboxes against a prompt."""

    def __init__(self, guard: Guard, store: Store, runner: ScenarioRunner) -> None:
        self._guard = guard
        self._store = store
        self._runner = runner

    @property
    def parts(self) -> AgentParts:
        """What a sandboxed turn runs with: the agent's model, tools and limits."""
        return self._runner.parts

    # -- scenarios --------------------------------------------------------------------

    def suite(self, tenant_id: UUID) -> StoredSuite:
        """The tenant's scenarios, parsed; one that no longer parses is reported, not hidden."""
        self._guard.require(Action.READ, tenant_id)
        stored = self._store.list_scenarios(tenant_id)
        parsed: dict[UUID, Scenario] = {}
        unreadable: dict[UUID, str] = {}
        for row in stored:
            try:
                parsed[row.id] = parse_scenario({**row.spec, "name": row.name})
            except InvalidInputError as exc:
                unreadable[row.id] = str(exc)
        return StoredSuite(stored, parsed, unreadable)

    def save(self, tenant_id: UUID, data: object, scenario_id: UUID | None = None) -> StoredScenario:
        """Validate and store one scenario (a new one, or `scenario_id` replaced)."""
        self._guard.require(Action.EDIT_PROMPT, tenant_id)
        scenario = parse_scenario(data)
        existing = {s.id: s for s in self._store.list_scenarios(tenant_id)}
        if scenario_id is not None and scenario_id not in existing:
            raise UNKNOWN_SCENARIO(scenario_id)
        clash = next(
            (
                s
                for s in existing.values()
                if s.name.casefold() == scenario.name.casefold() and s.id != scenario_id
            ),
            None,
        )
        if clash is not None:
            raise ConflictError(f"another scenario is already called {clash.name!r}", "name_taken")
        row = self._stored(tenant_id, scenario, scenario_id or new_id())
        _check_room(len(existing), 0 if scenario_id else 1)
        self._save(tenant_id, [row], created=0 if scenario_id else 1)
        return row

    def delete(self, tenant_id: UUID, scenario_id: UUID) -> None:
        """Delete one scenario of the tenant."""
        self._guard.require(Action.EDIT_PROMPT, tenant_id)
        name = next((s.name for s in self._store.list_scenarios(tenant_id) if s.id == scenario_id), None)
        if name is None:
            raise UNKNOWN_SCENARIO(scenario_id)
        audit = self._guard.audit_entry(
            AuditAction.SCENARIO_DELETED, f"scenario {name}", tenant_id=tenant_id, before={"name": name}
        )
        self._store.delete_scenario(tenant_id, scenario_id, audit=audit)

    def import_file(self, tenant_id: UUID, text: str) -> tuple[int, int]:
        """Store every scenario of a YAML suite, all or none; one with the name of an
        existing scenario replaces it. Returns (added, replaced)."""
        self._guard.require(Action.EDIT_PROMPT, tenant_id)
        suite = parse_scenario_file(text)
        if not suite.scenarios:
            raise InvalidInputError("the file holds no scenarios")
        by_name = {s.name.casefold(): s.id for s in self._store.list_scenarios(tenant_id)}
        rows = [self._stored(tenant_id, s, by_name.get(s.name.casefold(), new_id())) for s in suite.scenarios]
        replaced = sum(s.name.casefold() in by_name for s in suite.scenarios)
        _check_room(len(by_name), len(rows) - replaced)
        self._save(tenant_id, rows, created=len(rows) - replaced)
        return len(rows) - replaced, replaced

    def export_file(self, tenant_id: UUID) -> str:
        """The tenant's suite as YAML, with its live prompt and settings, for review, another
        tenant, or pytest (which runs it in a sandbox)."""
        tenant = self._guard.tenant(tenant_id)
        suite = self.suite(tenant_id)
        return dump_scenario_file(
            ScenarioFile(
                tenant=SuiteTenant(name=tenant.name, settings=tenant.settings),
                prompt=tenant.system_prompt,
                scenarios=[suite.parsed[s.id] for s in suite.stored if s.id in suite.parsed],
            )
        )

    def from_conversation(self, tenant_id: UUID, conversation_id: UUID, name: str) -> StoredScenario:
        """A scenario that replays a real conversation's messages and expects the tool calls
        that succeeded in it. ISO dates the caller typed become `{today+N}` (still N days
        ahead whenever it runs); other dates are expected N days from today as well."""
        self._guard.require(Action.READ, tenant_id)
        messages = self._store.list_messages(tenant_id, conversation_id)
        if not messages:
            raise NotFoundError(f"unknown conversation {conversation_id}")
        records = {r.call_id: r for r in self._store.list_tool_calls(tenant_id, conversation_id)}
        today = self._runner.today(self._guard.tenant(tenant_id))
        steps = _steps_of(messages, records, today)
        if not steps:
            raise InvalidInputError("the conversation has no message from the caller to replay")
        return self.save(
            tenant_id,
            {
                "name": name,
                "description": f"From conversation {conversation_id}"
                + (f" (its first {MAX_STEPS} of {len(steps)} messages)." if len(steps) > MAX_STEPS else "."),
                "steps": steps[:MAX_STEPS],
            },
        )

    def _stored(self, tenant_id: UUID, scenario: Scenario, scenario_id: UUID) -> StoredScenario:
        spec = scenario_json(scenario)
        spec.pop("name", None)
        return StoredScenario(
            scenario_id, tenant_id, scenario.name, spec, self._guard.principal.label, utcnow()
        )

    def _save(self, tenant_id: UUID, rows: Sequence[StoredScenario], *, created: int) -> None:
        audit = self._guard.audit_entry(
            AuditAction.SCENARIOS_SAVED,
            "scenarios",
            tenant_id=tenant_id,
            after={"names": [r.name for r in rows], "added": created, "replaced": len(rows) - created},
        )
        self._store.save_scenarios(tenant_id, rows, audit=audit)

    # -- runs ------------------------------------------------------------------------

    def run(
        self,
        tenant_id: UUID,
        target: str | int = LIVE,
        *,
        repetitions: int = 1,
        on_progress: Progress | None = None,
    ) -> ScenarioRunRecord:
        """Run the scenarios against the live prompt, the draft or a version number, in
        sandboxes, and keep the run."""
        tenant = self._guard.tenant(tenant_id, Action.EDIT_PROMPT)
        if target == DRAFT:
            draft = self._store.get_prompt_draft(tenant_id)
            if draft is None:
                raise ConflictError("there is no draft; save one first", "no_draft")
            prompt, label = draft.prompt, DRAFT
        elif target == LIVE:
            versions = self._store.list_prompt_versions(tenant_id)
            prompt = tenant.system_prompt
            label = f"live (version {versions[0].version})" if versions else LIVE
        else:
            number = int(target)
            earlier = next(
                (v for v in self._store.list_prompt_versions(tenant_id) if v.version == number), None
            )
            if earlier is None:
                raise NotFoundError(f"version {number} does not exist for this tenant")
            prompt, label = earlier.prompt, f"version {number}"
        return self.run_suite(tenant, prompt, label, repetitions, on_progress)

    def runs(self, tenant_id: UUID) -> list[ScenarioRunRecord]:
        """The tenant's latest runs, newest first."""
        self._guard.require(Action.READ, tenant_id)
        return self._store.list_scenario_runs(tenant_id)

    def get_run(self, tenant_id: UUID, run_id: UUID) -> ScenarioRunRecord:
        """One run with its full report."""
        self._guard.require(Action.READ, tenant_id)
        run = self._store.get_scenario_run(tenant_id, run_id)
        if run is None:
            raise NotFoundError(f"unknown run {run_id}")
        return run

    def run_suite(
        self, tenant: Tenant, prompt: str, target: str, repetitions: int, on_progress: Progress | None
    ) -> ScenarioRunRecord:
        """Run the suite against `prompt` in sandboxes and keep the run (the caller checked
        the principal: a run against the draft, or the publish gate)."""
        suite = self.suite(tenant.id)
        runnable = [suite.parsed[s.id] for s in suite.stored if s.id in suite.parsed]
        report = self._runner.run(
            tenant, prompt, runnable, target=target, repetitions=repetitions, on_progress=on_progress
        )
        broken = [
            ScenarioResult(
                name=s.name,
                attempts=[AttemptResult(steps=[StepResult(said="", error=suite.unreadable[s.id])])],
            )
            for s in suite.stored
            if s.id in suite.unreadable
        ]
        if broken:
            report = report.model_copy(update={"results": [*report.results, *broken]})
        run = record_of(report, tenant.id, self._guard.principal.label)
        self._store.save_scenario_run(run)
        return run


class PromptChanges:
    """A tenant's prompt: its versions, its draft, and the gate every publication passes."""

    def __init__(self, guard: Guard, store: Store, prompts: PromptCache, scenarios: Scenarios) -> None:
        self._guard = guard
        self._store = store
        self._prompts = prompts
        self._scenarios = scenarios

    # -- versions and drafts ---------------------------------------------------------

    def versions(self, tenant_id: UUID) -> list[PromptVersion]:
        """Every prompt version of a tenant the principal may read, newest first."""
        self._guard.require(Action.READ, tenant_id)
        return self._store.list_prompt_versions(tenant_id)

    def draft(self, tenant_id: UUID) -> PromptDraft | None:
        """The tenant's unpublished draft, or None."""
        self._guard.require(Action.READ, tenant_id)
        return self._store.get_prompt_draft(tenant_id)

    def save_draft(self, tenant_id: UUID, prompt: str) -> PromptDraft:
        """Keep `prompt` as the tenant's draft; the live prompt does not change."""
        current = self._guard.tenant(tenant_id, Action.EDIT_PROMPT)
        edit = parse_form(PromptEdit, "prompt", prompt=prompt)
        if edit.prompt == current.system_prompt.strip():
            raise ConflictError(
                "the draft is the same as the live prompt; change something first", "unchanged"
            )
        versions = self._store.list_prompt_versions(tenant_id)
        draft = PromptDraft(
            tenant_id,
            edit.prompt,
            versions[0].version if versions else 0,
            self._guard.principal.label,
            utcnow(),
        )
        before = self._store.get_prompt_draft(tenant_id)
        audit = self._guard.audit_entry(
            AuditAction.PROMPT_DRAFT_SAVED,
            "prompt draft",
            tenant_id=tenant_id,
            before={"prompt": before.prompt} if before else None,
            after={"prompt": draft.prompt, "base_version": draft.base_version},
        )
        self._store.save_prompt_draft(draft, audit=audit)
        return draft

    def discard_draft(self, tenant_id: UUID) -> bool:
        """Drop the draft; False when there was none."""
        self._guard.require(Action.EDIT_PROMPT, tenant_id)
        draft = self._store.get_prompt_draft(tenant_id)
        if draft is None:
            return False
        audit = self._guard.audit_entry(
            AuditAction.PROMPT_DRAFT_DISCARDED,
            "prompt draft",
            tenant_id=tenant_id,
            before={"prompt": draft.prompt},
        )
        return self._store.discard_prompt_draft(tenant_id, audit=audit)

    def sandbox(self, tenant_id: UUID, prompt: str) -> Sandbox:
        """A sandboxed conversation with `prompt` in place of the live one: tools run on a
        throwaway copy of the tenant, so trying a draft writes nothing real."""
        tenant = self._guard.tenant(tenant_id, Action.EDIT_PROMPT)
        edit = parse_form(PromptEdit, "prompt", prompt=prompt)
        return Sandbox(tenant, edit.prompt, self._scenarios.parts)

    # -- publishing ------------------------------------------------------------------

    def publish_draft(
        self,
        tenant_id: UUID,
        *,
        override_reason: str | None = None,
        repetitions: int = 1,
        on_progress: Progress | None = None,
    ) -> Publication:
        """Run the scenarios against the draft and make it live if they pass (or an admin
        overrides); GateBlockedError otherwise, with the run kept."""
        self._guard.require(Action.EDIT_PROMPT, tenant_id)
        draft = self._store.get_prompt_draft(tenant_id)
        if draft is None:
            raise ConflictError("there is no draft to publish; save one first", "no_draft")
        return self.publish(
            tenant_id,
            draft.prompt,
            based_on=draft.base_version,
            target=DRAFT,
            override_reason=override_reason,
            repetitions=repetitions,
            on_progress=on_progress,
        )

    def roll_back(
        self,
        tenant_id: UUID,
        version: int,
        *,
        override_reason: str | None = None,
        on_progress: Progress | None = None,
    ) -> Publication:
        """Make an earlier version live again as a new version, through the same gate."""
        self._guard.require(Action.EDIT_PROMPT, tenant_id)
        earlier = next((v for v in self._store.list_prompt_versions(tenant_id) if v.version == version), None)
        if earlier is None:
            raise NotFoundError(f"version {version} does not exist for this tenant")
        return self.publish(
            tenant_id,
            earlier.prompt,
            target=f"version {version}",
            override_reason=override_reason,
            on_progress=on_progress,
            action=AuditAction.PROMPT_ROLLED_BACK,
            extra={"restored_version": version},
        )

    def publish(
        self,
        tenant_id: UUID,
        prompt: str,
        *,
        based_on: int | None = None,
        target: str = "new text",
        override_reason: str | None = None,
        repetitions: int = 1,
        on_progress: Progress | None = None,
        action: AuditAction = AuditAction.PROMPT_PUBLISHED,
        extra: dict[str, object] | None = None,
    ) -> Publication:
        """The gate: test `prompt`, then store it as the next live version and refresh every
        process's cache — or refuse (GateBlockedError) when a scenario failed and no admin
        gave a reason to publish anyway.

        It replaces the version live when it began (or `based_on`, the version a draft was
        written on): PromptChangedError, nothing published, when another went live since."""
        current = self._guard.tenant(tenant_id, Action.EDIT_PROMPT)
        edit = parse_form(PromptEdit, "prompt", prompt=prompt)
        versions = self._store.list_prompt_versions(tenant_id)
        live = versions[0].version if versions else 0
        if based_on is not None and based_on != live:
            raise PROMPT_CHANGED(live, based_on)
        reason = None
        if override_reason is not None:
            self._guard.require(Action.OVERRIDE_GATE, tenant_id)
            reason = parse_form(OverrideReason, "override", reason=override_reason).reason
        run = self._scenarios.run_suite(current, edit.prompt, target, repetitions, on_progress)
        if not run.passed and reason is None:
            raise GateBlockedError(
                f"Not published: {run.summary} against the {target}. Fix the prompt or the scenarios,"
                " or an admin can publish anyway with a reason",
                run,
            )
        after: dict[str, object] = {"prompt": edit.prompt, "run": str(run.id), "run_summary": run.summary}
        if reason is not None and not run.passed:
            after["override_reason"] = reason
        audit = self._guard.audit_entry(
            action,
            "prompt",
            tenant_id=tenant_id,
            before={"prompt": current.system_prompt},
            after={**after, **(extra or {})},
        )
        version = self._store.update_system_prompt(
            tenant_id, edit.prompt, self._guard.principal.label, audit=audit, replaces=live
        )
        self._prompts.invalidate(tenant_id, version.prompt)
        return Publication(version, run, overridden="override_reason" in after)


def _check_room(stored: int, added: int) -> None:
    """A tenant keeps at most MAX_SCENARIOS: every publication runs them all."""
    if stored + added > MAX_SCENARIOS:
        raise ConflictError(
            f"a tenant keeps at most {MAX_SCENARIOS} scenarios (it has {stored}); delete some first",
            "too_many_scenarios",
        )


def record_of(report: SuiteReport, tenant_id: UUID, started_by: str) -> ScenarioRunRecord:
    """A run as kept by the store."""
    return ScenarioRunRecord(
        new_id(),
        tenant_id,
        report.target,
        report.model,
        report.passed,
        report.summary,
        report.model_dump(mode="json"),
        started_by,
        utcnow(),
    )


def _steps_of(
    messages: list[ChatMessage], records: dict[str, ToolCallRecord], today: date
) -> list[dict[str, object]]:
    steps: list[dict[str, object]] = []
    for message in messages:
        if message.role == "user":
            steps.append({"say": message.content, "expect": {"tools": []}})
        elif message.role == "assistant" and steps:
            expected = steps[-1]["expect"]
            assert isinstance(expected, dict)
            for call in message.tool_calls:
                record = records.get(call.id)
                if record is not None and record.status is ToolCallStatus.SUCCEEDED:
                    expected["tools"].append(_expectation(record, steps[-1], today))
    for step in steps:
        expected = step["expect"]
        assert isinstance(expected, dict)
        if not expected["tools"]:
            step["expect"] = {"no_tools": True}
    return steps


def _expectation(record: ToolCallRecord, step: dict[str, object], today: date) -> dict[str, object]:
    arguments = record.arguments if isinstance(record.arguments, dict) else {}
    checks: dict[str, object] = {}
    for key, value in arguments.items():
        if value is None:
            continue
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            days = (date.fromisoformat(value) - today).days
            said = str(step["say"])
            if value in said:
                step["say"] = said.replace(value, f"{{today{days:+d}}}")
            checks[key] = {"days_from_today": days}
        else:
            checks[key] = {"equals": value}
    return {"name": record.name, "arguments": checks}
