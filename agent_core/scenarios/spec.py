"""What a scenario is: messages a caller sends, and what each reply must (not) do.

Written in the dashboard, imported from YAML or saved from a real conversation; validated
here before anything is stored, so a scenario that loads is one the runner can run.

A plain value where an argument check is expected means "equals" (`location: Lisbon`).
Messages may name dates relative to the run's day — `{today}`, `{today+7}`, `{today-1}` —
so a scenario written today still asks for a future date next year.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)

from agent_core.errors import InvalidInputError, StorableText, invalid_input
from agent_core.submitted import JSON_INTEGER, text_field

MAX_STEPS = 20
MAX_SCENARIOS = 200
MAX_REPETITIONS = 20
_PLACEHOLDER = re.compile(r"\{today(?:([+-])(\d{1,4}))?\}")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _shorthand(value: object) -> object:
    """`Lisbon` means `{equals: Lisbon}`."""
    return value if isinstance(value, dict) else {"equals": value}


Plain = str | int | float | bool | None
"""A value a tool argument may equal."""


def _one_given(schema: dict[str, Any]) -> None:
    """The document of ArgumentCheck: one field, and only `equals` may be null."""
    schema.update(minProperties=1, maxProperties=1)
    for name in ("contains", "days_from_today"):
        field = schema["properties"][name]
        field["anyOf"] = [branch for branch in field["anyOf"] if branch.get("type") != "null"]


class ArgumentCheck(_Spec):
    """How one argument of an expected tool call is checked; exactly one field is set."""

    model_config = ConfigDict(json_schema_extra=_one_given)

    equals: Plain = None
    # None only as "not given" (the document says so): `contains: null` is refused below.
    contains: StorableText | None = text_field(1, 500, default=None)
    days_from_today: Annotated[int, Field(ge=-3650, le=3650), JSON_INTEGER] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ArgumentCheck:
        if len(self.model_fields_set) != 1:
            raise ValueError("give exactly one of equals, contains or days_from_today")
        (given,) = self.model_fields_set
        if given != "equals" and getattr(self, given) is None:
            raise ValueError(f"{given} needs a value")
        return self

    def matches(self, value: object, today: date) -> bool:
        """True when the argument the model sent satisfies this check."""
        if "equals" in self.model_fields_set:
            if isinstance(self.equals, str) and isinstance(value, str):
                return value.strip().casefold() == self.equals.casefold()
            return value == self.equals
        if self.contains is not None:
            return isinstance(value, str) and self.contains.casefold() in value.casefold()
        assert self.days_from_today is not None
        return str(value) == (today + timedelta(days=self.days_from_today)).isoformat()

    def describe(self) -> str:
        """The check in words, for results."""
        if "equals" in self.model_fields_set:
            return f"= {self.equals!r}"
        if self.contains is not None:
            return f"contains {self.contains!r}"
        return f"= today{self.days_from_today:+d} days"


Check = ArgumentCheck | Plain
"""An argument check as written: the check, or a plain value it must equal."""
ReplyText = Annotated[StorableText, text_field(1, 500)]
"""Text a reply must (not) contain."""


class ToolExpectation(_Spec):
    """A tool call the step must make, with the arguments it must carry."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")
    arguments: dict[
        str, Annotated[ArgumentCheck, BeforeValidator(_shorthand, json_schema_input_type=Check)]
    ] = Field(default_factory=dict, max_length=20)
    outcome: Literal["succeeded", "failed", "any"] = "succeeded"
    """A booking scenario usually wants the booking made, not merely attempted."""


class StepExpectation(_Spec):
    """What one reply and its tool calls must do. Every scenario also gets the unbacked-claim
    check: the reply never claims a booking, note or change no tool call completed."""

    tools: list[ToolExpectation] = Field(default_factory=list, max_length=10)
    not_tools: list[str] = Field(default_factory=list, max_length=20)
    no_tools: StrictBool = False
    reply_contains: list[ReplyText] = Field(default_factory=list, max_length=20)
    reply_excludes: list[ReplyText] = Field(default_factory=list, max_length=20)
    max_latency_ms: Annotated[int, Field(ge=1, le=600_000), JSON_INTEGER] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> StepExpectation:
        if self.no_tools and self.tools:
            raise ValueError("no_tools cannot be combined with expected tools")
        clash = {t.name for t in self.tools} & set(self.not_tools)
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))} is both expected and forbidden")
        return self


class Step(_Spec):
    """One message from the caller and what must follow."""

    say: StorableText = text_field(1, 4000)
    expect: StepExpectation = Field(default_factory=StepExpectation)

    def message(self, today: date) -> str:
        """The message with its date placeholders filled in for `today`."""

        def fill(match: re.Match[str]) -> str:
            sign, days = match.group(1), int(match.group(2) or 0)
            return (today + timedelta(days=-days if sign == "-" else days)).isoformat()

        return _PLACEHOLDER.sub(fill, self.say)


class Scenario(_Spec):
    """A named conversation to replay against a prompt, with its expectations."""

    name: StorableText = text_field(1, 120)
    description: StorableText = text_field(0, 2000, default="")
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)


class SuiteTenant(_Spec):
    """The tenant a scenario file was exported from: what a sandbox needs to stand in for it."""

    name: StorableText = Field(min_length=1, max_length=100)
    settings: dict[str, Any] = Field(default_factory=dict)


class ScenarioFile(_Spec):
    """A tenant's suite as YAML: what `export` writes, `import` reads and pytest collects."""

    version: Literal[1] = 1
    tenant: SuiteTenant | None = None
    prompt: StorableText | None = Field(default=None, max_length=8000)
    scenarios: list[Scenario] = Field(default_factory=list, max_length=MAX_SCENARIOS)

    @model_validator(mode="after")
    def _unique_names(self) -> ScenarioFile:
        names = [s.name.casefold() for s in self.scenarios]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"scenario names must be unique; repeated: {', '.join(repeated)}")
        return self


def parse_scenario(data: object) -> Scenario:
    """A scenario from JSON-like data, or InvalidInputError listing every problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise invalid_input("scenario", exc) from None


MAX_YAML_DEPTH = 40
"""Nesting a suite file may have: a real one needs about 8 levels; PyYAML composes nodes
recursively, so a document thousands of levels deep would exhaust Python's stack."""


class _DepthError(yaml.YAMLError):
    """The document nests deeper than MAX_YAML_DEPTH."""


class _BoundedLoader(yaml.SafeLoader):
    """yaml.safe_load's loader, refusing documents nested deeper than MAX_YAML_DEPTH."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _DepthError(f"nested deeper than {MAX_YAML_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_scenario_file(text: str) -> ScenarioFile:
    """A suite from YAML text, or InvalidInputError saying what is wrong (nothing is stored)."""
    try:
        data = yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader, depth bounded
    except _DepthError as exc:
        raise InvalidInputError(f"invalid scenario file — {exc}") from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"invalid scenario file — not YAML: {exc}") from None
    if data is None:
        data = {}
    if isinstance(data, list):
        data = {"scenarios": data}
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise invalid_input("scenario file", exc) from None


def dump_scenario_file(suite: ScenarioFile) -> str:
    """YAML that `parse_scenario_file` reads back to the same suite."""
    data = {"version": suite.version, **suite.model_dump(mode="json", exclude_unset=True)}
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return text


def scenario_json(scenario: Scenario) -> dict[str, Any]:
    """The scenario as stored (defaults left out, so stored specs stay short)."""
    return scenario.model_dump(mode="json", exclude_unset=True)
