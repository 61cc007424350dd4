"""`POST /api/voice`: a caller's audio heard as their message, the turn run as `/api/chat`
runs it, the reply spoken — with the real offline models; audio that cannot be heard gets
the usual error shape and writes nothing."""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest

from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from agent_core.store.voice_turns import VoiceTurn
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from agent_core.voice.audio import AudioLimits, read_clip, wav_bytes
from agent_core.voice.offline import PiperSpeaker
from agent_core.voice.speech import Delivery
from tests.conftest import audit_entry, eventually
from tests.http.conftest import RunningApi

DEMO = str(DEMO_TENANT_ID)


def send(api: RunningApi, audio: bytes, kind: str = "audio/wav", **params: str) -> httpx.Response:
    return api.client.post(
        "/api/voice", params={"tenantId": DEMO, **params}, content=audio, headers={"Content-Type": kind}
    )


def kept_turns(api: RunningApi, conversation_id: str) -> list[VoiceTurn]:
    """The conversation's spoken turns, once the answer's background work kept them."""

    def kept() -> list[VoiceTurn]:
        return api.runtime.store.voice_turns.in_conversation(DEMO_TENANT_ID, UUID(conversation_id))

    eventually(lambda: bool(kept()), "the spoken turn kept")
    return kept()


def conversations(api: RunningApi) -> int:
    return len(api.runtime.store.list_conversations(DEMO_TENANT_ID))


def test_a_spoken_booking_is_heard_booked_and_answered_aloud(api: RunningApi, piper: PiperSpeaker) -> None:
    said = piper.speak("I want to book a tour for John Smith on March fifteenth, 2027, in Paris.", Delivery())
    answer = send(api, said)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "john smith" in body["transcript"].lower()
    [call] = body["toolCalls"]
    assert (call["name"], call["status"]) == ("book_tour", "succeeded")
    assert call["arguments"] == {"name": "John Smith", "date": "2027-03-15", "location": "Paris"}
    assert "I've booked a tour for John Smith" in body["reply"]
    with wave.open(io.BytesIO(base64.b64decode(body["replyAudio"]))) as spoken:
        assert spoken.getnframes() / spoken.getframerate() > 1.0
    assert body["heardSeconds"] > 1.0
    assert body["transcribeMs"] > 0
    # The conversation log keeps that it was said aloud.
    [turn] = api.runtime.store.list_turns(DEMO_TENANT_ID, UUID(body["conversationId"]))
    assert turn.spoken
    # The next message continues the conversation, as in chat.
    again = send(api, piper.speak("Cancel it, please.", Delivery()), conversationId=body["conversationId"])
    assert again.status_code == 200, again.text
    assert again.json()["conversationId"] == body["conversationId"]


def test_a_spoken_turn_is_kept_with_its_conversation_to_play_back_and_timed_in_analytics(
    api: RunningApi, piper: PiperSpeaker
) -> None:
    answer = send(api, piper.speak("Please note that the client prefers morning tours.", Delivery()))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    [kept] = kept_turns(api, body["conversationId"])
    assert kept.turn_id == UUID(body["turnId"])
    # What the caller said is kept as they said it: heard again, it is the same words.
    assert kept.caller_audio is not None
    assert kept.caller_audio.media_type == "audio/ogg"
    assert api.runtime.voice.hear(kept.caller_audio.data).text == body["transcript"]
    assert kept.reply_audio is not None
    assert read_clip(kept.reply_audio.data, AudioLimits(10**8, 600)).seconds > 1.0
    assert kept.listening_ms == pytest.approx(body["heardSeconds"] * 1000, abs=10)
    assert kept.transcribing_ms == pytest.approx(body["transcribeMs"])
    assert kept.answering_ms is not None
    assert kept.first_audio_ms is not None
    assert kept.first_audio_ms > kept.transcribing_ms + kept.answering_ms

    analytics = api.client.get(f"/api/tenants/{DEMO}/analytics").json()["voiceMs"]
    assert analytics["spokenTurns"] == 1
    assert analytics["firstAudio"]["p50"] == pytest.approx(kept.first_audio_ms, rel=0.03)


