"""Scenario specs: what loads is runnable; what does not load says why."""

from __future__ import annotations

from datetime import date

import pytest

from agent_core.errors import InvalidInputError
from agent_core.scenarios.spec import (
    ArgumentCheck,
    Step,
    dump_scenario_file,
    parse_scenario,
    parse_scenario_file,
)

TODAY = date(2026, 11, 24)

SUITE = """
version: 1
tenant: {name: Demo Tours, settings: {timezone: Europe/Lisbon}}
prompt: You are Ava.
scenarios:
  - name: Books from one message
    steps:
      - say: Book a tour for John Smith on {today+30} in Paris
        expect:
          tools:
            - name: book_tour
              arguments: {name: John Smith, date: {days_from_today: 30}, location: {contains: par}}
          reply_contains: [booked]
          max_latency_ms: 5000
  - name: Greets
    steps: [{say: Hello, expect: {no_tools: true}}]
"""


def test_a_plain_value_means_equals_and_text_compares_without_case() -> None:
    suite = parse_scenario_file(SUITE)
    book = suite.scenarios[0].steps[0].expect.tools[0]
    assert book.arguments["name"].matches("john smith ", TODAY)
    assert not book.arguments["name"].matches("John Smyth", TODAY)
    assert book.arguments["location"].matches("Paris, France", TODAY)
    assert book.arguments["date"].matches("2026-12-24", TODAY)
    assert not book.arguments["date"].matches("2026-12-23", TODAY)


def test_placeholders_name_dates_relative_to_the_run() -> None:
    step = Step(say="From {today} to {today+7}, not {today-1}; {tomorrow} stays")
    assert step.message(TODAY) == "From 2026-11-24 to 2026-12-01, not 2026-11-23; {tomorrow} stays"


def test_export_reads_back_to_the_same_suite() -> None:
    suite = parse_scenario_file(SUITE)
    assert parse_scenario_file(dump_scenario_file(suite)) == suite


def test_a_bare_list_is_a_suite_of_scenarios() -> None:
    assert [s.name for s in parse_scenario_file("- {name: A, steps: [{say: hi}]}").scenarios] == ["A"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scenarios: [{name: A, steps: [{say: hi}]}]\n  bad: [", "not YAML"),
        ("- {name: A, steps: []}", "steps"),
        ("- {name: A, steps: [{say: hi}]}\n- {name: a, steps: [{say: hi}]}", "unique"),
        ("- {name: A, steps: [{say: hi, expect: {no_tools: true, tools: [{name: book_tour}]}}]}", "no_tools"),
        ("- {name: A, steps: [{say: hi, expect: {tools: [{name: x}], not_tools: [x]}}]}", "both expected"),
        ("- {name: A, steps: [{say: hi, expect: {reply_contain: [x]}}]}", "reply_contain"),
        ("- {name: A, steps: [{say: hi, expect: {tools: [{name: 'drop table'}]}}]}", "name"),
        ("version: 2", "version"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_scenario_file(text)


def test_an_argument_check_has_exactly_one_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ArgumentCheck.model_validate({"equals": "a", "contains": "b"})
    with pytest.raises(ValueError, match="exactly one"):
        ArgumentCheck.model_validate({})


@pytest.mark.parametrize("check", [{"contains": None}, {"days_from_today": None}])
def test_a_check_that_names_its_kind_but_no_value_is_refused(check: dict[str, None]) -> None:
    # Found by schemathesis: `contains: null` was stored, and describing it in a run was a 500.
    kind = next(iter(check))
    with pytest.raises(ValueError, match=f"{kind} needs a value"):
        ArgumentCheck.model_validate(check)
    assert ArgumentCheck.model_validate({"equals": None}).describe() == "= None"


def test_text_a_database_cannot_store_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="NUL"):
        parse_scenario({"name": "A", "steps": [{"say": "hi\x00"}]})
