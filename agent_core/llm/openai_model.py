"""Adapter for OpenAI and any OpenAI-compatible server, on the official `openai` client.

Retries on 429/5xx/connection errors are the client's own (exponential backoff that
honours Retry-After); this adapter streams, assembles tool-call deltas and maps the
client's exceptions onto ours.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI, OpenAI

from agent_core.domain import ChatMessage, ToolCallRequest, ToolSpec, Usage
from agent_core.errors import ModelError, ModelUnavailableError
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


class _Assembler:
    """Turns chat-completion chunks (as JSON) into model events; shared by both transports."""

    def __init__(self, model: str) -> None:
        self._calls: dict[int, dict[str, str]] = {}
        self._usage = Usage()
        self._model = model

    def feed(self, chunk: dict[str, Any]) -> Iterator[ModelEvent]:
        """Events this chunk completes (text deltas at once; tool calls wait for the end)."""
        self._model = chunk.get("model") or self._model
        if reported := chunk.get("usage"):
            self._usage = Usage(reported.get("prompt_tokens") or 0, reported.get("completion_tokens") or 0)
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if text := delta.get("content"):
                yield TextDelta(text)
            for part in delta.get("tool_calls") or ():
                call = self._calls.setdefault(part.get("index", 0), {"id": "", "name": "", "arguments": ""})
                if part.get("id"):
                    call["id"] = part["id"]
                function = part.get("function") or {}
                call["name"] += function.get("name") or ""
                call["arguments"] += function.get("arguments") or ""

    def finish(self) -> Iterator[ModelEvent]:
        """The assembled tool calls, then the usage."""
        for index in sorted(self._calls):
            call = self._calls[index]
            if not call["id"] or not call["name"]:
                raise ModelError("the model sent an incomplete tool call")
            yield ToolCallRequest(call["id"], call["name"], call["arguments"])
        yield ModelDone(self._usage, f"openai:{self._model}")


def _chunk(line: str) -> dict[str, Any] | None:
    """The chunk in one server-sent event line; None for other lines and `[DONE]`."""
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        chunk = json.loads(data)
    except ValueError:
        raise ModelError("the model server sent a malformed stream") from None
    if isinstance(chunk, dict) and "error" in chunk:
        error = chunk["error"]
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise ModelUnavailableError(f"the model failed mid-answer: {message}")
    return chunk if isinstance(chunk, dict) else None


def _translated(error: Exception) -> Exception:
    """The client's exception as ours, with what to check."""
    if isinstance(error, openai.APITimeoutError | httpx2.TimeoutException):
        return ModelUnavailableError("the model did not answer in time")
    if isinstance(error, openai.APIConnectionError | httpx2.TransportError):
        return ModelUnavailableError("cannot reach the model server (check OPENAI_BASE_URL)")
    if isinstance(error, openai.AuthenticationError):
        return ModelError("the model server rejected OPENAI_API_KEY")
    if isinstance(error, openai.RateLimitError):
        return ModelUnavailableError("the model is rate-limited; try again shortly")
    if isinstance(error, openai.InternalServerError):
        return ModelUnavailableError(f"the model server failed (HTTP {error.status_code})")
    if isinstance(error, openai.APIStatusError):
        return ModelError(f"the model server refused the request (HTTP {error.status_code}): {error.message}")
    return error


_CLIENT_ERRORS = (openai.OpenAIError, httpx2.HTTPError)


class OpenAIChatModel:
    """Streams chat completions with tool calls, blocking (`stream`) or async (`astream`)."""

    def __init__(self, client: OpenAI, model: str, async_client: AsyncOpenAI | None = None) -> None:
        self._client = client
        self._async_client = async_client
        self._model = model
        self._tools_cache: tuple[Sequence[ToolSpec], list[dict[str, Any]]] | None = None

    def _wire_tools(self, tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
        # The agent passes the registry's one tuple of specs on every call.
        if self._tools_cache is None or self._tools_cache[0] is not tools:
            self._tools_cache = (tools, [to_openai_tool(t) for t in tools])
        return self._tools_cache[1]

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    @property
    def supports_async(self) -> bool:
        """True when an async client was given."""
        return self._async_client is not None

    def _request(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> dict[str, Any]:
        # Messages and tools go through `extra_body`, already in wire format: the client's
        # generic per-request transform walks every nested dict (tool JSON schemas, the whole
        # history) and was the largest CPU cost of a turn under load (see benchmarks/).
        body: dict[str, Any] = {"messages": [to_openai_message(m) for m in messages]}
        if tools:
            body["tools"] = self._wire_tools(tools)
        return {
            "model": self._model,
            "messages": [],
            "stream": True,
            "stream_options": {"include_usage": True},
            "extra_body": body,
        }

    def stream(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> Iterator[ModelEvent]:
        assembler = _Assembler(self._model)
        try:
            # The raw stream, parsed here: building a typed object for every chunk was the
            # next largest CPU cost per turn. Status errors and retries stay the client's.
            create = self._client.chat.completions.with_streaming_response.create
            with create(**self._request(messages, tools)) as response:
                for line in response.iter_lines():
                    if (chunk := _chunk(line)) is not None:
                        yield from assembler.feed(chunk)
        except _CLIENT_ERRORS as exc:
            raise _translated(exc) from exc
        yield from assembler.finish()

    async def astream(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]
    ) -> AsyncIterator[ModelEvent]:
        """The same stream on the async client: waiting for the model holds no thread."""
        if self._async_client is None:
            raise ModelError("no async client configured")
        assembler = _Assembler(self._model)
        try:
            create = self._async_client.chat.completions.with_streaming_response.create
            async with create(**self._request(messages, tools)) as response:
                async for line in response.iter_lines():
                    if (chunk := _chunk(line)) is not None:
                        for event in assembler.feed(chunk):
                            yield event
        except _CLIENT_ERRORS as exc:
            raise _translated(exc) from exc
        for event in assembler.finish():
            yield event