def test_the_api_lists_a_conversations_spoken_turns_and_plays_each_side_while_kept(
    api: RunningApi, piper: PiperSpeaker
) -> None:
    body = send(api, piper.speak("Hello, what can you help me with?", Delivery())).json()
    conversation, turn = body["conversationId"], body["turnId"]
    kept_turns(api, conversation)
    detail = api.client.get(f"/api/tenants/{DEMO}/conversations/{conversation}").json()
    [spoken] = detail["spokenTurns"]
    assert (spoken["turnId"], spoken["recordings"]) == (turn, ["caller", "reply"])
    assert spoken["listeningMs"] == pytest.approx(body["heardSeconds"] * 1000, abs=10)
    recordings = f"/api/tenants/{DEMO}/conversations/{conversation}/turns/{turn}/recordings"
    caller = api.client.get(f"{recordings}/caller")
    assert (caller.status_code, caller.headers["content-type"]) == (200, "audio/ogg")
    assert api.runtime.voice.hear(caller.content).text == body["transcript"]
    assert api.client.get(f"{recordings}/reply").status_code == 200
    assert api.client.get(f"{recordings}/both").status_code == 404
    # Another tenant's path never reaches it.
    elsewhere = recordings.replace(DEMO, str(SECOND_DEMO_TENANT_ID))
    assert api.client.get(f"{elsewhere}/caller").status_code == 404
    # Past the tenant's retention, the audio is gone and the timings stay.
    assert api.runtime.retention.sweep(datetime.now(UTC) + timedelta(days=31)) == 1
    assert api.client.get(f"{recordings}/caller").json()["error"]["code"] == "not_found"
    [forgotten] = api.client.get(f"/api/tenants/{DEMO}/conversations/{conversation}").json()["spokenTurns"]
    assert (forgotten["recordings"], forgotten["listeningMs"]) == ([], spoken["listeningMs"])


def test_a_tenant_that_keeps_no_recordings_keeps_only_the_timings(
    api: RunningApi, piper: PiperSpeaker
) -> None:
    api.runtime.store.update_tenant_settings(DEMO_TENANT_ID, {"recording_days": 0}, audit=audit_entry())
    answer = send(api, piper.speak("Hello, what can you help me with?", Delivery()))
    assert answer.status_code == 200, answer.text
    [kept] = kept_turns(api, answer.json()["conversationId"])
    assert (kept.caller_audio, kept.reply_audio) == (None, None)
    assert kept.listening_ms > 1000


@pytest.mark.parametrize(
    ("audio", "kind", "status", "code", "message"),
    [
        (b"", "audio/wav", 422, "validation_error", "the audio is empty"),
        (wav_bytes(bytes(32_000), 16_000), "audio/wav", 422, "validation_error", "silent"),
        (b"not audio" * 20, "audio/mpeg", 422, "validation_error", "cannot read the audio"),
        (b"RIFF", "text/plain", 415, "unsupported_media_type", "Content-Type: audio/wav"),
        (b"RIFF", "multipart/form-data", 415, "unsupported_media_type", "Content-Type: audio/wav"),
    ],
    ids=["empty", "silent", "not audio", "text", "form"],
)
def test_audio_that_cannot_be_heard_gets_the_usual_error_and_writes_nothing(
    api: RunningApi, audio: bytes, kind: str, status: int, code: str, message: str
) -> None:
    before = conversations(api)
    answer = send(api, audio, kind)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert message in error["message"]
    assert conversations(api) == before


def test_too_much_audio_is_refused_before_it_is_read(serve: Callable[..., RunningApi]) -> None:
    api = serve(voice_max_bytes=65_536)
    answer = send(api, b"RIFF" + bytes(70_000))
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"


