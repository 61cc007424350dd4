"""Adapter for OpenAI and any OpenAI-compatible server, configured by the official `openai`
client.

The chat call goes over `ModelConnections` (kept-alive `http.client` connections with the
client's key, headers and retry rules: the client's own request path cost four times the
CPU); listing models for a health probe goes through the client. This adapter serialises
the request, parses the stream, assembles tool-call deltas and says what went wrong in our
errors. Three clocks bound an answer: the wait for its first bytes (long: a local model
reads a cold prompt for tens of seconds before it writes), the silence allowed between
pieces once it has begun (short), and one deadline for the whole answer, so a server that
trickles keep-alives cannot hold a turn; none outlasts the turn's own deadline, and the
turn's stop wakes any of them (its `Interrupt` shuts the socket down: no helper thread).
A response that is not a complete stream is a model error, never a successful turn.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

import openai
from openai import OpenAI
from pydantic_core import from_json

from agent_core.domain import ChatMessage, ToolCallRequest, ToolSpec, Usage
from agent_core.errors import ModelError, ModelUnavailableError, storable_text
from agent_core.llm.base import Interrupt, ModelDone, ModelEvent, Reading, TextDelta
from agent_core.llm.model_connections import TIMED_OUT, UNREACHABLE, ModelConnections, status_error


def to_openai_message(message: ChatMessage) -> dict[str, Any]:
    """Our message as the chat-completions API expects it."""
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in message.tool_calls
            ],
        }
    return {"role": message.role, "content": message.content}


def to_openai_tool(spec: ToolSpec) -> dict[str, Any]:
    """A tool spec in the chat-completions `tools` shape."""
    return {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": spec.parameters,
        },
    }


class OpenAIChatModel:
    """Streams chat completions with tool calls."""

    reading = Reading.WAKES

    def __init__(
        self,
        client: OpenAI,
        model: str,
        *,
        deadline_seconds: float = 120.0,
        first_token_seconds: float = 60.0,
        silence_seconds: float = 30.0,
    ) -> None:
        self._client = client
        self._model = model
        self._deadline_seconds = deadline_seconds
        self._first_token_seconds = first_token_seconds
        self._silence_seconds = silence_seconds
        self._connections = ModelConnections.for_client(client, connect_seconds=silence_seconds)
        # Everything of a request but its messages, serialised once: the tool schemas are
        # the larger part of every body.
        self._head = json.dumps(
            {"model": model, "stream": True, "stream_options": {"include_usage": True}}
        ).encode()[:-1]
        self._tools_cache: tuple[tuple[ToolSpec, ...], bytes] | None = None

    def _wire_tools(self, tools: Sequence[ToolSpec]) -> bytes:
        # The agent passes a new tuple of the registry's spec objects every turn: compared
        # item by item, which tests identity first, so a hit costs no look into the schemas.
        offered = tuple(tools)
        if self._tools_cache is None or self._tools_cache[0] != offered:
            self._tools_cache = (offered, json.dumps([to_openai_tool(t) for t in offered]).encode())
        return self._tools_cache[1]

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    def stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], interrupt: Interrupt | None = None
    ) -> Iterator[ModelEvent]:
        body = b"".join(
            (
                self._head,
                b', "tools": ' + self._wire_tools(tools) if tools else b"",
                b', "messages": ',
                json.dumps([to_openai_message(m) for m in messages]).encode(),
                b"}",
            )
        )
        deadline = time.monotonic() + self._deadline_seconds
        if interrupt is not None:
            deadline = min(deadline, interrupt.deadline)
        with self._connections.stream(
            body,
            first_bytes_seconds=self._first_token_seconds,
            silence_seconds=self._silence_seconds,
            deadline=deadline,
            interrupt=interrupt,
        ) as pieces:
            yield from self._consume(_sse_chunks(pieces))

    def close(self) -> None:
        """Close the connections kept for the next call."""
        self._connections.close()

    def probe(self) -> None:
        """List the server's models, once, within 3 s: cheap, and proof that it answers with
        this key (ModelUnavailableError or ModelError when it does not)."""
        try:
            self._client.with_options(timeout=3.0, max_retries=0).models.list()
        except openai.APITimeoutError as exc:
            raise ModelUnavailableError(TIMED_OUT) from exc
        except openai.APIConnectionError as exc:
            raise ModelUnavailableError(UNREACHABLE) from exc
        except openai.APIStatusError as exc:
            raise status_error(exc.status_code, exc.message) from exc

    def _consume(self, chunks: Iterator[dict[str, Any]]) -> Iterator[ModelEvent]:
        calls: dict[int, dict[str, str]] = {}
        usage = Usage()
        model = self._model
        for chunk in chunks:
            model = chunk.get("model") or model
            if reported := chunk.get("usage"):
                usage = Usage(reported.get("prompt_tokens") or 0, reported.get("completion_tokens") or 0)
            for choice in chunk.get("choices") or ():
                delta = choice.get("delta") or {}
                if text := delta.get("content"):
                    yield TextDelta(storable_text(text))
                for part in delta.get("tool_calls") or ():
                    call = calls.setdefault(part.get("index", 0), {"id": "", "name": "", "arguments": ""})
                    if part.get("id"):
                        call["id"] = part["id"]
                    function = part.get("function") or {}
                    call["name"] += function.get("name") or ""
                    call["arguments"] += function.get("arguments") or ""
        for index in sorted(calls):
            call = calls[index]
            if not call["id"] or not call["name"]:
                raise ModelError("the model sent an incomplete tool call")
            yield ToolCallRequest(
                storable_text(call["id"]), storable_text(call["name"]), storable_text(call["arguments"])
            )
        yield ModelDone(usage, f"openai:{model}")


MAX_LINE_CHARS = 1_000_000
"""Longest line of a stream: a server that never ends one is not sending an answer."""

MALFORMED = "the model server sent a malformed stream"


def _sse_chunks(pieces: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    """Chat-completion chunks from the body's pieces (server-sent events), up to `[DONE]`.

    One pass over each piece's lines: a real model sends a chunk of ~250 bytes per token,
    some 30 an answer, so this runs for every token. The body is read to its end even after
    `[DONE]`, so the connection is kept for the next call instead of being closed. Raises
    ModelError for a stream cut off before its end, or a line that never ends.
    """
    finished = False
    pending = b""
    # The newline after the last piece ends a last line sent without one.
    for piece in chain(pieces, (b"\n",)):
        lines = (pending + piece if pending else piece).split(b"\n")
        pending = lines.pop()
        if len(pending) > MAX_LINE_CHARS:
            raise ModelError(MALFORMED)
        for line in lines:
            if finished or not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                finished = True
                continue
            chunk = _parsed(data)
            if not isinstance(chunk, dict):
                continue
            if "error" in chunk:
                error = chunk["error"]
                message = error.get("message") if isinstance(error, dict) else str(error)
                raise ModelUnavailableError(f"the model failed mid-answer: {message}")
            yield chunk
    if not finished:
        raise ModelError("the model's answer was cut off before its end")


def _parsed(data: bytes) -> object:
    """One event's JSON; ModelError when it is not JSON."""
    # pydantic_core's parser reads a chunk in about a third of json's time. It refuses an
    # escaped unpaired surrogate, which models do send (storable_text cleans it), so what it
    # refuses is read by json, whose verdict stands.
    try:
        return from_json(data)
    except ValueError:
        try:
            return json.loads(data)
        except ValueError:
            raise ModelError(MALFORMED) from None
