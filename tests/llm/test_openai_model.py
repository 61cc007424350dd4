"""The OpenAI adapter through the real `openai` client, over HTTP, against a local server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from agent_core.clock import FixedClock
from agent_core.domain import ChatMessage, ToolCallRequest, ToolCallStatus, Usage
from agent_core.errors import ModelError, ModelUnavailableError
from agent_core.llm.base import ModelDone, ModelEvent, TextDelta
from agent_core.llm.openai_model import MAX_LINE_CHARS, OpenAIChatModel, _sse_chunks
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.testing.net import free_port
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from agent_core.tools import default_registry
from tests.conftest import whole_turn

HELLO = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hello")]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


def model_for(
    server: FakeOpenAIServer, *, retries: int = 0, silence: float = 5.0, first_token: float = 5.0
) -> OpenAIChatModel:
    client = OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=retries, timeout=silence)
    return OpenAIChatModel(client, "gpt-test", first_token_seconds=first_token, silence_seconds=silence)


def collect(events: Iterator[ModelEvent]) -> tuple[str, list[ToolCallRequest], ModelDone]:
    items = list(events)
    done = items[-1]
    assert isinstance(done, ModelDone)
    text = "".join(e.text for e in items if isinstance(e, TextDelta))
    return text, [e for e in items if isinstance(e, ToolCallRequest)], done


def test_a_plain_reply_streams_as_text_deltas_with_usage(server: FakeOpenAIServer) -> None:
    server.enqueue(FakeCompletion(text="Hello there, how can I help?", prompt_tokens=20, completion_tokens=8))
    events = list(model_for(server).stream(HELLO, []))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1
    assert "".join(d.text for d in deltas) == "Hello there, how can I help?"
    assert events[-1] == ModelDone(Usage(20, 8), "openai:gpt-test")
    request = server.requests[0]
    assert request["stream"] is True
    assert request["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
    ]
    assert "tools" not in request


def test_streamed_tool_calls_are_reassembled(server: FakeOpenAIServer) -> None:
    booking = json.dumps({"name": "Zoë Martin", "date": "2027-01-05", "location": "Rome"})
    note = json.dumps({"content": "Prefers mornings"})
    server.enqueue(
        FakeCompletion(tool_calls=(("call_a", "book_tour", booking), ("call_b", "take_note", note)))
    )
    text, calls, _ = collect(model_for(server).stream(HELLO, default_registry().specs))
    assert text == ""
    assert calls == [
        ToolCallRequest("call_a", "book_tour", booking),
        ToolCallRequest("call_b", "take_note", note),
    ]
    tools = server.requests[0]["tools"]
    assert [t["function"]["name"] for t in tools] == [
        "book_tour",
        "find_tours",
        "cancel_tour",
        "reschedule_tour",
        "take_note",
        "update_contact_info",
    ]
    assert tools[0]["function"]["parameters"]["required"] == ["name", "date", "location"]


def test_each_call_offers_the_tools_it_was_given(server: FakeOpenAIServer) -> None:
    # One tenant may use every tool and the next only some: the serialised schemas are
    # reused only for the same tools, whatever tuple holds them.
    specs = default_registry().specs
    model = model_for(server)
    for offered in (tuple(specs), specs[:2], tuple(specs), ()):
        server.enqueue(FakeCompletion(text="Ok."))
        collect(model.stream(HELLO, offered))
    sent = [[t["function"]["name"] for t in r.get("tools", [])] for r in server.requests]
    everything = [s.name for s in specs]
    assert sent == [everything, everything[:2], everything, []]


def test_tool_history_is_sent_in_the_chat_completions_shape(server: FakeOpenAIServer) -> None:
    server.enqueue(FakeCompletion(text="Booked."))
    call = ToolCallRequest("call_a", "take_note", '{"content": "x"}')
    history = [
        *HELLO,
        ChatMessage("assistant", "", (call,)),
        ChatMessage("tool", '{"ok": true}', tool_call_id="call_a"),
    ]
    collect(model_for(server).stream(history, []))
    sent = server.requests[0]["messages"]
    assert sent[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "take_note", "arguments": '{"content": "x"}'},
            }
        ],
    }
    assert sent[3] == {"role": "tool", "tool_call_id": "call_a", "content": '{"ok": true}'}


def test_a_rate_limit_is_retried_and_then_succeeds(server: FakeOpenAIServer) -> None:
    server.enqueue(
        FakeCompletion(status=429, text="slow down", headers={"retry-after-ms": "10"}),
        FakeCompletion(text="Made it."),
    )
    text, _, _ = collect(model_for(server, retries=2).stream(HELLO, []))
    assert text == "Made it."
    assert len(server.requests) == 2


def test_a_persistent_server_error_is_reported_as_unavailable_after_retries(server: FakeOpenAIServer) -> None:
    server.enqueue(*[FakeCompletion(status=500, text="boom", headers={"retry-after-ms": "10"})] * 2)
    with pytest.raises(ModelUnavailableError, match=r"the model server failed \(HTTP 500\)"):
        collect(model_for(server, retries=1).stream(HELLO, []))
    assert len(server.requests) == 2


def test_a_slow_model_times_out(server: FakeOpenAIServer) -> None:
    server.enqueue(FakeCompletion(text="too late", delay=1.0))
    with pytest.raises(ModelUnavailableError, match="did not answer in time"):
        collect(model_for(server, first_token=0.2).stream(HELLO, []))


def test_a_model_slow_to_begin_is_waited_for_longer_than_a_silence_midway(server: FakeOpenAIServer) -> None:
    # A local model on a cold prompt cache: headers at once, then a long pause before the
    # first token; the short silence allowance applies only once the answer has begun.
    server.enqueue(FakeCompletion(text="Hello there", silence_before=1.0))
    text, _, _ = collect(model_for(server, silence=0.3, first_token=5.0).stream(HELLO, []))
    assert text == "Hello there"


def test_a_model_that_never_begins_ends_at_the_first_token_wait(server: FakeOpenAIServer) -> None:
    server.enqueue(FakeCompletion(text="too late", silence_before=2.0))
    with pytest.raises(ModelUnavailableError, match="OPENAI_FIRST_TOKEN_SECONDS"):
        collect(model_for(server, silence=5.0, first_token=0.3).stream(HELLO, []))


def test_a_model_that_goes_silent_mid_answer_is_unavailable(server: FakeOpenAIServer) -> None:
    server.enqueue(FakeCompletion(text="I have booked", silence_midway=1.0))
    with pytest.raises(ModelUnavailableError, match=r"went silent for more than 0\.3 s"):
        collect(model_for(server, silence=0.3, first_token=5.0).stream(HELLO, []))


def test_a_rejected_key_names_the_variable_to_fix(server: FakeOpenAIServer) -> None:
    server.enqueue(FakeCompletion(status=401, text="invalid api key"))
    with pytest.raises(ModelError, match="OPENAI_API_KEY"):
        collect(model_for(server).stream(HELLO, []))


def test_an_unreachable_server_is_unavailable() -> None:
    port = free_port()
    client = OpenAI(api_key="sk-test", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=2)
    with pytest.raises(ModelUnavailableError, match="cannot reach the model server"):
        collect(OpenAIChatModel(client, "gpt-test").stream(HELLO, []))


def test_a_whole_turn_through_the_runtime_books_a_tour(
    server: FakeOpenAIServer, tmp_path: Path, clock: FixedClock
) -> None:
    booking = json.dumps({"name": "John Smith", "date": "2027-03-15", "location": "Paris"})
    # The first answer begins after a pause longer than the allowed silence: the runtime
    # gives the model OPENAI_FIRST_TOKEN_SECONDS for it.
    server.enqueue(
        FakeCompletion(tool_calls=(("call_1", "book_tour", booking),), silence_before=0.6),
        FakeCompletion(text="Your tour is booked for 15 March 2027."),
    )
    settings = load_settings(
        sqlite_path=tmp_path / "db.sqlite3",
        openai_api_key="sk-test",
        openai_base_url=server.base_url,
        openai_model="gpt-test",
        openai_timeout_seconds=0.3,
        openai_first_token_seconds=5,
    )
    runtime = build_runtime(settings, clock=clock)
    try:
        result = whole_turn(runtime.agent, DEMO_TENANT_ID, "Book John Smith in Paris on 2027-03-15")
    finally:
        runtime.close()
    assert result.model == "openai:gpt-test"
    assert result.usage == Usage(22, 14)
    (record,) = result.tool_calls
    assert record.status is ToolCallStatus.SUCCEEDED
    second = server.requests[1]["messages"]
    assert second[-1]["role"] == "tool"
    assert second[-1]["tool_call_id"] == "call_1"
    assert json.loads(second[-1]["content"])["ok"] is True


def test_a_model_that_trickles_keep_alives_ends_at_the_deadline(server: FakeOpenAIServer) -> None:
    server.enqueue(FakeCompletion(text="too late", trickle_seconds=3.0))
    client = OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0, timeout=1.0)
    model = OpenAIChatModel(client, "gpt-test", deadline_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError, match="did not finish its answer in time"):
        collect(model.stream(HELLO, []))
    # Each read is well within the 1 s read timeout; only the whole-answer deadline ends it.
    assert time.monotonic() - started < 2.5


def test_a_stream_cut_off_before_its_end_is_a_model_error(server: FakeOpenAIServer) -> None:
    server.enqueue(FakeCompletion(text="I have booked the tour for you", truncated=True))
    with pytest.raises(ModelError, match="cut off"):
        collect(model_for(server).stream(HELLO, []))


def test_an_answer_that_is_not_a_stream_is_a_model_error(server: FakeOpenAIServer) -> None:
    server.enqueue(FakeCompletion(raw_body="<html><body>Gateway login</body></html>"))
    with pytest.raises(ModelError, match="did not stream"):
        collect(model_for(server).stream(HELLO, []))


def test_one_connection_serves_many_model_calls(server: FakeOpenAIServer) -> None:
    model = model_for(server)
    for _ in range(5):
        server.enqueue(FakeCompletion(text="Hi"))
        collect(model.stream(HELLO, []))
    assert server.connections == 1


def test_text_the_store_cannot_hold_is_cleaned(server: FakeOpenAIServer) -> None:
    server.enqueue(
        FakeCompletion(
            text="Bad\u0000 char \ud800 here",
            tool_calls=(("call\u00001", "take_note", '{"content": "x\u0000"}'),),
        )
    )
    text, calls, _ = collect(model_for(server).stream(HELLO, []))
    assert text == "Bad char ? here"
    assert calls == [ToolCallRequest("call1", "take_note", '{"content": "x"}')]


# -- reading the stream: server-sent events however the network cuts them ---------------------

RECORDED: list[dict[str, object]] = [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}], "model": "m"},
    {"choices": [{"index": 0, "delta": {"content": "Booked "}}], "model": "m"},
    {"choices": [{"index": 0, "delta": {"content": "Zoë ✓"}}], "model": "m"},
    {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3}, "model": "m"},
]


def event_stream(chunks: list[dict[str, object]], newline: bytes = b"\n") -> bytes:
    events = [b"data: " + json.dumps(c, ensure_ascii=False).encode() for c in chunks] + [b"data: [DONE]"]
    return b"".join(e + newline + newline for e in events)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_events_read_the_same_wherever_the_network_cuts_them(newline: bytes) -> None:
    body = event_stream(RECORDED, newline)
    assert list(_sse_chunks(iter([body]))) == RECORDED
    for cut in range(1, len(body)):
        assert list(_sse_chunks(iter([body[:cut], body[cut:]]))) == RECORDED, cut
    assert list(_sse_chunks(iter(body[i : i + 1] for i in range(len(body))))) == RECORDED


def test_comments_and_other_fields_are_skipped_and_what_follows_done_is_not_read() -> None:
    body = b": keep-alive\n\nevent: chunk\nid: 7\n" + event_stream(RECORDED[1:2]) + b"data: {not json\n\n"
    assert list(_sse_chunks(iter([body]))) == RECORDED[1:2]


def test_a_last_line_without_its_newline_still_counts() -> None:
    body = event_stream(RECORDED[1:2]).removesuffix(b"\n\n")
    assert list(_sse_chunks(iter([body]))) == RECORDED[1:2]


def test_an_escaped_lone_surrogate_is_read_not_refused() -> None:
    body = b'data: {"choices": [{"delta": {"content": "Ana \\ud800"}}]}\n\ndata: [DONE]\n\n'
    assert list(_sse_chunks(iter([body]))) == [{"choices": [{"delta": {"content": "Ana \ud800"}}]}]


@pytest.mark.parametrize(
    "body",
    [
        b"data: {not json\n\n",
        b'data: {"choices": []}\n\ndata: \xff\xfe\n\n',
        b"data: " + b"x" * (MAX_LINE_CHARS + 1),
    ],
    ids=["not JSON", "not UTF-8", "a line that never ends"],
)
def test_what_is_not_an_event_stream_is_a_model_error(body: bytes) -> None:
    with pytest.raises(ModelError, match="malformed stream"):
        list(_sse_chunks(iter([body, b"data: [DONE]\n\n"])))


def test_an_error_event_mid_answer_makes_the_model_unavailable() -> None:
    body = b'data: {"choices": []}\n\ndata: {"error": {"message": "out of memory"}}\n\ndata: [DONE]\n\n'
    with pytest.raises(ModelUnavailableError, match="failed mid-answer: out of memory"):
        list(_sse_chunks(iter([body])))


def test_a_stream_without_its_done_is_cut_off() -> None:
    body = event_stream(RECORDED).removesuffix(b"data: [DONE]\n\n")
    with pytest.raises(ModelError, match="cut off before its end"):
        list(_sse_chunks(iter([body])))