def test_an_unknown_tenant_or_bad_parameters_are_refused(api: RunningApi) -> None:
    unknown = api.client.post(
        "/api/voice",
        params={"tenantId": "00000000-0000-0000-0000-00000000abcd"},
        content=wav_bytes(bytes(3200), 16_000),
        headers={"Content-Type": "audio/wav"},
    )
    assert unknown.status_code == 404
    missing = api.client.post("/api/voice", content=b"RIFF", headers={"Content-Type": "audio/wav"})
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "tenantId"


@pytest.fixture
def openai_api(serve: Callable[..., RunningApi], model: FakeOpenAIServer) -> RunningApi:
    """The API with `model` answering, transcribing and speaking, through the real client."""
    return serve(
        openai_api_key="sk-test",
        openai_base_url=model.base_url,
        openai_max_retries=0,
        voice_stt="openai",
        voice_tts="openai",
    )


def test_with_openai_the_same_client_transcribes_and_speaks(
    openai_api: RunningApi, model: FakeOpenAIServer
) -> None:
    api = openai_api
    model.transcripts.append("Book Ana Silva on 2027-01-10 in Porto.")
    booking = json.dumps({"name": "Ana Silva", "date": "2027-01-10", "location": "Porto"})
    model.enqueue(
        FakeCompletion(tool_calls=(("call_1", "book_tour", booking),)),
        FakeCompletion(text="Booked Ana Silva on 10 January in Porto."),
    )
    answer = send(api, wav_bytes(bytes([0, 60]) * 8000, 16_000))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["transcript"] == "Book Ana Silva on 2027-01-10 in Porto."
    assert [c["name"] for c in body["toolCalls"]] == ["book_tour"]
    assert base64.b64decode(body["replyAudio"])[:4] == b"RIFF"
    heard, spoken = model.audio_requests
    assert (heard["model"], heard["file"][:4]) == ("gpt-4o-mini-transcribe", b"RIFF")
    assert (spoken["model"], spoken["voice"], spoken["input"]) == (
        "gpt-4o-mini-tts",
        "alloy",
        "Booked Ana Silva on 10 January in Porto.",
    )


def test_a_spoken_message_whose_answer_failed_keeps_what_the_caller_said(
    openai_api: RunningApi, model: FakeOpenAIServer
) -> None:
    api = openai_api
    model.transcripts.append("Book Ana Silva on 2027-01-10 in Porto.")
    model.enqueue(FakeCompletion(status=500))
    answer = send(api, wav_bytes(bytes([0, 60]) * 8000, 16_000))
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "model_unavailable"
    [kept] = kept_turns(api, error["conversationId"])
    assert kept.turn_id == UUID(error["turnId"])
    assert kept.caller_audio is not None
    assert (kept.reply_audio, kept.answering_ms, kept.first_audio_ms) == (None, None, None)


def test_a_conversations_recordings_are_forgotten_when_a_caller_asks(
    api: RunningApi, piper: PiperSpeaker
) -> None:
    body = send(api, piper.speak("Hello, what can you help me with?", Delivery())).json()
    conversation, turn = body["conversationId"], body["turnId"]
    kept_turns(api, conversation)
    path = f"/api/tenants/{DEMO}/conversations/{conversation}"
    assert api.client.delete(f"{path}/recordings").json() == {"forgotten": 1}
    assert api.client.get(f"{path}/turns/{turn}/recordings/caller").status_code == 404
    assert api.client.get(path).json()["spokenTurns"][0]["recordings"] == []
    assert api.client.delete(f"{path}/recordings").json() == {"forgotten": 0}  # nothing left: no error
    unknown = api.client.delete(f"/api/tenants/{DEMO}/conversations/{uuid4()}/recordings")
    assert unknown.status_code == 404
    elsewhere = api.client.delete(
        f"/api/tenants/{SECOND_DEMO_TENANT_ID}/conversations/{conversation}/recordings"
    )
    assert elsewhere.status_code == 404
