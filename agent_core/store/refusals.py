"""Every way the store refuses a change, in one table: the error a caller gets, its words, and
the SQLSTATE the PostgreSQL functions raise it with.

SQLite's writes (Python) raise these. The PostgreSQL family's `app_*` functions cannot import
Python, so they raise the same words with the code; `function_error` turns what a function
raised back into the error, and `tests/store/test_refusals.py` reads every `RAISE` out of the
database's functions and holds it to this table, word for word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from agent_core.errors import (
    ConflictError,
    ConversationBusyError,
    InvalidInputError,
    NotFoundError,
    PromptChangedError,
)


class StaleBooking(Exception):
    """What the tool read changed before its write (another turn booked the same customer,
    day and place, or saved the same contact): nothing was written, the tool runs again."""


def _not_retryable(words: str) -> Exception:
    return ConflictError(words, "not_retryable")


@dataclass(frozen=True, slots=True)
class Refusal:
    """One way a change is refused. `words` has a `{}` per subject, in order."""

    code: str
    error: Callable[[str], Exception]
    words: str
    _said: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = ".+".join(re.escape(part) for part in self.words.split("{}"))
        object.__setattr__(self, "_said", re.compile(pattern))

    def __call__(self, *subjects: object) -> Exception:
        """The error, its words naming `subjects`."""
        return self.error(self.words.format(*subjects))

    def said(self, code: str, message: str) -> bool:
        """Whether a SQL function raised this refusal."""
        return code == self.code and self._said.fullmatch(message) is not None


UNKNOWN_TENANT = Refusal("PT404", NotFoundError, "unknown tenant {}")
UNKNOWN_CONVERSATION = Refusal("PT404", NotFoundError, "conversation {} not found for this tenant")
UNKNOWN_CONTACT = Refusal("PT404", NotFoundError, "unknown contact {}")
UNKNOWN_NOTE = Refusal("PT404", NotFoundError, "unknown note {}")
UNKNOWN_SCENARIO = Refusal("PT404", NotFoundError, "unknown scenario {}")
CONVERSATION_BUSY = Refusal("VA409", ConversationBusyError, "conversation {} is answering another message")
NOT_RETRYABLE = Refusal(
    "VA422", _not_retryable, "only the last message of a conversation can be retried, once it failed"
)
BOOKING_CHANGED = Refusal("VA422", InvalidInputError, "the booking was cancelled or changed in the meantime")
DAY_CHANGED = Refusal("VA422", InvalidInputError, "that day's bookings changed in the meantime: try again")
PROMPT_CHANGED = Refusal(
    "PT409",
    PromptChangedError,
    "version {} of the prompt went live after version {}, which this change was based on; nothing"
    " was published: review the live prompt, then publish again",
)
BOOKED_MEANWHILE = Refusal(
    "VA412", StaleBooking, "a booking of the same customer, day and place was just made"
)
BOOKING_STALE = Refusal("VA412", StaleBooking, "the booking changed since the tool looked")
CONTACT_SAVED_MEANWHILE = Refusal("VA412", StaleBooking, "a contact with these details was just saved")
AUDIT_APPEND_ONLY = Refusal(
    "P0001", lambda words: ConflictError(words, "append_only"), "the audit log is append-only"
)

REFUSALS = (
    UNKNOWN_TENANT,
    UNKNOWN_CONVERSATION,
    UNKNOWN_CONTACT,
    UNKNOWN_NOTE,
    UNKNOWN_SCENARIO,
    CONVERSATION_BUSY,
    BOOKING_CHANGED,
    DAY_CHANGED,
    NOT_RETRYABLE,
    PROMPT_CHANGED,
    BOOKED_MEANWHILE,
    BOOKING_STALE,
    CONTACT_SAVED_MEANWHILE,
    AUDIT_APPEND_ONLY,
)


def function_error(code: str, message: str) -> Exception | None:
    """Ours for what a SQL function raised (None: not one of its refusals); the message is
    the function's own words, which are the table's. Words the table does not hold (a
    function of another release) still get the error of the first refusal of their code."""
    if code == "23505":  # a unique key PostgreSQL itself holds (a name taken)
        return InvalidInputError(message)
    said = next((r for r in REFUSALS if r.said(code, message)), None)
    said = said or next((r for r in REFUSALS if r.code == code), None)
    return None if said is None else said.error(message)
