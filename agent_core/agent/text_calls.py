"""Tool calls a model wrote as text instead of sending them as calls.

Small and local models often answer with the call itself — bare JSON, a ```json block or
`<tool_call>` tags — in the reply text (llama.cpp parses only the form its chat template
names). Shown to a caller that is gibberish, and nothing was done. Such text is read back
into calls here; the agent runs them when it offered the tool, and fails the turn honestly
otherwise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

OPENERS = ("{", "```", "<tool_call")
"""Where text that may be a call begins: held back from the caller until the answer ends."""

_OPENER_CHARS = frozenset(opener[0] for opener in OPENERS)
_CALL_KEYS = frozenset({"name", "arguments", "parameters", "type", "id"})
_WRAPPERS = re.compile(r"```(?:json|tool_call)?[ \t]*\n?|</?tool_call>", re.IGNORECASE)
_decoder = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class TextCall:
    """A call found in text: the tool's name and its arguments as a JSON object's text."""

    name: str
    arguments: str


def _as_call(value: object) -> TextCall | None:
    """The call a decoded JSON value states, if it has a call's shape."""
    if not isinstance(value, dict):
        return None
    function = value.get("function")
    if isinstance(function, dict) and set(value) <= {"type", "id", "function"}:
        value = function
    name = value.get("name")
    if not isinstance(name, str) or not set(value) <= _CALL_KEYS or not name.strip():
        return None
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    if not isinstance(arguments, dict):
        return None
    return TextCall(name.strip(), json.dumps(arguments, ensure_ascii=False))


def calls_in_text(text: str) -> tuple[list[TextCall], str]:
    """The calls written in `text`, and the text without them (and without the fences or tags
    that held them). A JSON value that is not a call's shape stays in the text."""
    if "{" not in text and "[" not in text:
        return [], text.strip()  # the common case: nothing a call could be written in
    calls: list[TextCall] = []
    kept: list[str] = []
    position = 0
    while (start := _next_value(text, position)) != -1:
        try:
            value, end = _decoder.raw_decode(text, start)
        except ValueError:
            kept.append(text[position : start + 1])
            position = start + 1
            continue
        except RecursionError:
            # Nested too deeply to be a call, and so is every opener inside: skip them all.
            end = start
            while end < len(text) and text[end] in "[{ \t\r\n":
                end += 1
            kept.append(text[position:end])
            position = end
            continue
        found = [_as_call(v) for v in value] if isinstance(value, list) else [_as_call(value)]
        if found and all(found):
            calls.extend(call for call in found if call is not None)
            kept.append(text[position:start])
        else:
            kept.append(text[position:end])
        position = end
    kept.append(text[position:])
    rest = "".join(kept)
    if calls:
        rest = _WRAPPERS.sub("", rest)
    return calls, rest.strip()


def _next_value(text: str, position: int) -> int:
    """Where the next JSON object or array may start, or -1."""
    found = [i for i in (text.find("{", position), text.find("[", position)) if i != -1]
    return min(found, default=-1)


class ReplyGate:
    """Passes a model's reply text on as it streams, but holds it back from where a call may
    begin, so a call written as text never reaches the caller piece by piece."""

    def __init__(self) -> None:
        self._held = ""
        self._holding = False

    def feed(self, text: str) -> str:
        """Take the next piece of the answer; returns what may be sent now."""
        if self._holding:
            self._held += text
            return ""
        if not self._held and not _OPENER_CHARS.intersection(text):
            return text  # the common case, per streamed token: nothing to look for
        pending = self._held + text
        found = [i for i in (pending.find(opener) for opener in OPENERS) if i != -1]
        if found:
            self._holding = True
            self._held = pending[min(found) :]
            return pending[: min(found)]
        # An opener may be cut between two pieces ("`" now, "``json" next).
        tail = max(
            (n for opener in OPENERS for n in range(1, len(opener)) if pending.endswith(opener[:n])),
            default=0,
        )
        self._held = pending[len(pending) - tail :] if tail else ""
        return pending[: len(pending) - tail]

    def held(self) -> str:
        """What the answer ended with and was not sent yet."""
        return self._held
