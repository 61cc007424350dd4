"""A live call over the WebSocket `/api/voice/live`, with the real offline models: speech
streamed in 20 ms frames is heard when the caller stops, answered as a turn, the reply comes
back as text and spoken sentence by sentence; speaking over an answer stops it, and what was
said next is the next message; a refused call says why."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from websockets.sync.client import connect
from websockets.sync.connection import Connection

from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.voice_turns import VoiceTurn
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from agent_core.voice.audio import AudioLimits, read_clip
from agent_core.voice.offline import PiperSpeaker
from tests.conftest import eventually
from tests.http.conftest import RunningApi
from tests.voice.test_listening import pcm, silence

DEMO = str(DEMO_TENANT_ID)
FRAME = 640  # 20 ms of 16 kHz 16-bit mono


@contextmanager
def call(api: RunningApi, **params: str) -> Iterator[Connection]:
    query = "&".join(f"{k}={v}" for k, v in {"tenantId": DEMO, **params}.items())
    with connect(f"ws://{api.url.removeprefix('http://')}/api/voice/live?{query}") as socket:
        yield socket


LIMITS = AudioLimits(10**8, 600)


def spoken_turns(api: RunningApi, conversation_id: UUID) -> list[VoiceTurn]:
    return api.runtime.store.voice_turns.in_conversation(DEMO_TENANT_ID, conversation_id)


def say(socket: Connection, audio: bytes) -> None:
    for offset in range(0, len(audio), FRAME):
        socket.send(audio[offset : offset + FRAME])


def events_until(socket: Connection, last: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The JSON events up to the first of type `last` (a spoken sentence's WAV as `_audio`)."""
    seen: list[dict[str, Any]] = []
    while True:
        frame = socket.recv(timeout=timeout)
        if isinstance(frame, bytes):
            seen[-1]["_audio"] = frame
            continue
        event = json.loads(frame)
        seen.append(event)
        if event["type"] == last:
            return seen


def test_a_spoken_booking_is_answered_in_words_and_speech(api: RunningApi, piper: PiperSpeaker) -> None:
    with call(api) as socket:
        [ready] = events_until(socket, "ready")
        assert (ready["sampleRate"], ready["conversationId"]) == (16_000, None)
        say(
            socket,
            silence(0.5)
            + pcm(piper, "I want to book a tour for John Smith on March fifteenth, 2027, in Paris.")
            + silence(1.0),
        )
        events = events_until(socket, "reply")
    kinds = [e["type"] for e in events]
    assert kinds[:3] == ["speech_started", "heard", "turn_started"]
    assert "john smith" in events[1]["text"].lower()
    [tool] = [e for e in events if e["type"] == "tool"]
    assert (tool["name"], tool["status"]) == ("book_tour", "succeeded")
    assert tool["arguments"] == {"name": "John Smith", "date": "2027-03-15", "location": "Paris"}
    spoken = [e for e in events if e["type"] == "audio"]
    assert spoken
    assert all(e["_audio"][:4] == b"RIFF" for e in spoken)
    assert "I've booked a tour for John Smith" in events[-1]["text"]
    assert [t.customer_name for t in api.runtime.store.list_tours(DEMO_TENANT_ID).rows] == ["John Smith"]
    # The spoken turn is kept with the conversation: every sentence the caller heard, in one recording.
    conversation = UUID(events[-1]["conversationId"])
    eventually(lambda: bool(spoken_turns(api, conversation)), "the spoken turn kept")
    [kept] = spoken_turns(api, conversation)
    assert kept.reply_audio is not None
    sent = sum(read_clip(e["_audio"], LIMITS).seconds for e in spoken)
    assert read_clip(kept.reply_audio.data, LIMITS).seconds == pytest.approx(sent, abs=0.1)
    assert kept.first_audio_ms is not None
    assert kept.answering_ms is not None


def test_speaking_over_an_answer_stops_it_and_is_the_next_message(
    serve: Callable[..., RunningApi], model: FakeOpenAIServer, piper: PiperSpeaker
) -> None:
    api = serve(openai_api_key="sk-test", openai_base_url=model.base_url, openai_max_retries=0)
    # The first answer is slow to come; the caller speaks again meanwhile.
    model.enqueue(
        FakeCompletion(text="Let me think about Paris.", delay=20), FakeCompletion(text="Of course, Rome.")
    )
    with call(api) as socket:
        events_until(socket, "ready")
        say(socket, pcm(piper, "Tell me about Paris.") + silence(1.0))
        first = events_until(socket, "turn_started")
        say(socket, pcm(piper, "Actually, tell me about Rome.") + silence(1.0))
        events = events_until(socket, "reply")
    stopped = first[-1]["turnId"]
    kinds = [e["type"] for e in events]
    assert kinds.index("speech_started") < kinds.index("interrupted") < kinds.index("heard")
    heard = next(e for e in events if e["type"] == "heard")
    assert "rome" in heard["text"].lower()
    assert events[-1]["text"] == "Of course, Rome."
    turns = api.runtime.store.list_turns(DEMO_TENANT_ID, events[-1]["conversationId"])
    by_id = {str(t.id): t for t in turns}
    assert by_id[stopped].status == "failed"
    assert "stopped" in (by_id[stopped].error or "")
    assert [t.status for t in turns][-1] == "succeeded"
    # What was said before the interruption is kept too; it was never answered aloud.
    conversation = UUID(events[-1]["conversationId"])
    eventually(lambda: len(spoken_turns(api, conversation)) == 2, "both spoken turns kept")
    interrupted = next(v for v in spoken_turns(api, conversation) if str(v.turn_id) == stopped)
    assert interrupted.caller_audio is not None
    assert (interrupted.reply_audio, interrupted.answering_ms, interrupted.first_audio_ms) == (
        None,
        None,
        None,
    )


