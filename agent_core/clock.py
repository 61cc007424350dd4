"""Time sources, one of each kind: `utcnow()` for the instant a row or an event is stamped
with, and a `Clock` for the business's 'now' and 'today' that the agent reasons with, so
tests can pin the date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Protocol


def utcnow() -> datetime:
    """The current instant in UTC, as timestamps are stored."""
    return datetime.now(UTC)


class Clock(Protocol):
    """Gives the current instant and the local calendar date."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    def today(self) -> date:
        """Today's date in the business's time zone."""
        ...


@dataclass(frozen=True, slots=True)
class SystemClock:
    """The real clock, reading dates in the configured zone so 'tomorrow' is never off by one."""

    zone: tzinfo = UTC

    def now(self) -> datetime:
        return datetime.now(self.zone)

    def today(self) -> date:
        return self.now().date()


@dataclass(slots=True)
class FixedClock:
    """A clock frozen at one instant (tests and reproducible demos)."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def today(self) -> date:
        return self.instant.date()
