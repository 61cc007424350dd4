"""The chat call's HTTP: the openai client's retry rules, kept connections, proxies."""

from __future__ import annotations

import email.utils
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from openai import OpenAI

from agent_core.domain import ChatMessage
from agent_core.errors import ConfigError, ModelError, ModelUnavailableError
from agent_core.llm.base import TextDelta
from agent_core.llm.model_connections import retry_wait, should_retry
from agent_core.llm.openai_model import OpenAIChatModel
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from tests.conftest import eventually

HELLO = [ChatMessage("user", "Hello")]
STREAM = (
    b'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\n'
    b'data: {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}\n\n'
    b"data: [DONE]\n\n"
)


def headers(**values: str) -> dict[str, str]:
    """An answer's headers as the connection reads them: names in lower case."""
    return {name.replace("_", "-"): value for name, value in values.items()}


def reply_of(model: OpenAIChatModel) -> str:
    return "".join(e.text for e in model.stream(HELLO, []) if isinstance(e, TextDelta))


def model_at(url: str, retries: int = 0) -> OpenAIChatModel:
    return OpenAIChatModel(OpenAI(api_key="sk-test", base_url=url, max_retries=retries), "gpt-test")


@pytest.mark.parametrize(
    ("status", "retried"), [(408, True), (409, True), (429, True), (500, True), (503, True)]
)
def test_the_statuses_the_openai_client_retries_are_retried(status: int, retried: bool) -> None:
    assert should_retry(status, headers()) is retried


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_refused_request_is_not_retried(status: int) -> None:
    assert should_retry(status, headers()) is False


def test_the_server_may_say_whether_to_retry() -> None:
    assert should_retry(400, headers(x_should_retry="true")) is True
    assert should_retry(503, headers(x_should_retry="false")) is False


def test_a_server_asking_for_more_than_two_minutes_is_not_retried() -> None:
    assert should_retry(429, headers(retry_after="121")) is False
    assert should_retry(429, headers(retry_after="120")) is True


def test_the_wait_is_the_servers_when_it_asks_for_one() -> None:
    assert retry_wait(0, headers(retry_after_ms="250")) == 0.25
    assert retry_wait(0, headers(retry_after="3")) == 3.0
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8.0 < retry_wait(0, headers(retry_after=in_ten)) <= 10.0


def test_otherwise_the_wait_doubles_from_half_a_second_to_eight_less_up_to_a_quarter() -> None:
    for attempt, longest in ((0, 0.5), (1, 1.0), (2, 2.0), (5, 8.0), (40, 8.0)):
        waits = [retry_wait(attempt, None) for _ in range(50)]
        assert all(longest * 0.75 <= wait <= longest for wait in waits)
    assert retry_wait(0, headers(retry_after="0")) <= 0.5  # a wait of nothing is no ask


def test_the_servers_own_words_for_a_refusal_are_kept() -> None:
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(status=400, text="the context is too long"))
        with pytest.raises(ModelError, match=r"refused the request \(HTTP 400\): the context is too long"):
            reply_of(model_at(server.base_url, retries=2))
        assert len(server.requests) == 1


class OneShotServer:
    """A raw HTTP server on loopback: `answer` gets each request's first line and the
    accepted socket, and writes what it likes."""

    def __init__(self, answer: Callable[[bytes, socket.socket], None]) -> None:
        self.lines: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.connections = 0
        self.ended = 0
        """Connections the client closed (or that broke)."""
        self._answer = answer
        self._listening = socket.create_server(("127.0.0.1", 0))
        self.port = self._listening.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listening.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as incoming:
            while line := incoming.readline():
                sent: dict[str, str] = {}
                while (header := incoming.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode().partition(":")
                    sent[name.strip().lower()] = value.strip()
                incoming.read(int(sent.get("content-length", 0)))
                self.lines.append(line.strip())
                self.headers.append(sent)
                self._answer(line, connection)
        self.ended += 1

    def close(self) -> None:
        self._listening.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[bytes, socket.socket], None]], OneShotServer]]:
    servers: list[OneShotServer] = []

    def start(answer: Callable[[bytes, socket.socket], None]) -> OneShotServer:
        servers.append(OneShotServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def stream_then_hang_up(line: bytes, connection: socket.socket) -> None:
    connection.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        + f"Content-Length: {len(STREAM)}\r\n\r\n".encode()
        + STREAM
    )
    time.sleep(0.05)
    connection.shutdown(socket.SHUT_RDWR)  # as a server closes a connection left idle


def test_a_kept_connection_the_server_closed_is_replaced_without_spending_a_retry(
    raw_server: Callable[[Callable[[bytes, socket.socket], None]], OneShotServer],
) -> None:
    server = raw_server(stream_then_hang_up)
    model = model_at(f"http://127.0.0.1:{server.port}/v1", retries=0)
    assert reply_of(model) == "Hi"
    time.sleep(0.2)
    assert reply_of(model) == "Hi"
    assert server.connections == 2


def stream_and_keep_open(line: bytes, connection: socket.socket) -> None:
    connection.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        + f"Content-Length: {len(STREAM)}\r\n\r\n".encode()
        + STREAM
    )


def test_a_closed_model_closes_the_connection_it_kept_and_keeps_no_more(
    raw_server: Callable[[Callable[[bytes, socket.socket], None]], OneShotServer],
) -> None:
    server = raw_server(stream_and_keep_open)
    model = model_at(f"http://127.0.0.1:{server.port}/v1")
    assert reply_of(model) == "Hi"
    assert reply_of(model) == "Hi"
    assert (server.connections, server.ended) == (1, 0)  # kept between the two calls
    model.close()
    eventually(lambda: server.ended == 1, "the kept connection was closed")
    assert reply_of(model) == "Hi"  # a call after still answers, on a connection it closes
    eventually(lambda: server.ended == 2, "the last call's connection was closed")
    assert server.connections == 2


