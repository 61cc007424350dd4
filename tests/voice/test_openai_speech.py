"""OpenAI's transcription and speech endpoints through the real `openai` client, against the
local OpenAI-compatible server: what is sent, what comes back, and a failure as ours."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator

import pytest
from openai import OpenAI

from agent_core.errors import VoiceUnavailableError
from agent_core.testing.openai_server import FakeOpenAIServer
from agent_core.voice.audio import AudioLimits, read_clip
from agent_core.voice.openai_speech import OpenAISpeaker, OpenAITranscriber
from agent_core.voice.speech import Delivery
from tests.voice.test_audio import tone

LIMITS = AudioLimits(max_bytes=1_000_000, max_seconds=10.0)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def client(server: FakeOpenAIServer) -> OpenAI:
    return OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)


def test_a_clip_is_sent_as_16_khz_wav_and_its_text_comes_back(
    server: FakeOpenAIServer, client: OpenAI
) -> None:
    server.transcripts.append(" Book a tour for Ana Silva. ")
    clip = read_clip(tone(1.0, 44_100, channels=2), LIMITS)
    heard = OpenAITranscriber(client, "gpt-4o-mini-transcribe").transcribe(clip, "en")
    assert heard == "Book a tour for Ana Silva."
    [sent] = server.audio_requests
    assert (sent["model"], sent["language"]) == ("gpt-4o-mini-transcribe", "en")
    with wave.open(io.BytesIO(sent["file"])) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getnframes()) == (16_000, 1, 16_000)


def test_a_reply_is_asked_for_as_wav_in_the_tenants_voice_and_pace(
    server: FakeOpenAIServer, client: OpenAI
) -> None:
    speaker = OpenAISpeaker(client, "gpt-4o-mini-tts", voice="alloy")
    spoken = speaker.speak("See you on Monday.", Delivery(voice="nova", speed=1.25))
    assert read_clip(spoken, LIMITS).seconds == pytest.approx(0.5)
    assert server.audio_requests == [
        {
            "model": "gpt-4o-mini-tts",
            "voice": "nova",
            "input": "See you on Monday.",
            "response_format": "wav",
            "speed": 1.25,
        }
    ]
    speaker.speak("Bye.", Delivery())
    assert server.audio_requests[-1]["voice"] == "alloy"


def test_a_failing_speech_server_is_reported_as_voice_unavailable(
    server: FakeOpenAIServer, client: OpenAI
) -> None:
    server.audio_status = 500
    with pytest.raises(VoiceUnavailableError, match="the speech model answered HTTP 500"):
        OpenAISpeaker(client, "gpt-4o-mini-tts").speak("Hello.", Delivery())
    clip = read_clip(tone(1.0, 16_000), LIMITS)
    with pytest.raises(VoiceUnavailableError, match="the transcription model answered HTTP 500"):
        OpenAITranscriber(client, "whisper-1").transcribe(clip)
    unreachable = OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(VoiceUnavailableError, match="could not be reached: APIConnectionError"):
        OpenAITranscriber(unreachable, "whisper-1").transcribe(clip)
