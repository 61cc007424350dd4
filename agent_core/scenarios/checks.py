"""Checking one turn against a step's expectations."""

from __future__ import annotations

from datetime import date

from agent_core.domain import ToolCallRecord, ToolCallStatus, TurnResult
from agent_core.scenarios.results import CheckResult
from agent_core.scenarios.spec import StepExpectation, ToolExpectation


def check_turn(expect: StepExpectation, result: TurnResult, today: date) -> list[CheckResult]:
    """Every expectation of the step, then the unbacked-claim check every step gets."""
    calls = result.tool_calls
    checks = [_expected_call(tool, calls, today) for tool in expect.tools]
    names = [call.name for call in calls]
    if expect.no_tools:
        checks.append(
            CheckResult(
                check="calls no tool", passed=not calls, detail=f"called {', '.join(names)}" if calls else ""
            )
        )
    for name in expect.not_tools:
        checks.append(
            CheckResult(
                check=f"does not call {name}",
                passed=name not in names,
                detail="it did" if name in names else "",
            )
        )
    reply = result.reply.casefold()
    for text in expect.reply_contains:
        found = text.casefold() in reply
        checks.append(
            CheckResult(
                check=f"reply contains {text!r}",
                passed=found,
                detail="" if found else f"reply: “{result.reply}”",
            )
        )
    for text in expect.reply_excludes:
        found = text.casefold() in reply
        checks.append(
            CheckResult(
                check=f"reply does not contain {text!r}",
                passed=not found,
                detail=f"reply: “{result.reply}”" if found else "",
            )
        )
    if expect.max_latency_ms is not None:
        checks.append(
            CheckResult(
                check=f"answers within {expect.max_latency_ms} ms",
                passed=result.latency_ms <= expect.max_latency_ms,
                detail=f"took {result.latency_ms:.0f} ms",
            )
        )
    # The agent withholds such claims from the caller; the scenario still fails on them.
    claims = result.withheld_claims
    checks.append(
        CheckResult(check="claims only what a tool completed", passed=not claims, detail="; ".join(claims))
    )
    return checks


def _expected_call(tool: ToolExpectation, calls: tuple[ToolCallRecord, ...], today: date) -> CheckResult:
    """Passed when some call of `tool.name` has the outcome and arguments it expects; else
    says how the nearest call differed."""
    check = f"calls {tool.name}" + "".join(f", {k} {c.describe()}" for k, c in tool.arguments.items())
    same_name = [call for call in calls if call.name == tool.name]
    if not same_name:
        seen = ", ".join(call.name for call in calls) or "no tool"
        return CheckResult(check=check, passed=False, detail=f"called {seen}")
    problems: list[str] = []
    for call in same_name:
        problems = _differences(tool, call, today)
        if not problems:
            return CheckResult(check=check, passed=True)
    return CheckResult(check=check, passed=False, detail="; ".join(problems))


def _differences(tool: ToolExpectation, call: ToolCallRecord, today: date) -> list[str]:
    problems = []
    wanted = tool.outcome
    if wanted != "any" and call.status is not ToolCallStatus(wanted):
        problems.append(f"it {call.status.value}" + (f": {call.error}" if call.error else ""))
    arguments = call.arguments if isinstance(call.arguments, dict) else {}
    for key, argument in tool.arguments.items():
        if key not in arguments:
            problems.append(f"{key} was not sent")
        elif not argument.matches(arguments[key], today):
            problems.append(f"{key} was {arguments[key]!r}")
    return problems
