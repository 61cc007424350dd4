"""Running a suite of scenarios against a prompt, each attempt in its own fresh sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, date

from agent_core.domain import Tenant
from agent_core.errors import AgentCoreError, InvalidInputError
from agent_core.scenarios.checks import check_turn
from agent_core.scenarios.results import AttemptResult, ScenarioResult, StepResult, SuiteReport
from agent_core.scenarios.sandbox import AgentParts, Sandbox
from agent_core.scenarios.spec import MAX_REPETITIONS, Scenario
from agent_core.tenant_settings import settings_from

Progress = Callable[[int, int, str], None]
"""Called before each attempt with (attempts done, attempts in all, scenario name)."""


class ScenarioRunner:
    """Replays scenarios through the real agent loop with the configured model."""

    def __init__(self, parts: AgentParts) -> None:
        self._parts = parts

    @property
    def parts(self) -> AgentParts:
        """The model, tools, clock and limits every sandbox of this runner uses."""
        return self._parts

    @property
    def model(self) -> str:
        """The model the scenarios run against."""
        return self._parts.model.name

    def run(
        self,
        tenant: Tenant,
        prompt: str,
        scenarios: Sequence[Scenario],
        *,
        target: str,
        repetitions: int = 1,
        on_progress: Progress | None = None,
    ) -> SuiteReport:
        """Run every scenario `repetitions` times against `prompt` and report each attempt.

        Nothing real is written: every attempt runs in a sandbox of its own, so attempts
        neither see each other's bookings nor the tenant's."""
        if not 1 <= repetitions <= MAX_REPETITIONS:
            raise InvalidInputError(f"repetitions must be between 1 and {MAX_REPETITIONS}")
        started = time.perf_counter()
        today = self.today(tenant)
        total = len(scenarios) * repetitions
        results = []
        for index, scenario in enumerate(scenarios):
            attempts = []
            for repetition in range(repetitions):
                if on_progress is not None:
                    on_progress(index * repetitions + repetition, total, scenario.name)
                attempts.append(self._attempt(tenant, prompt, scenario))
            results.append(ScenarioResult(name=scenario.name, attempts=attempts))
        if on_progress is not None:
            on_progress(total, total, "")
        return SuiteReport(
            target=target,
            prompt=prompt,
            model=self.model,
            repetitions=repetitions,
            today=today,
            results=results,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def today(self, tenant: Tenant) -> date:
        """The tenant's date now, which scenario dates are relative to."""
        now = self._parts.clock.now()
        return settings_from(tenant.settings).today(now, now.tzinfo or UTC)

    def _attempt(self, tenant: Tenant, prompt: str, scenario: Scenario) -> AttemptResult:
        sandbox = Sandbox(tenant, prompt, self._parts)
        steps: list[StepResult] = []
        try:
            for step in scenario.steps:
                # Each message's own day: a run that crosses midnight reads dates as a caller would.
                today = self.today(tenant)
                message = step.message(today)
                try:
                    result = sandbox.say(message)
                except AgentCoreError as exc:
                    steps.append(StepResult(said=message, error=str(exc)))
                    break
                steps.append(StepResult.of(message, result, check_turn(step.expect, result, today)))
        finally:
            sandbox.close()
        return AttemptResult(steps=steps)
