"""What the voice channel needs of speech models, like `ChatModel` for the chat model: one
protocol to hear, one to speak, so the offline models and OpenAI's endpoints are swapped by
settings alone (see `agent_core.runtime.build_voice`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agent_core.voice.audio import Clip


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a tenant's replies are spoken."""

    voice: str | None = None
    """A voice of the speech model (OpenAI: alloy, nova…); None: the model's default."""
    speed: float = 1.0
    """1.0 is the voice's own pace; 0.5 to 2.0."""
    language: str | None = None
    """ISO 639-1 code the caller speaks (`en`), when the transcription model can be told."""


class SpeechToText(Protocol):
    """Turns a caller's clip into the words said."""

    @property
    def name(self) -> str:
        """What transcribes (`whisper:tiny.en`, `openai:gpt-4o-mini-transcribe`)."""
        ...

    def transcribe(self, clip: Clip, language: str | None = None) -> str:
        """The words heard, as text (empty when nothing intelligible was said);
        VoiceUnavailableError when the model cannot be reached."""
        ...


class TextToSpeech(Protocol):
    """Turns a reply into speech."""

    @property
    def name(self) -> str:
        """What speaks (`piper:en_US-joe-medium`, `espeak-ng`, `openai:gpt-4o-mini-tts`)."""
        ...

    def speak(self, text: str, delivery: Delivery) -> bytes:
        """The text spoken, as a WAV file; VoiceUnavailableError when the model cannot speak."""
        ...

    def close(self) -> None:
        """Stop what it keeps running."""
        ...
