"""What a scenario run found, step by step: kept with the run and shown beside the transcript."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent_core.domain import ToolCallRecord, TurnResult


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class CheckResult(_Result):
    """One expectation and whether the turn met it."""

    check: str
    passed: bool
    detail: str = ""


class ToolCallSeen(_Result):
    """A tool call as the run saw it."""

    name: str
    arguments: dict[str, Any] | str
    status: str
    error: str | None = None
    duration_ms: float = 0.0

    @classmethod
    def of(cls, record: ToolCallRecord) -> ToolCallSeen:
        """From the agent's record of the call."""
        return cls(
            name=record.name,
            arguments=record.arguments,
            status=record.status.value,
            error=record.error,
            duration_ms=round(record.duration_ms, 2),
        )


class StepResult(_Result):
    """One message of an attempt: what was sent, what came back, and each check."""

    said: str
    reply: str = ""
    tool_calls: list[ToolCallSeen] = []
    checks: list[CheckResult] = []
    latency_ms: float = 0.0
    error: str | None = None
    """The turn failed (model down, deadline); the rest of the attempt did not run."""

    @property
    def passed(self) -> bool:
        """Every check held and the turn finished."""
        return self.error is None and all(c.passed for c in self.checks)

    @classmethod
    def of(cls, said: str, result: TurnResult, checks: list[CheckResult]) -> StepResult:
        """From a finished turn and its checks."""
        return cls(
            said=said,
            reply=result.reply,
            tool_calls=[ToolCallSeen.of(c) for c in result.tool_calls],
            checks=checks,
            latency_ms=round(result.latency_ms, 1),
        )


class AttemptResult(_Result):
    """One run of a scenario from its first message, in a fresh sandbox."""

    steps: list[StepResult]

    @property
    def passed(self) -> bool:
        """Every step passed."""
        return all(step.passed for step in self.steps)

    @property
    def failures(self) -> list[str]:
        """What went wrong, one line each."""
        lines = []
        for number, step in enumerate(self.steps, 1):
            if step.error is not None:
                lines.append(f"message {number}: the turn failed: {step.error}")
            lines += [f"message {number}: {c.check} — {c.detail}" for c in step.checks if not c.passed]
        return lines


class ScenarioResult(_Result):
    """Every attempt of one scenario."""

    name: str
    attempts: list[AttemptResult]

    @property
    def passes(self) -> int:
        """Attempts that passed."""
        return sum(a.passed for a in self.attempts)

    @property
    def pass_rate(self) -> float:
        """Share of attempts that passed (1.0 for a deterministic model that passes)."""
        return self.passes / len(self.attempts) if self.attempts else 0.0

    @property
    def passed(self) -> bool:
        """Every attempt passed: a model that gets it right only sometimes does not pass."""
        return bool(self.attempts) and self.passes == len(self.attempts)


class SuiteReport(_Result):
    """One run of a tenant's scenarios against one prompt."""

    target: str
    """What was tested: "draft", "live (version 4)", "version 2" or a file."""
    prompt: str
    model: str
    repetitions: int
    today: date
    results: list[ScenarioResult]
    duration_ms: float

    @property
    def passed(self) -> bool:
        """Every scenario passed every attempt (an empty suite passes: nothing to check)."""
        return all(r.passed for r in self.results)

    @property
    def summary(self) -> str:
        """ "3 of 4 scenarios passed", for lists and gate messages."""
        passed = sum(r.passed for r in self.results)
        total = len(self.results)
        if total == 0:
            return "no scenarios to run"
        noun = "scenario" if total == 1 else "scenarios"
        return f"{passed} of {total} {noun} passed"

    def lines(self) -> list[str]:
        """The report as text: one line per scenario, its failures indented under it."""
        out = [f"{self.target} · model {self.model} · {self.repetitions} run(s) each · today {self.today}"]
        for result in self.results:
            mark = "PASS" if result.passed else "FAIL"
            out.append(f"{mark}  {result.name} ({result.passes}/{len(result.attempts)})")
            failed = next((a for a in result.attempts if not a.passed), None)
            out += [f"      {line}" for line in (failed.failures if failed else [])]
        out.append(self.summary)
        return out
