"""What each business sets for itself: its timezone and date order, the tools its agent may
use, what it calls a booking, the example its chat suggests, and how its replies are spoken."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_core.domain import JsonDict
from agent_core.errors import check_storable_text
from agent_core.phones import REGIONS
from agent_core.submitted import WholeNumber, string_schemas, text_field
from agent_core.tools import TOOL_NAMES
from agent_core.voice.speech import Delivery

log = logging.getLogger(__name__)

RECORDING_DAYS = 30
"""How long a new tenant keeps the audio of spoken turns: long enough to review a month's calls."""


@cache
def known_zones() -> frozenset[str]:
    """The IANA zone names this machine knows (read once: it walks the zone files)."""
    return frozenset(available_timezones())


def _one_of_strings(values: Callable[[], list[str]], within: str | None = None) -> Callable[[JsonDict], None]:
    """Documents the strings a field takes (in its items, with `within="items"`): the
    validators below check them; the list is read when the document is built."""

    def document(schema: JsonDict) -> None:
        for strings in string_schemas(schema, within):
            strings["enum"] = values()

    return document


class TenantSettings(BaseModel):
    """A tenant's settings; every field has a default, so `{}` is a complete set."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    timezone: str | None = Field(
        default=None,
        description="IANA zone for 'today' and the times shown (default: TIMEZONE)",
        json_schema_extra=_one_of_strings(lambda: ["", *sorted(known_zones())]),
    )
    date_order: Literal["day_first", "month_first"] = Field(
        default="day_first", description="How numeric dates like 03/04/2027 are read"
    )
    enabled_tools: tuple[str, ...] | None = Field(
        default=None,
        description="The tools the agent may use (default: all of them)",
        json_schema_extra=_one_of_strings(lambda: list(TOOL_NAMES), within="items"),
    )
    booking_noun: str = text_field(1, 30, default="tour", description="e.g. appointment")
    booking_noun_plural: str = text_field(1, 30, default="tours")
    example: str | None = text_field(0, 300, default=None, description="The chat's example request")

    phone_region: str | None = Field(
        default=None,
        description=(
            "The business's country (ISO code like GB): phone numbers without a country code are read"
            " as its numbers, stored in E.164 and shown in its national format (default: none; such"
            " numbers are kept as given)"
        ),
        json_schema_extra=_one_of_strings(lambda: ["", *sorted(REGIONS)]),
    )

    voice: str | None = text_field(
        0,
        50,
        default=None,
        description="The voice replies are spoken in (OpenAI: alloy, nova…; default: the model's)",
    )
    speech_speed: float = Field(
        default=1.0, ge=0.5, le=2.0, description="How fast replies are spoken: 1.0 is the voice's own pace"
    )
    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2}$",
        description="The language callers speak, as an ISO 639-1 code like en (default: English)",
    )
    recording_days: WholeNumber = Field(
        default=RECORDING_DAYS,
        ge=0,
        le=3650,
        description=(
            "How many days the audio of spoken turns is kept with their conversation"
            " (0: none is kept; their timings always are)"
        ),
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value and value not in known_zones():
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Paris)")
        return value or None

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value and value not in REGIONS:
            raise ValueError(f"unknown country {value!r} (use an ISO 3166 code like GB, FR or US)")
        return value or None

    @field_validator("enabled_tools")
    @classmethod
    def _known_tools(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (unknown := sorted(set(value) - set(TOOL_NAMES))):
            raise ValueError(f"unknown tools {unknown}; choose from {list(TOOL_NAMES)}")
        return value

    @field_validator("booking_noun", "booking_noun_plural", "example", "voice")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        return check_storable_text(value) if value else value

    @property
    def a_booking(self) -> str:
        """The booking noun with its article: 'a tour', 'an appointment'."""
        article = "an" if self.booking_noun[:1].lower() in "aeiou" else "a"
        return f"{article} {self.booking_noun}"

    def zone(self, default: tzinfo) -> tzinfo:
        """The tenant's zone, or `default`."""
        return ZoneInfo(self.timezone) if self.timezone else default

    def today(self, now: datetime, default: tzinfo) -> date:
        """Today's date where the business is."""
        return now.astimezone(self.zone(default)).date()

    def delivery(self) -> Delivery:
        """How its replies are spoken and its callers heard."""
        return Delivery(self.voice or None, self.speech_speed, self.language)

    def allows(self, tool: str) -> bool:
        """True when the agent may use this tool."""
        return self.enabled_tools is None or tool in self.enabled_tools

    def stored(self) -> JsonDict:
        """What the store keeps: only what differs from the defaults."""
        return self.model_dump(mode="json", exclude_defaults=True)


DEFAULT_SETTINGS = TenantSettings()


def settings_from(raw: object) -> TenantSettings:
    """Stored settings read back; anything unreadable falls back to the defaults (logged),
    so one bad value can never stop a tenant's agent."""
    if not raw:
        return DEFAULT_SETTINGS
    try:
        return TenantSettings.model_validate(raw)
    except ValidationError as exc:
        log.warning("ignoring invalid tenant settings: %s", exc.errors(include_input=False))
        return DEFAULT_SETTINGS
