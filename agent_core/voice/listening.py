"""Where a caller's speech starts and ends in a live stream of audio: the WebRTC voice activity
detector (webrtcvad, from the `voice` extra) over 20 ms frames, with a little hysteresis so a
breath or a click is not a word and a pause between words is not the end.

A pause is announced early (`Paused`, after `guess_ms` of silence), so what was said so far can
be transcribed while the listener waits to be sure it is the end; the utterance that ends
says whether it is exactly that speech (`paused_at`), so the early transcript stands. A
caller whose words so far stop mid-phrase ("…for John and") gets a longer wait
(`wait_longer`), one whose words end a thought a shorter one (`end_sooner`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from agent_core.errors import VoiceUnavailableError
from agent_core.voice.audio import SAMPLE_RATE

_UNFINISHED = frozenset(
    [
        "and",
        "or",
        "but",
        "so",
        "because",
        "then",
        "um",
        "uh",
        "er",
        "erm",
        "like",
        "the",
        "a",
        "an",
        "my",
        "your",
        "his",
        "her",
        "their",
        "our",
        "this",
        "that",
        "to",
        "for",
        "with",
        "on",
        "in",
        "at",
        "of",
        "from",
        "by",
        "about",
        "into",
        "is",
        "are",
        "was",
        "were",
        "be",
        "i",
        "i'm",
        "it's",
        "let's",
        "please",
    ]
)
"""Last words after which a caller has more to say: joining words, articles, fillers."""


def sounds_unfinished(text: str) -> bool:
    """True when a transcript stops where a thought cannot end ("…on March fifteenth and"),
    so the caller is pausing rather than done."""
    text = text.strip()
    if text.endswith(("?", "!")):
        return False  # a question or an exclamation is whole, whatever its last word
    last = text.rstrip(".,;:…-").split()
    return not last or last[-1].casefold().strip("\"'") in _UNFINISHED


FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * 2 * FRAME_MS // 1000
"""One frame of 16 kHz 16-bit mono samples."""


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The caller began to speak (a reply being spoken should stop)."""


@dataclass(frozen=True, slots=True)
class Paused:
    """The caller has been silent `guess_ms`: perhaps the end. `pcm` is the speech so far."""

    pcm: bytes


@dataclass(frozen=True, slots=True)
class Utterance:
    """What the caller said, from just before it started to its end: 16 kHz 16-bit mono PCM."""

    pcm: bytes
    paused_at: int | None = None
    """The length of the last `Paused` speech when nothing was said after it (its transcript
    is this utterance's), else None."""

    @property
    def seconds(self) -> float:
        """How long it lasts."""
        return len(self.pcm) / (SAMPLE_RATE * 2)


Heard = SpeechStarted | Paused | Utterance


@dataclass(frozen=True, slots=True)
class Pauses:
    """How long speech must last to count, and how long a silence ends it."""

    start_ms: int = 200
    guess_ms: int = 160
    """Silence after which what was said so far is worth transcribing."""
    end_ms: int = 700
    finished_ms: int = 500
    """The end's wait after words that end a thought (`end_sooner`)."""
    unfinished_ms: int = 1200
    """The end's wait after words that do not end a thought (`wait_longer`)."""
    before_ms: int = 300
    """Audio kept from before the start: the first syllable is quieter than the detector needs."""
    max_seconds: float = 30.0


class Listener:
    """Cuts a stream of 16 kHz 16-bit mono PCM, fed in chunks of any size, into utterances."""

    def __init__(self, pauses: Pauses = Pauses(), aggressiveness: int = 2) -> None:
        try:
            import webrtcvad
        except ImportError:
            raise VoiceUnavailableError(
                "a live call needs the voice extra: pip install 'voice-assistant-mini[voice]'"
            ) from None
        self._vad: Any = webrtcvad.Vad(aggressiveness)
        self._pauses = pauses
        self._pending = b""
        self._before: deque[bytes] = deque(maxlen=max(1, pauses.before_ms // FRAME_MS))
        self._speech: list[bytes] = []
        self._voiced_run = 0
        self._silent_run = 0
        self._paused_at: int | None = None
        self._end_ms = pauses.end_ms

    def wait_longer(self) -> None:
        """The words so far do not end a thought: this pause ends the utterance only after
        `unfinished_ms` (until the caller speaks again)."""
        if self._speech:
            self._end_ms = self._pauses.unfinished_ms

    def end_sooner(self) -> None:
        """The words so far end a thought: this pause ends the utterance after `finished_ms`
        (until the caller speaks again)."""
        if self._speech:
            self._end_ms = self._pauses.finished_ms

    @property
    def paused_at(self) -> int | None:
        """The length of the speech at the last `Paused`, while nothing was said after it."""
        return self._paused_at

    @property
    def speaking(self) -> bool:
        """True between a SpeechStarted and its Utterance."""
        return bool(self._speech)

    def feed(self, pcm: bytes) -> list[Heard]:
        """What the new audio holds: speech starting, utterances ending (in order)."""
        self._pending += pcm
        heard: list[Heard] = []
        whole = len(self._pending) - len(self._pending) % FRAME_BYTES
        frames, self._pending = self._pending[:whole], self._pending[whole:]
        for offset in range(0, len(frames), FRAME_BYTES):
            heard += self._frame(frames[offset : offset + FRAME_BYTES])
        return heard

    def _frame(self, frame: bytes) -> list[Heard]:
        voiced = bool(self._vad.is_speech(frame, SAMPLE_RATE))
        pauses = self._pauses
        if not self._speech:
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            self._before.append(frame)
            if self._voiced_run * FRAME_MS < pauses.start_ms:
                return []
            self._speech = list(self._before)
            self._before.clear()
            self._silent_run = 0
            return [SpeechStarted()]
        self._speech.append(frame)
        if voiced:
            self._silent_run, self._paused_at, self._end_ms = 0, None, pauses.end_ms
        else:
            self._silent_run += 1
        ended = self._silent_run * FRAME_MS >= self._end_ms
        if not ended and len(self._speech) * FRAME_MS < pauses.max_seconds * 1000:
            if self._silent_run * FRAME_MS == pauses.guess_ms:
                said = b"".join(self._speech)
                self._paused_at = len(said)
                return [Paused(said)]
            return []
        said = b"".join(self._speech)
        utterance = Utterance(said, self._paused_at)
        self._speech, self._voiced_run, self._paused_at, self._end_ms = [], 0, None, pauses.end_ms
        return [utterance]
