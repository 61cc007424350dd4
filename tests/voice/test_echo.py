"""The assistant's own reply coming back through the caller's microphone is echo, never a
message; what the caller says over it is theirs, however short or however many of the
reply's words it shares."""

from __future__ import annotations

import time

import pytest

from agent_core.voice.echo import PLAYBACK_GRACE_SECONDS, Playback, is_echo

REPLY = [
    "Done: I've booked a tour for John Smith on Monday 15 March 2027 in Paris.",
    "Anything else?",
]


@pytest.mark.parametrize(
    "heard",
    [
        "Done, I've booked a tour for John Smith on Monday, 15 March 2027 in Paris.",
        "booked a tour for John Smith on Monday",  # the start missed
        "I've booked a tour for Jon Smith on Monday 15 March in Paris anything else",  # misheard, run on
    ],
)
def test_the_reply_heard_back_is_echo(heard: str) -> None:
    assert is_echo(heard, REPLY)


@pytest.mark.parametrize(
    "heard",
    [
        "Yes.",  # an answer, however much of the reply it matches
        "Anything else?",  # two words: the caller's
        "Actually, cancel the booking for John Smith.",
        "Move John Smith's tour to Tuesday in Lisbon.",
        "",
    ],
)
def test_what_the_caller_says_over_the_reply_is_theirs(heard: str) -> None:
    assert not is_echo(heard, REPLY)


def test_only_an_utterance_that_overlapped_the_playback_can_be_echo() -> None:
    playback = Playback()
    playback.sent(REPLY[0], 4.0)
    now = time.monotonic()
    assert playback.echoes(REPLY[0], began=now + 1.0)
    assert not playback.echoes(REPLY[0], began=now + 4.0 + PLAYBACK_GRACE_SECONDS + 0.5)


def test_sentences_queue_after_what_is_still_playing() -> None:
    playback = Playback()
    playback.sent("First sentence here.", 2.0)
    playback.sent("Second sentence here.", 3.0)
    assert playback.playing_until == pytest.approx(time.monotonic() + 5.0, abs=0.2)
    playback.stopped()
    assert playback.playing_until == pytest.approx(time.monotonic(), abs=0.2)
