"""Adapter for OpenAI and any OpenAI-compatible server, on the official `openai` client.

Retries on 429/5xx/connection errors are the client's own (exponential backoff that
honours Retry-After); this adapter streams, assembles tool-call deltas and maps the
client's exceptions onto ours. Three clocks bound an answer: the wait for its first bytes
(long: a local model reads a cold prompt for tens of seconds before it writes), the silence
allowed between pieces once it has begun (short), and one deadline for the whole answer, so
a server that trickles keep-alives cannot hold a turn. A response that is not a complete
stream is a model error, never a successful turn.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx2
import openai
from openai import OpenAI

from agent_core.domain import ChatMessage, ToolCallRequest, ToolSpec, Usage
from agent_core.errors import ModelError, ModelUnavailableError, storable_text
from agent_core.llm.base import ModelDone, ModelEvent, TextDelta


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

    in_process = False

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
        self._silence_seconds = silence_seconds
        # The client's read timeout is fixed for a whole response, so it is set to the longer
        # wait for the first bytes; the silence after them is measured here, piece by piece.
        self._timeout = httpx2.Timeout(silence_seconds, read=first_token_seconds)
        self._tools_cache: tuple[Sequence[ToolSpec], list[dict[str, Any]]] | None = None

    def _wire_tools(self, tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
        # The agent passes the registry's one tuple of specs on every call.
        if self._tools_cache is None or self._tools_cache[0] is not tools:
            self._tools_cache = (tools, [to_openai_tool(t) for t in tools])
        return self._tools_cache[1]

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    def stream(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> Iterator[ModelEvent]:
        # Messages and tools go through `extra_body`, already in wire format: the client's
        # generic per-request transform walks every nested dict (tool JSON schemas, the whole
        # history) and was the largest CPU cost of a turn under load (see benchmarks/).
        body: dict[str, Any] = {"messages": [to_openai_message(m) for m in messages]}
        if tools:
            body["tools"] = self._wire_tools(tools)
        request: dict[str, Any] = {
            "model": self._model,
            "messages": [],
            "stream": True,
            "stream_options": {"include_usage": True},
            "extra_body": body,
            "timeout": self._timeout,
        }
        with _translated_errors():
            # The raw stream, parsed here: building a typed object for every chunk was the
            # next largest CPU cost per turn. Status errors and retries stay the client's.
            deadline = time.monotonic() + self._deadline_seconds
            with self._client.chat.completions.with_streaming_response.create(**request) as response:
                kind = response.headers.get("content-type", "")
                if not kind.startswith("text/event-stream"):
                    raise ModelError(f"the model server did not stream its answer (got {kind or 'no type'})")
                pieces = _paced(response.iter_text(), deadline, self._silence_seconds)
                yield from self._consume(_sse_chunks(_lines(pieces)))

    def probe(self) -> None:
        """List the server's models, once, within 3 s: cheap, and proof that it answers with
        this key (ModelUnavailableError or ModelError when it does not)."""
        with _translated_errors():
            self._client.with_options(timeout=3.0, max_retries=0).models.list()

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


def _paced(text: Iterator[str], deadline: float, silence_seconds: float) -> Iterator[str]:
    """The body's pieces as they arrive, within the answer's deadline and, after the first
    piece, with no silence longer than `silence_seconds` between two. Checked on every piece,
    not every line: a server trickling bytes that never end a line cannot outlive the deadline.
    A silence is seen when its piece arrives (the client's read timeout, the first-token wait,
    ends one that never does; the turn's own deadline ends the turn's wait before that).
    Raising closes the response, and with it the connection."""
    last: float | None = None
    for piece in _until_cut(text):
        now = time.monotonic()
        if now > deadline:
            raise ModelUnavailableError("the model did not finish its answer in time")
        if last is not None and now - last > silence_seconds:
            raise ModelUnavailableError(
                f"the model went silent for more than {silence_seconds:g} s in the middle of its answer"
            )
        last = now
        yield piece


def _lines(pieces: Iterator[str]) -> Iterator[str]:
    """The lines of the body's pieces, as they complete."""
    pending = ""
    for piece in pieces:
        *lines, pending = (pending + piece).split("\n")
        if len(pending) > MAX_LINE_CHARS:
            raise ModelError("the model server sent a malformed stream")
        for line in lines:
            yield line.removesuffix("\r")
    if pending:
        yield pending


def _sse_chunks(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Chat-completion chunks from server-sent event lines, up to `[DONE]`.

    The body is read to its end even after `[DONE]`, so the connection goes back to the
    pool for the next call instead of being closed. Raises ModelError for a stream cut off
    before its end.
    """
    finished = False
    for line in lines:
        if finished or not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            finished = True
            continue
        try:
            chunk = json.loads(data)
        except ValueError:
            raise ModelError("the model server sent a malformed stream") from None
        if isinstance(chunk, dict) and "error" in chunk:
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise ModelUnavailableError(f"the model failed mid-answer: {message}")
        if isinstance(chunk, dict):
            yield chunk
    if not finished:
        raise ModelError("the model's answer was cut off before its end")


def _until_cut(lines: Iterator[str]) -> Iterator[str]:
    """The lines, ending where a connection that drops mid-body ends them."""
    try:
        yield from lines
    except (httpx2.RemoteProtocolError, httpx2.ReadError):
        return


@contextlib.contextmanager
def _translated_errors() -> Iterator[None]:
    """The client's errors as ours, each with a message that says what to do."""
    try:
        yield
    except (openai.APITimeoutError, httpx2.TimeoutException) as exc:
        raise ModelUnavailableError(
            "the model did not answer in time (a local model may need a longer OPENAI_FIRST_TOKEN_SECONDS)"
        ) from exc
    except (openai.APIConnectionError, httpx2.TransportError) as exc:
        raise ModelUnavailableError("cannot reach the model server (check OPENAI_BASE_URL)") from exc
    except openai.AuthenticationError as exc:
        raise ModelError("the model server rejected OPENAI_API_KEY") from exc
    except openai.RateLimitError as exc:
        raise ModelUnavailableError("the model is rate-limited; try again shortly") from exc
    except openai.InternalServerError as exc:
        raise ModelUnavailableError(f"the model server failed (HTTP {exc.status_code})") from exc
    except openai.APIStatusError as exc:
        raise ModelError(
            f"the model server refused the request (HTTP {exc.status_code}): {exc.message}"
        ) from exc
