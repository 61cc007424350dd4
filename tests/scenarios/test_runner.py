"""Running scenarios: each expectation passes and fails when it should, the unbacked-claim
check catches a reply that lies, repetitions give a pass rate, and the sandbox writes nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta

from agent_core.agent.loop import AgentLimits
from agent_core.clock import FixedClock
from agent_core.domain import ChatMessage, Tenant, ToolCallRequest, ToolSpec
from agent_core.llm.base import ChatModel
from agent_core.llm.demo_model import DemoModel
from agent_core.llm.scripted import ScriptedModel, ScriptedReply
from agent_core.scenarios.results import SuiteReport
from agent_core.scenarios.runner import ScenarioRunner
from agent_core.scenarios.sandbox import AgentParts, Sandbox
from agent_core.scenarios.spec import Scenario, parse_scenario
from agent_core.store.base import Store
from agent_core.store.records import RecordQuery
from agent_core.tools import default_registry
from tests.conftest import NOW

CLOCK = FixedClock(NOW)
TODAY = CLOCK.today()


def runner(model: ChatModel | None = None) -> ScenarioRunner:
    return ScenarioRunner(AgentParts(model or DemoModel(CLOCK), default_registry(), CLOCK, AgentLimits()))


def books_then_says(reply: str, date: str = "2027-03-15") -> ScriptedModel:
    """A model that calls book_tour for John Smith on `date`, then answers `reply`."""

    def respond(messages: Sequence[ChatMessage], _: Sequence[ToolSpec]) -> ScriptedReply:
        if messages[-1].role == "tool":
            return ScriptedReply(reply)
        arguments = json.dumps({"name": "John Smith", "date": date, "location": "Paris"})
        return ScriptedReply(tool_calls=(ToolCallRequest(f"call_{len(messages)}", "book_tour", arguments),))

    return ScriptedModel(respond)


def one(scenario: Mapping[str, object]) -> Scenario:
    return parse_scenario({"name": "Scenario", **scenario})


def run(
    tenant: Tenant, scenario: Mapping[str, object], model: ChatModel | None = None, reps: int = 1
) -> SuiteReport:
    return runner(model).run(tenant, tenant.system_prompt, [one(scenario)], target="test", repetitions=reps)


def failures(report: SuiteReport) -> list[str]:
    return [line for result in report.results for a in result.attempts for line in a.failures]


BOOKING = {
    "steps": [
        {
            "say": "Book a tour for John Smith on {today+30} in Paris",
            "expect": {
                "tools": [
                    {
                        "name": "book_tour",
                        "arguments": {
                            "name": "John Smith",
                            "date": {"days_from_today": 30},
                            "location": "Paris",
                        },
                    }
                ],
                "not_tools": ["take_note"],
                "reply_contains": ["booked"],
                "reply_excludes": ["sorry"],
                "max_latency_ms": 60_000,
            },
        }
    ]
}


def test_a_scenario_the_agent_meets_passes_every_check(tenant: Tenant) -> None:
    report = run(tenant, BOOKING)
    assert report.passed, failures(report)
    step = report.results[0].attempts[0].steps[0]
    assert step.said == f"Book a tour for John Smith on {(TODAY + timedelta(days=30)).isoformat()} in Paris"
    assert [c.check for c in step.checks] == [
        "calls book_tour, name = 'John Smith', date = today+30 days, location = 'Paris'",
        "does not call take_note",
        "reply contains 'booked'",
        "reply does not contain 'sorry'",
        "answers within 60000 ms",
        "claims only what a tool completed",
    ]
    assert all(c.passed for c in step.checks)


def test_each_expectation_fails_when_the_turn_does_not_meet_it(tenant: Tenant) -> None:
    wrong = {
        "steps": [
            {
                "say": "Book a tour for John Smith on {today+30} in Paris",
                "expect": {
                    "tools": [
                        {
                            "name": "book_tour",
                            "arguments": {"location": "Lisbon", "date": {"days_from_today": 31}},
                        }
                    ],
                    "not_tools": ["take_note"],
                    "reply_contains": ["cancelled"],
                    "reply_excludes": ["booked"],
                    "max_latency_ms": 1,
                },
            },
            {"say": "Please note that he is vegetarian", "expect": {"no_tools": True}},
        ]
    }
    report = run(tenant, wrong)
    assert not report.passed
    assert report.summary == "0 of 1 scenario passed"
    found = failures(report)
    assert any(
        "calls book_tour" in line and "location was 'Paris'" in line and "date was" in line for line in found
    )
    assert any("reply contains 'cancelled'" in line for line in found)
    assert any("reply does not contain 'booked'" in line for line in found)
    assert any("answers within 1 ms" in line for line in found)
    assert any("message 2: calls no tool — called take_note" in line for line in found)


def test_an_expected_tool_that_failed_or_was_not_called_fails(tenant: Tenant) -> None:
    past = books_then_says("Sorry, I could not book that: the date is in the past.", date="2020-01-01")
    report = run(tenant, {"steps": [{"say": "Book it", "expect": {"tools": [{"name": "book_tour"}]}}]}, past)
    assert any("calls book_tour — it failed" in line for line in failures(report))
    nothing = {"steps": [{"say": "Hello", "expect": {"tools": [{"name": "take_note"}]}}]}
    assert any("called book_tour" in line for line in failures(run(tenant, nothing, past)))


def test_a_reply_claiming_a_booking_that_failed_fails_the_scenario_whatever_else_it_expects(
    tenant: Tenant,
) -> None:
    liar = books_then_says("Done! I've booked John Smith for Paris.", date="2020-01-01")
    report = run(tenant, {"steps": [{"say": "Book John Smith in Paris on 1 January 2020"}]}, liar)
    assert not report.passed
    [line] = failures(report)
    assert "claims only what a tool completed — claims a booking no tool completed" in line
    honest = books_then_says("Done! I've booked John Smith for Paris.")
    assert run(tenant, {"steps": [{"say": "Book John Smith in Paris"}]}, honest).passed


def test_repetitions_give_a_pass_rate_and_a_flaky_model_does_not_pass(tenant: Tenant) -> None:
    replies = iter(["Booked for you.", "Hmm, what was that?", "Booked for you."])

    def flaky(messages: Sequence[ChatMessage], _: Sequence[ToolSpec]) -> ScriptedReply:
        return ScriptedReply(next(replies))

    scenario = {"steps": [{"say": "Hi", "expect": {"reply_contains": ["what"]}}]}
    report = run(tenant, scenario, ScriptedModel(flaky), reps=3)
    result = report.results[0]
    assert (result.passes, round(result.pass_rate, 2), result.passed) == (1, 0.33, False)


def test_a_turn_that_fails_ends_its_attempt_with_the_reason(tenant: Tenant) -> None:
    def down(messages: Sequence[ChatMessage], _: Sequence[ToolSpec]) -> ScriptedReply:
        from agent_core.errors import ModelUnavailableError

        raise ModelUnavailableError("the model server did not answer")

    report = run(tenant, {"steps": [{"say": "Hi"}, {"say": "Still there?"}]}, ScriptedModel(down))
    [attempt] = report.results[0].attempts
    assert len(attempt.steps) == 1
    assert attempt.failures == ["message 1: the turn failed: the model server did not answer"]


def test_the_sandbox_writes_nothing_to_the_tenants_store_or_event_log(store: Store, tenant: Tenant) -> None:
    def counts() -> tuple[int, int, int, int, int]:
        return (
            store.list_tours(tenant.id, RecordQuery()).total,
            store.list_notes(tenant.id, RecordQuery()).total,
            store.list_contacts(tenant.id, RecordQuery()).total,
            len(store.list_conversations(tenant.id)),
            len(store.events.find(tenant.id)),
        )

    before = counts()
    sandbox = Sandbox(
        tenant,
        "You are Kim of Test Tours.",
        AgentParts(DemoModel(CLOCK), default_registry(), CLOCK, AgentLimits()),
    )
    booked = sandbox.say("Book a tour for Ana Silva on 2027-01-10 in Porto")
    noted = sandbox.say("Please note that Ana is vegetarian")
    contact = sandbox.say("Update contact info for Ana Silva: email is ana@example.com")
    again = sandbox.say("Book a tour for Ana Silva on 2027-01-10 in Porto")
    sandbox.close()
    assert [c.status.value for r in (booked, noted, contact) for c in r.tool_calls] == ["succeeded"] * 3
    assert "already booked" in again.reply  # the sandbox's own booking is real inside it
    assert counts() == before


def test_the_demo_model_passes_the_demo_tenants_scenarios(store: Store) -> None:
    from agent_core.store.demo_data import DEMO_TENANT_ID, demo_scenario_rows

    tenant = store.get_tenant(DEMO_TENANT_ID)
    assert tenant is not None
    scenarios = [
        parse_scenario({"name": r["name"], **r["spec"]})
        for r in demo_scenario_rows()
        if r["tenant_id"] == tenant.id
    ]
    report = runner().run(tenant, tenant.system_prompt, scenarios, target="live", repetitions=2)
    assert report.passed, [line for r in report.results for a in r.attempts for line in a.failures]
    assert len(report.results) == 5