def test_an_answer_without_a_length_ends_with_its_connection(
    raw_server: Callable[[Callable[[bytes, socket.socket], None]], OneShotServer],
) -> None:
    def stream_and_close(line: bytes, connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + STREAM)
        connection.shutdown(socket.SHUT_RDWR)

    server = raw_server(stream_and_close)
    model = model_at(f"http://127.0.0.1:{server.port}/v1")
    assert reply_of(model) == "Hi"
    assert reply_of(model) == "Hi"
    assert server.connections == 2  # such an answer's connection cannot carry another


def test_an_answer_followed_by_what_nobody_asked_for_stands_and_its_connection_is_dropped(
    raw_server: Callable[[Callable[[bytes, socket.socket], None]], OneShotServer],
) -> None:
    def stream_and_babble(line: bytes, connection: socket.socket) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            + f"Content-Length: {len(STREAM)}\r\n\r\n".encode()
            + STREAM
            + b"HTTP/1.1 200 OK\r\n"
        )

    server = raw_server(stream_and_babble)
    model = model_at(f"http://127.0.0.1:{server.port}/v1")
    assert reply_of(model) == "Hi"
    assert reply_of(model) == "Hi"
    assert server.connections == 2


def test_an_interim_answer_before_the_real_one_is_passed_over(
    raw_server: Callable[[Callable[[bytes, socket.socket], None]], OneShotServer],
) -> None:
    def continue_then_stream(line: bytes, connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        stream_then_hang_up(line, connection)

    server = raw_server(continue_then_stream)
    assert reply_of(model_at(f"http://127.0.0.1:{server.port}/v1")) == "Hi"


def test_a_chunked_answer_cut_off_before_its_end_is_a_model_error(
    raw_server: Callable[[Callable[[bytes, socket.socket], None]], OneShotServer],
) -> None:
    def half_a_stream(line: bytes, connection: socket.socket) -> None:
        first = STREAM.split(b"\n\n")[0] + b"\n\n"  # the first event, whole
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + f"{len(first):x}\r\n".encode()
            + first
            + b"\r\n"
        )
        connection.shutdown(socket.SHUT_RDWR)

    server = raw_server(half_a_stream)
    with pytest.raises(ModelError, match="cut off before its end"):
        reply_of(model_at(f"http://127.0.0.1:{server.port}/v1"))


@pytest.mark.parametrize("header", [{"X-Team": "ops\r\nX-Evil: 1"}, {"X Team": "ops"}, {"X-Team": "運用"}])
def test_a_header_a_request_cannot_carry_is_refused_when_the_model_is_set_up(header: dict[str, str]) -> None:
    client = OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1", default_headers=header)
    with pytest.raises(ConfigError, match="cannot be sent"):
        OpenAIChatModel(client, "gpt-test")


def test_the_clients_key_and_headers_are_sent(
    raw_server: Callable[[Callable[[bytes, socket.socket], None]], OneShotServer],
) -> None:
    server = raw_server(stream_then_hang_up)
    client = OpenAI(
        api_key="sk-mine", base_url=f"http://127.0.0.1:{server.port}/v1", default_headers={"X-Team": "ops"}
    )
    assert reply_of(OpenAIChatModel(client, "gpt-test")) == "Hi"
    (sent,) = server.headers
    assert sent["authorization"] == "Bearer sk-mine"
    assert sent["x-team"] == "ops"
    assert sent["user-agent"].startswith("OpenAI/Python")
    assert "openai-organization" not in sent  # the client leaves it out when it is not set


def test_a_plain_http_model_is_reached_through_http_proxy(
    raw_server: Callable[[Callable[[bytes, socket.socket], None]], OneShotServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = raw_server(stream_then_hang_up)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert reply_of(model_at("http://model.internal:8080/v1")) == "Hi"
    assert proxy.lines == [b"POST http://model.internal:8080/v1/chat/completions HTTP/1.1"]


def test_an_https_model_is_tunnelled_through_https_proxy(
    raw_server: Callable[[Callable[[bytes, socket.socket], None]], OneShotServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(line: bytes, connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    proxy = raw_server(refuse)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
    with pytest.raises(ModelUnavailableError, match="cannot reach the model server"):
        reply_of(model_at("https://api.example.com/v1"))
    assert proxy.lines == [b"CONNECT api.example.com:443 HTTP/1.0"]


def test_no_proxy_names_the_servers_reached_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(text="Direct."))
        assert reply_of(model_at(server.base_url)) == "Direct."


def test_the_request_body_is_one_json_document_with_the_tools_and_the_messages() -> None:
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(text="Hi"))
        reply_of(model_at(server.base_url))
        (sent,) = server.requests
    assert sent == {
        "model": "gpt-test",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "Hello"}],
    }


def test_a_model_that_does_not_begin_in_time_is_asked_again_while_retries_remain() -> None:
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(text="too late", delay=1.0), FakeCompletion(text="Made it."))
        client = OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=1)
        model = OpenAIChatModel(client, "gpt-test", first_token_seconds=0.3)
        assert reply_of(model) == "Made it."
        assert len(server.requests) == 2


def test_a_retry_the_answers_deadline_would_not_wait_for_is_not_made() -> None:
    with FakeOpenAIServer() as server:
        server.enqueue(FakeCompletion(status=429, text="slow down", headers={"retry-after": "5"}))
        client = OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=2)
        model = OpenAIChatModel(client, "gpt-test", deadline_seconds=1.0)
        with pytest.raises(ModelUnavailableError, match="did not finish its answer in time"):
            reply_of(model)
        assert len(server.requests) == 1
