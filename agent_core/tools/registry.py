"""Tool registry (strategy pattern): each tool is a typed argument model plus a handler.

The JSON schema the model sees is derived from the argument model, so what the model is
told and what is validated can never drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from agent_core.domain import Claim, EventName, JsonDict, ToolCallRequest, ToolSpec, decode_arguments
from agent_core.errors import summarize, validation_details
from agent_core.store.base import TenantWriter, ToolExecution, ToolFailure
from agent_core.store.conversation_log import Outcome
from agent_core.tools.fields import validation_context

ArgsT = TypeVar("ArgsT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a handler may use: writes bound to the turn's tenant, and today's date."""

    writer: TenantWriter
    today: date


@dataclass(frozen=True)
class Tool(Generic[ArgsT]):
    """One tool: name, description, argument model, handler and the event it emits on success."""

    name: str
    description: str
    arguments: type[ArgsT]
    handler: Callable[[ArgsT, ToolContext], JsonDict]
    success_event: EventName | None
    """The event of a change (None: the tool only reads)."""
    changed: Callable[[JsonDict], bool] = lambda result: True
    """Whether a successful result changed anything (its success event is emitted only then)."""
    date_argument: str | None = None
    """The argument holding the day this tool writes: checked against the caller's words."""
    outcome: Outcome | None = None
    """What a success does to its conversation (shown in the conversation log): None for a
    tool that only reads."""
    backs: frozenset[Claim] = frozenset()
    """What a reply may say happened once this tool succeeded in the turn."""

    @cached_property
    def spec(self) -> ToolSpec:
        """The schema sent to the model."""
        return ToolSpec(self.name, self.description, _without_titles(self.arguments.model_json_schema()))


@dataclass(frozen=True, slots=True)
class SaidDay:
    """A day the caller named in words a reader must resolve ("next Friday", "03/04"), as the
    business's calendar reads them."""

    words: str
    day: date


@dataclass(frozen=True, slots=True)
class PreparedCall:
    """A model's tool call made ready to run: decoded arguments and the execution."""

    tool: Tool[Any] | None
    arguments: JsonDict | str
    execute: ToolExecution


class ToolRegistry:
    """Looks tools up by name and turns a model's call into a validated execution."""

    def __init__(self, tools: Iterable[Tool[Any]]) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"duplicate tool name {tool.name!r}")
            self._tools[tool.name] = tool
        self.specs: tuple[ToolSpec, ...] = tuple(t.spec for t in self._tools.values())
        self.backing: dict[str, frozenset[Claim]] = {t.name: t.backs for t in self._tools.values()}
        """What each tool's success lets a reply claim, by tool name."""

    def tool(self, name: str) -> Tool[Any] | None:
        """The tool of that name, if there is one."""
        return self._tools.get(name)

    def prepare(
        self,
        call: ToolCallRequest,
        today: date,
        allowed: Callable[[str], bool] = lambda name: True,
        said_day: Callable[[], SaidDay | None] = lambda: None,
        phone_region: str | None = None,
    ) -> PreparedCall:
        """Bind a call to its tool; invalid arguments, a tool the business has not enabled, or
        a day written that is not the one the caller's own words name (`said_day`: "next
        Friday" read by the business's calendar) become a ToolFailure at execution. Phone
        numbers are read as numbers of `phone_region` (the business's country) when they
        have no country code."""
        arguments = decode_arguments(call.arguments)
        tool = self.tool(call.name)
        if tool is not None and not allowed(call.name):
            return PreparedCall(tool, arguments, _refuse(f"{call.name} is not enabled for this business"))
        if tool is None:
            known = ", ".join(sorted(self._tools))
            return PreparedCall(None, arguments, _refuse(f"unknown tool {call.name!r}; available: {known}"))
        try:
            parsed = tool.arguments.model_validate_json(
                call.arguments or "{}", context=validation_context(today, phone_region)
            )
        except ValidationError as exc:
            return PreparedCall(
                tool,
                arguments,
                _refuse("invalid arguments: " + summarize(validation_details(exc, root="arguments"))),
            )
        if tool.date_argument is not None and (unsaid := _unsaid_day(parsed, tool.date_argument, said_day)):
            return PreparedCall(tool, arguments, _refuse(unsaid))
        return PreparedCall(tool, arguments, lambda writer: tool.handler(parsed, ToolContext(writer, today)))


def _unsaid_day(parsed: BaseModel, argument: str, said_day: Callable[[], SaidDay | None]) -> str | None:
    """Why the day a call writes may not be written yet: the caller named another day in
    words a model reads wrongly ("next Friday" booked on a Tuesday)."""
    written = getattr(parsed, argument, None)
    if not isinstance(written, date):
        return None
    said = said_day()
    if said is None or said.day == written:
        return None
    return (
        f"the caller said {said.words!r}, which is {said.day:%A} {said.day.isoformat()}, but {argument}"
        f" is {written:%A} {written.isoformat()}: nothing was written. Ask the caller which day they mean."
    )


def _refuse(message: str) -> ToolExecution:
    def execute(_: TenantWriter) -> JsonDict:
        raise ToolFailure(message)

    return execute


def _without_titles(schema: Any) -> Any:
    # "title" is noise for the model, except as a property name inside "properties".
    if isinstance(schema, dict):
        return {
            key: (
                {name: _without_titles(sub) for name, sub in value.items()}
                if key == "properties"
                else _without_titles(value)
            )
            for key, value in schema.items()
            if key != "title"
        }
    if isinstance(schema, list):
        return [_without_titles(v) for v in schema]
    return schema
