"""OpenAI's transcription and speech endpoints through the same `openai` client as the chat
model (any compatible server through OPENAI_BASE_URL), with its typed errors and retries."""

from __future__ import annotations

import openai
from openai import OpenAI, omit

from agent_core.errors import VoiceUnavailableError
from agent_core.voice.audio import Clip
from agent_core.voice.speech import Delivery

DEFAULT_VOICE = "alloy"


def _unavailable(what: str, error: openai.OpenAIError) -> VoiceUnavailableError:
    if isinstance(error, openai.APIStatusError):
        return VoiceUnavailableError(f"the {what} model answered HTTP {error.status_code}: {error.message}")
    return VoiceUnavailableError(f"the {what} model could not be reached: {type(error).__name__}")


class OpenAITranscriber:
    """`POST /audio/transcriptions` with the clip as a WAV file."""

    def __init__(self, client: OpenAI, model: str) -> None:
        self._client = client
        self._model = model

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    def transcribe(self, clip: Clip, language: str | None = None) -> str:
        try:
            heard = self._client.audio.transcriptions.create(
                model=self._model,
                file=("speech.wav", clip.wav(), "audio/wav"),
                language=language or omit,
            )
        except openai.OpenAIError as error:
            raise _unavailable("transcription", error) from None
        return heard.text.strip()


class OpenAISpeaker:
    """`POST /audio/speech` asking for WAV."""

    def __init__(self, client: OpenAI, model: str, voice: str = DEFAULT_VOICE) -> None:
        self._client = client
        self._model = model
        self._voice = voice

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    def speak(self, text: str, delivery: Delivery) -> bytes:
        try:
            spoken = self._client.audio.speech.create(
                model=self._model,
                voice=delivery.voice or self._voice,
                input=text,
                response_format="wav",
                speed=delivery.speed,
            )
        except openai.OpenAIError as error:
            raise _unavailable("speech", error) from None
        return spoken.read()

    def close(self) -> None:
        """The client belongs to the runtime, which closes it."""
