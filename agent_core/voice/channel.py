"""The voice channel's two halves around a turn: hear the caller's audio as a message, and say
the reply. The turn in between is the same as a typed one."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from agent_core.agent.claims import SENTENCE_END
from agent_core.errors import InvalidInputError, VoiceUnavailableError
from agent_core.voice.audio import AudioLimits, Clip, read_clip
from agent_core.voice.speech import Delivery, SpeechToText, TextToSpeech

_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
# An id: a UUID, or a run of hex with letters and digits both (a short booking reference).
_ID = (
    r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,})"
)
_ASIDE = re.compile(rf"\s*\([^()]*\b{_ID}\b[^()]*\)", re.IGNORECASE)
_BARE_ID = re.compile(rf"\b{_ID}\b", re.IGNORECASE)
_MARKUP = re.compile(r"[*_`#>|]+")


def spoken_text(reply: str) -> str:
    """A reply as it is said: links and reference numbers, which nobody can follow by ear,
    become a pointer to the written reply (an aside holding one is left out); markdown marks
    are dropped."""
    text = _URL.sub("the link in the chat", reply)
    text = _BARE_ID.sub("the reference in the chat", _ASIDE.sub("", text))
    return " ".join(_MARKUP.sub(" ", text).split())


def whole_sentences(text: str) -> tuple[list[str], str]:
    """The finished sentences of a reply being written, and the unfinished rest (all of a
    finished reply's sentences are the first and, when not empty, the rest)."""
    parts = SENTENCE_END.split(text)
    return [p for p in parts[:-1] if p.strip()], parts[-1]


@dataclass(frozen=True, slots=True)
class Heard:
    """What the caller said, and what it took."""

    text: str
    seconds: float
    """How long the audio lasted."""
    transcribe_ms: float
    clip: Clip
    """The audio as it was heard (16 kHz mono), to keep as the caller's recording."""
    received_at: float
    """When the audio was complete (`time.perf_counter()`): where the wait a caller hears begins."""
    heard_at: float
    """When the words were known (`time.perf_counter()`)."""


@dataclass(frozen=True, slots=True)
class Voice:
    """Hearing (`ears`) and speaking (`mouth`), either of which may be missing."""

    ears: SpeechToText | None
    mouth: TextToSpeech | None
    limits: AudioLimits
    missing: str = ""
    """Why what is missing is missing, with the fix (shown where voice would be)."""

    def hear(self, audio: bytes, language: str | None = None) -> Heard:
        """The words in the caller's audio. InvalidInputError for audio that is empty,
        too long, silent, unreadable or without a word in it; VoiceUnavailableError when
        nothing here can transcribe."""
        ears = self.require_ears()
        received = time.perf_counter()
        clip = read_clip(audio, self.limits)
        started = time.perf_counter()
        text = ears.transcribe(clip, language)
        done = time.perf_counter()
        if not any(character.isalnum() for character in text):
            raise InvalidInputError("no words were recognised in the audio: please say it again")
        return Heard(text, clip.seconds, (done - started) * 1000, clip, received, done)

    def require_ears(self) -> SpeechToText:
        """What hears; VoiceUnavailableError, with why and the fix, when nothing does."""
        if self.ears is None:
            raise VoiceUnavailableError(f"speech-to-text is not available: {self.missing}")
        return self.ears

    def say(self, reply: str, delivery: Delivery) -> bytes | None:
        """The reply spoken as WAV; None when nothing here speaks (the reply stays text)."""
        if self.mouth is None:
            return None
        text = spoken_text(reply)
        return self.mouth.speak(text, delivery) if text else None

    def close(self) -> None:
        """Stop the speech programs this process started."""
        if self.mouth is not None:
            self.mouth.close()

    def describe(self) -> str:
        """Which models hear and speak, for the health check and the dashboard."""
        ears = self.ears.name if self.ears else "none"
        mouth = self.mouth.name if self.mouth else "none"
        return f"hears with {ears}, speaks with {mouth}" + (f" ({self.missing})" if self.missing else "")