def test_the_reply_coming_back_through_the_microphone_is_never_taken_as_a_message(
    api: RunningApi, piper: PiperSpeaker
) -> None:
    with call(api) as socket:
        events_until(socket, "ready")
        say(
            socket,
            pcm(piper, "I want to book a tour for John Smith on March fifteenth, 2027, in Paris.")
            + silence(1.0),
        )
        answered = events_until(socket, "reply")
        # No echo cancellation: the speaker's sound reaches the microphone while it plays.
        played = b"".join(
            (read_clip(e["_audio"], LIMITS).samples * 32767).astype("<i2").tobytes()
            for e in answered
            if e["type"] == "audio"
        )
        say(socket, played + silence(1.0))
        echoed = events_until(socket, "not_heard")
    assert echoed[-1]["echo"] is True
    assert "own voice" in echoed[-1]["message"]
    assert "turn_started" not in [e["type"] for e in echoed]
    turns = api.runtime.store.list_turns(DEMO_TENANT_ID, UUID(answered[-1]["conversationId"]))
    assert len(turns) == 1, "the echo started no turn"
    assert [t.customer_name for t in api.runtime.store.list_tours(DEMO_TENANT_ID).rows] == ["John Smith"]


def in_real_time(socket: Connection, audio: bytes) -> None:
    """Stream audio as a microphone does: a 20 ms frame every 20 ms."""
    for offset in range(0, len(audio), FRAME):
        socket.send(audio[offset : offset + FRAME])
        time.sleep(0.02)


def transcriptions(model: FakeOpenAIServer) -> list[dict[str, Any]]:
    return [r for r in model.audio_requests if "file" in r]


def test_what_was_said_is_transcribed_during_the_pause_once(
    serve: Callable[..., RunningApi], model: FakeOpenAIServer, piper: PiperSpeaker
) -> None:
    api = serve(
        openai_api_key="sk-test", openai_base_url=model.base_url, openai_max_retries=0, voice_stt="openai"
    )
    model.transcripts.append("What can you help me with?")
    model.enqueue(FakeCompletion(text="I can book tours."))
    with call(api) as socket:
        events_until(socket, "ready")
        say(socket, pcm(piper, "What can you help me with?"))  # no pause inside
        in_real_time(socket, silence(1.0))
        events = events_until(socket, "reply")
    assert next(e for e in events if e["type"] == "heard")["text"] == "What can you help me with?"
    # Transcribed once, in the pause, and that transcript answered when the pause was the end.
    assert len(transcriptions(model)) == 1


def test_a_caller_who_stops_mid_phrase_is_given_time_to_finish(
    serve: Callable[..., RunningApi], model: FakeOpenAIServer, piper: PiperSpeaker
) -> None:
    api = serve(
        openai_api_key="sk-test", openai_base_url=model.base_url, openai_max_retries=0, voice_stt="openai"
    )
    model.transcripts.extend(["Book a tour for John Smith and", "Book a tour for John Smith and in Paris."])
    model.enqueue(FakeCompletion(text="Which day?"))
    with call(api) as socket:
        events_until(socket, "ready")
        say(socket, pcm(piper, "Book a tour for John Smith and"))
        in_real_time(socket, silence(0.9))  # longer than the usual 0.7 s end
        say(socket, pcm(piper, "in Paris."))
        in_real_time(socket, silence(1.0))
        events = events_until(socket, "reply")
    assert [e["text"] for e in events if e["type"] == "heard"] == ["Book a tour for John Smith and in Paris."]
    assert [e["type"] for e in events].count("turn_started") == 1


def test_silence_and_noise_are_not_messages_and_a_bad_frame_is_answered(api: RunningApi) -> None:
    with call(api) as socket:
        events_until(socket, "ready")
        say(socket, silence(2.0))
        socket.send("hello?")
        [error] = events_until(socket, "error", timeout=10)
        assert error["code"] == "validation_error"
        socket.send(json.dumps({"type": "hangup"}))
    assert api.runtime.store.list_conversations(DEMO_TENANT_ID) == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"tenantId": "00000000-0000-0000-0000-00000000abcd"}, "not_found"),
        ({"tenantId": "nope"}, "validation_error"),
    ],
)
def test_a_call_for_a_tenant_that_cannot_be_reached_is_refused(
    api: RunningApi, params: dict[str, str], code: str
) -> None:
    with call(api, **params) as socket:
        [error] = events_until(socket, "error", timeout=10)
    assert error["code"] == code


def test_a_call_needs_a_key_once_the_api_is_closed(serve: Callable[..., RunningApi]) -> None:
    api = serve(api_keys="k" * 20)
    with call(api) as socket:
        [error] = events_until(socket, "error", timeout=10)
    assert error["code"] == "unauthorized"


def test_a_call_where_nothing_can_hear_is_refused_with_the_reason(serve: Callable[..., RunningApi]) -> None:
    api = serve(voice_stt="off")
    with call(api) as socket:
        [error] = events_until(socket, "error", timeout=10)
    assert (error["code"], error["message"]) == (
        "voice_unavailable",
        "speech-to-text is not available: VOICE_STT is off",
    )
