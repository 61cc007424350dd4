"""A local OpenAI-compatible server with scripted answers: chat completions, and the audio
transcription and speech endpoints.

It lets the real `openai` client be exercised over HTTP — plain and streamed responses,
tool calls split across stream chunks, rate limits, server errors and slow answers, audio
uploaded as a form and spoken audio downloaded — without network access or an API key.
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import email.policy
import itertools
import json
import math
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agent_core.voice.audio import wav_bytes


@dataclass(frozen=True)
class FakeCompletion:
    """One scripted answer: text and/or tool calls, or an HTTP error status."""

    text: str = ""
    tool_calls: tuple[tuple[str, str, str], ...] = ()
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int = 11
    completion_tokens: int = 7
    # Faults a real server shows: keep-alive comments trickled for this many seconds before
    # the answer; the stream cut off before `[DONE]`; a 200 that is not a stream at all.
    trickle_seconds: float = 0.0
    # Trickle single bytes that never end a line, instead of keep-alive comment lines.
    trickle_bytes: bool = False
    truncated: bool = False
    raw_body: str | None = None
    # A local model's pauses: silence after the headers before the first event (reading a
    # cold prompt), and silence after the first event (a stalled server).
    silence_before: float = 0.0
    silence_midway: float = 0.0
    # A real server's stream as recorded: every SSE `data:` payload, `[DONE]` last, sent as is.
    recorded: tuple[str, ...] = ()


Responder = Callable[[dict[str, Any]], FakeCompletion]


class _Server(ThreadingHTTPServer):
    # Hundreds of clients connect at once in the load benchmark; the default backlog is 5.
    request_queue_size = 1024
    daemon_threads = True


class FakeOpenAIServer:
    """Serves `POST /v1/chat/completions` on 127.0.0.1 with a free port.

    Answers come from the queue given to `enqueue`, else from `responder`. Every request
    body is kept in `requests`.
    """

    def __init__(self, responder: Responder | None = None, port: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self.streaming = 0
        """Answers being streamed right now (a client that hung up ends its answer)."""
        self._queue: deque[FakeCompletion] = deque()
        self.transcripts: deque[str] = deque()
        """What the transcription endpoint answers next, in order ("" once they run out)."""
        self.audio_requests: list[dict[str, Any]] = []
        """Every transcription form (its fields, `file` as bytes) and speech request body."""
        self.audio_status = 200
        """The status both audio endpoints answer (an error status answers an error)."""
        self._responder = responder
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        """The URL to give the client as base_url."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def enqueue(self, *completions: FakeCompletion) -> None:
        """Answer the next requests with these, in order."""
        with self._lock:
            self._queue.extend(completions)

    def _next(self, body: dict[str, Any]) -> FakeCompletion:
        with self._lock:
            self.requests.append(body)
            if self._queue:
                return self._queue.popleft()
        if self._responder is None:
            return FakeCompletion(status=500, text="no scripted completion left")
        return self._responder(body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without this, Nagle's algorithm
            # and delayed ACKs add ~40 ms to every keep-alive response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                return None

            def handle(self) -> None:
                with server._lock:
                    server.connections += 1
                # A client dropping an idle keep-alive connection is normal, not an error.
                with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                    super().handle()

            def do_GET(self) -> None:
                # What a health probe asks for: cheap, and proof the server answers.
                if self.path.endswith("/models"):
                    self._send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:
                    self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

            def do_POST(self) -> None:
                if self.path.endswith(("/audio/transcriptions", "/audio/speech")):
                    self._audio()
                    return
                if not self.path.endswith("/chat/completions"):
                    self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                completion = server._next(body)
                if completion.delay:
                    time.sleep(completion.delay)
                if completion.raw_body is not None:
                    data = completion.raw_body.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                elif completion.status != 200:
                    self._send_json(
                        completion.status,
                        {
                            "error": {
                                "message": completion.text or "error",
                                "type": "server_error",
                                "code": None,
                            }
                        },
                        completion.headers,
                    )
                elif body.get("stream"):
                    self._send_stream(body.get("model", "fake"), completion)
                else:
                    self._send_json(200, _completion_json(body.get("model", "fake"), completion))

            def _audio(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.endswith("/transcriptions"):
                    fields = _form_fields(self.headers.get("Content-Type", ""), raw)
                    with server._lock:
                        server.audio_requests.append(fields)
                        text = server.transcripts.popleft() if server.transcripts else ""
                    answer: dict[str, Any] = {"text": text}
                else:
                    body = json.loads(raw or b"{}")
                    with server._lock:
                        server.audio_requests.append(body)
                if server.audio_status != 200:
                    error = {"message": "audio failed", "type": "server_error", "code": None}
                    self._send_json(server.audio_status, {"error": error})
                elif self.path.endswith("/transcriptions"):
                    self._send_json(200, answer)
                else:
                    data = tone_wav()
                    self.send_response(200)
                    self.send_header("Content-Type", "audio/wav")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def _send_json(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _send_stream(self, model: str, completion: FakeCompletion) -> None:
                # Chunked, so the connection stays open for the next request, as with the real API.
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                with server._lock:
                    server.streaming += 1
                try:
                    self._stream_events(model, completion)
                finally:
                    with server._lock:
                        server.streaming -= 1

            def _stream_events(self, model: str, completion: FakeCompletion) -> None:
                time.sleep(completion.silence_before)
                trickle_until = time.monotonic() + completion.trickle_seconds
                if completion.trickle_bytes:
                    self._send_chunk(":")
                while time.monotonic() < trickle_until:
                    self._send_chunk(" " if completion.trickle_bytes else ": keep-alive\n\n")
                    time.sleep(0.05)
                if completion.recorded:
                    for payload in completion.recorded:
                        self._send_chunk(f"data: {payload}\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
                events = [f"data: {json.dumps(chunk)}\n\n" for chunk in _stream_chunks(model, completion)]
                if completion.truncated:
                    for event in events[: len(events) // 2]:
                        self._send_chunk(event)
                    self.close_connection = True
                    return
                for number, event in enumerate([*events, "data: [DONE]\n\n"]):
                    if number == 1:
                        time.sleep(completion.silence_midway)
                    self._send_chunk(event)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _send_chunk(self, text: str) -> None:
                payload = text.encode()
                self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
                self.wfile.flush()

        return Handler


def _form_fields(content_type: str, raw: bytes) -> dict[str, Any]:
    """The fields of a multipart form: text as str, files as bytes."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = payload if part.get_filename() else bytes(payload or b"").decode()
    return fields


def tone_wav(seconds: float = 0.5, rate: int = 16_000) -> bytes:
    """A 440 Hz tone as a 16-bit mono WAV file: what the speech endpoint answers."""
    samples = (round(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(round(seconds * rate)))
    return wav_bytes(b"".join(struct.pack("<h", sample) for sample in samples), rate)


def _completion_json(model: str, completion: FakeCompletion) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": completion.text or None}
    if completion.tool_calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in completion.tool_calls
        ]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if completion.tool_calls else "stop",
            }
        ],
        "usage": _usage(completion),
    }


def _usage(completion: FakeCompletion) -> dict[str, int]:
    return {
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "total_tokens": completion.prompt_tokens + completion.completion_tokens,
    }


def _stream_chunks(model: str, completion: FakeCompletion) -> Iterator[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    yield chunk({"role": "assistant", "content": ""})
    words = completion.text.split(" ")
    for i, word in enumerate(words if completion.text else []):
        yield chunk({"content": word if i == 0 else " " + word})
    for index, (cid, name, args) in enumerate(completion.tool_calls):
        # Like the real API: id and name first, then the arguments in small pieces.
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": cid,
                        "type": "function",
                        "function": {"name": name, "arguments": ""},
                    }
                ]
            }
        )
        for start in range(0, len(args), 8):
            yield chunk(
                {"tool_calls": [{"index": index, "function": {"arguments": args[start : start + 8]}}]}
            )
    yield chunk({}, "tool_calls" if completion.tool_calls else "stop")
    yield {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [],
        "usage": _usage(completion),
    }


def _letters(number: int) -> str:
    """A number written in letters (names have no digits): 1 -> Ab, 2 -> Ac, 27 -> Bb."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[digit] + word
        if not number:
            break
    return ("a" + word if len(word) == 1 else word).capitalize()


def booking_responder(delay: float) -> Responder:
    """A model that books on the first call of a turn and confirms after the tool result,
    each answer taking `delay` seconds (load tests, shutdown tests). Each booking is for a
    customer of its own (Guest Ab, Guest Ac, …), so none is a repeat of another."""
    guests = itertools.count(1)

    def respond(body: dict[str, Any]) -> FakeCompletion:
        if body["messages"][-1]["role"] == "tool":
            return FakeCompletion(text="Booked.", delay=delay)
        name = f"Guest {_letters(next(guests))}"
        arguments = json.dumps({"name": name, "date": "2027-01-10", "location": "Porto"})
        return FakeCompletion(tool_calls=((f"call_{uuid.uuid4().hex}", "book_tour", arguments),), delay=delay)

    return respond


def main() -> None:
    """Serve the booking model on a fixed port until interrupted (benchmarks, demos)."""
    parser = argparse.ArgumentParser(description="local OpenAI-compatible test server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.3, help="seconds per completion")
    args = parser.parse_args()
    server = FakeOpenAIServer(booking_responder(args.delay), port=args.port)
    print(f"fake OpenAI server on {server.base_url}", flush=True)
    with server:
        threading.Event().wait()


if __name__ == "__main__":
    main()
