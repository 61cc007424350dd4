"""The assistant hearing itself. A browser's echo cancellation usually keeps the reply out of
the microphone, but a speaker turned up, a phone bridge or a cancellation that has not
adapted yet lets it back in — and a reply heard as the caller's message would be answered,
maybe by writing ("I've booked John Smith…" heard back is a booking request). So an utterance
heard while the reply plays whose words follow what was just said, in order, is echo: never
taken as a message.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

ECHO_MIN_WORDS = 3
"""Shorter utterances are the caller's: "yes" during a reply that asks "yes or no?" is an answer."""

ECHO_SHARE = 0.7
"""An utterance is echo when this share of its words follow the reply's words in order."""

PLAYBACK_GRACE_SECONDS = 1.0
"""How long after the reply should have finished playing it may still come back (buffering,
a slow speaker)."""

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """A text's words, case-folded, without punctuation (as speech-to-text may write them)."""
    return [word.casefold() for word in _WORD.findall(text)]


def is_echo(heard: str, spoken: Sequence[str]) -> bool:
    """True when what was heard is the reply's own words coming back: at least
    ECHO_MIN_WORDS words, ECHO_SHARE of them matching the sentences `spoken` in order."""
    said = words(heard)
    if len(said) < ECHO_MIN_WORDS:
        return False
    reply = [word for sentence in spoken for word in words(sentence)]
    matcher = SequenceMatcher(None, said, reply, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return matched >= ECHO_SHARE * len(said)


@dataclass(slots=True)
class Playback:
    """What the caller's speaker is playing: the sentences sent and until when they play."""

    playing_until: float = 0.0
    """`time.monotonic()` when the last sentence sent ends, if played at once."""
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=20))

    def sent(self, sentence: str, seconds: float) -> None:
        """A sentence lasting `seconds` went to the caller to play after what plays now."""
        self.playing_until = max(self.playing_until, time.monotonic()) + seconds
        self.recent.append(sentence)

    def stopped(self) -> None:
        """The caller stopped the playback (they spoke over it)."""
        self.playing_until = time.monotonic()

    def echoes(self, heard: str, began: float) -> bool:
        """True when an utterance that began at `began` (`time.monotonic()`) overlapped the
        playback and is its words coming back."""
        if began > self.playing_until + PLAYBACK_GRACE_SECONDS:
            return False
        return is_echo(heard, self.recent)
