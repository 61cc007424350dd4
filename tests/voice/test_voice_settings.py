"""Which models hear and speak follows VOICE_STT and VOICE_TTS (and what is installed), and a
choice that cannot be met stops the start with the fix."""

from __future__ import annotations

import pytest

from agent_core.errors import ConfigError
from agent_core.runtime import build_openai_client, build_voice
from agent_core.settings import load_settings
from agent_core.voice.offline import EspeakSpeaker, PiperSpeaker, WhisperTranscriber
from agent_core.voice.openai_speech import OpenAISpeaker, OpenAITranscriber


def test_offline_by_default(unconfigured: None) -> None:
    voice = build_voice(load_settings(), None)
    assert isinstance(voice.ears, WhisperTranscriber)
    assert isinstance(voice.mouth, PiperSpeaker)
    assert voice.describe() == "hears with whisper:tiny.en, speaks with piper:en_US-joe-medium"
    assert (voice.limits.max_seconds, voice.limits.max_bytes) == (30.0, 8_388_608)


def test_openai_when_its_own_api_is_configured_and_offline_for_another_server(unconfigured: None) -> None:
    hosted = load_settings(openai_api_key="sk-test")
    voice = build_voice(hosted, build_openai_client(hosted))
    assert isinstance(voice.ears, OpenAITranscriber)
    assert isinstance(voice.mouth, OpenAISpeaker)
    # A local chat server (llama.cpp, vLLM…) seldom transcribes: the offline models hear.
    local = load_settings(openai_api_key="sk-test", openai_base_url="http://127.0.0.1:8080/v1")
    voice = build_voice(local, build_openai_client(local))
    assert isinstance(voice.ears, WhisperTranscriber)


def test_each_choice_can_be_forced(unconfigured: None) -> None:
    voice = build_voice(load_settings(voice_tts="espeak", voice_stt="off"), None)
    assert voice.ears is None
    assert isinstance(voice.mouth, EspeakSpeaker)


@pytest.mark.parametrize(
    ("settings", "fix"),
    [
        ({"voice_stt": "openai"}, "VOICE_STT=openai needs OPENAI_API_KEY"),
        ({"voice_tts": "openai"}, "VOICE_TTS=openai needs OPENAI_API_KEY"),
        ({"voice_stt": "sometimes"}, None),
    ],
)
def test_a_choice_that_cannot_be_met_stops_the_start_with_the_fix(
    unconfigured: None, settings: dict[str, str], fix: str | None
) -> None:
    with pytest.raises(ConfigError, match=fix or "VOICE_STT"):
        build_voice(load_settings(**settings), None)
