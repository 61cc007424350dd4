"""Where speech starts and ends in a live stream: one utterance per thing said, a pause
between words is not an end, silence and a click are nothing, and nothing runs forever. A
pause is announced early so what was said can be transcribed while the end is confirmed, and
words that stop mid-phrase earn a longer wait."""

from __future__ import annotations

import numpy as np
import pytest

from agent_core.voice.audio import AudioLimits, read_clip
from agent_core.voice.listening import (
    Heard,
    Listener,
    Paused,
    Pauses,
    SpeechStarted,
    Utterance,
    sounds_unfinished,
)
from agent_core.voice.offline import PiperSpeaker
from agent_core.voice.speech import Delivery

LIMITS = AudioLimits(10_000_000, 60.0)


def pcm(piper: PiperSpeaker, text: str) -> bytes:
    """What Piper says, as the 16 kHz 16-bit mono PCM a live call streams."""
    samples = read_clip(piper.speak(text, Delivery()), LIMITS).samples
    return (samples * 32767).astype("<i2").tobytes()


def silence(seconds: float) -> bytes:
    return bytes(round(seconds * 16_000) * 2)


def stream(listener: Listener, audio: bytes, chunk: int = 333) -> list[Heard]:
    """Feed the audio as a socket delivers it: in chunks that are not whole frames."""
    heard: list[Heard] = []
    for offset in range(0, len(audio), chunk):
        heard += listener.feed(audio[offset : offset + chunk])
    return heard


def test_one_sentence_is_one_utterance_from_just_before_it_to_the_end_of_its_silence(
    piper: PiperSpeaker,
) -> None:
    said = pcm(piper, "I want to book a tour for John Smith.")
    heard = stream(Listener(), silence(1.0) + said + silence(1.5))
    assert [type(h) for h in heard] == [SpeechStarted, Paused, Utterance]
    _, paused, utterance = heard
    assert isinstance(paused, Paused)
    assert isinstance(utterance, Utterance)
    # The early pause holds the same speech, so its transcript is the utterance's.
    assert utterance.pcm.startswith(paused.pcm)
    assert utterance.paused_at == len(paused.pcm)
    waited = (Pauses().end_ms - Pauses().guess_ms) / 1000
    assert utterance.seconds - len(paused.pcm) / 32_000 == pytest.approx(waited, abs=0.03)
    spoken = len(said) / 32_000
    # The sentence, a little before it, and the silence that ended it (0.7 s), give or take
    # the quiet edges of the speech itself.
    assert spoken - 0.3 < utterance.seconds < spoken + 1.2


def test_a_pause_between_words_does_not_end_it_but_a_longer_silence_does(piper: PiperSpeaker) -> None:
    first, second = pcm(piper, "Book a tour for Ana."), pcm(piper, "Cancel it.")
    together = stream(Listener(), first + silence(0.3) + second + silence(1.0))
    assert [type(h) for h in together] == [SpeechStarted, Paused, Paused, Utterance]
    # Words came after the first pause: only the second one's speech is the utterance.
    last_pause, utterance = together[2], together[3]
    assert isinstance(last_pause, Paused)
    assert isinstance(utterance, Utterance)
    assert utterance.paused_at == len(last_pause.pcm)
    apart = stream(Listener(), first + silence(1.2) + second + silence(1.0))
    assert [type(h) for h in apart] == [SpeechStarted, Paused, Utterance, SpeechStarted, Paused, Utterance]


def test_words_that_stop_mid_phrase_get_a_longer_wait(piper: PiperSpeaker) -> None:
    listener = Listener()
    heard = stream(listener, pcm(piper, "Book a tour for John Smith and") + silence(0.3))
    assert [type(h) for h in heard] == [SpeechStarted, Paused]
    listener.wait_longer()  # what the transcript of the pause says
    assert stream(listener, silence(0.8)) == [], "0.7 s would have ended it"
    [utterance] = stream(listener, silence(0.2))
    assert isinstance(utterance, Utterance)
    # Speaking again brings the usual wait back.
    stream(listener, pcm(piper, "Cancel it."))
    assert [type(h) for h in stream(listener, silence(0.8))] == [Paused, Utterance]


@pytest.mark.parametrize(
    ("transcript", "unfinished"),
    [
        ("I want to book a tour for John Smith.", False),
        ("Yes.", False),
        ("What can you help me with?", False),
        ("Book a tour for.", True),
        ("Book it on Monday and", True),
        ("Um...", True),
        ("", True),
    ],
)
def test_a_transcript_that_stops_mid_phrase_sounds_unfinished(transcript: str, unfinished: bool) -> None:
    assert sounds_unfinished(transcript) is unfinished


def test_silence_hiss_and_a_click_are_not_speech() -> None:
    rng = np.random.default_rng(7)
    hiss = (rng.normal(0, 60, 16_000 * 3)).astype("<i2").tobytes()
    click = (np.r_[np.zeros(8000), np.full(80, 20_000), np.zeros(8000)]).astype("<i2").tobytes()
    assert stream(Listener(), silence(2.0) + hiss + click + silence(1.0)) == []


def test_speech_that_never_pauses_is_cut_at_the_longest_a_message_may_last(piper: PiperSpeaker) -> None:
    said = pcm(piper, "Please note that the client prefers morning tours and vegetarian meals.")
    heard = stream(Listener(Pauses(max_seconds=2.0)), said)
    utterances = [h for h in heard if isinstance(h, Utterance)]
    assert utterances
    assert all(u.seconds <= 2.0 for u in utterances)


@pytest.mark.parametrize("chunk", [1, 640, 4096])
def test_how_the_audio_is_chunked_changes_nothing(piper: PiperSpeaker, chunk: int) -> None:
    said = silence(0.5) + pcm(piper, "Hello there.") + silence(1.0)
    heard = stream(Listener(), said, chunk)
    assert [type(h) for h in heard] == [SpeechStarted, Paused, Utterance]


def test_words_that_end_a_thought_end_the_pause_sooner(piper: PiperSpeaker) -> None:
    listener = Listener()
    heard = stream(listener, pcm(piper, "Book a tour for John Smith in Paris.") + silence(0.3))
    assert [type(h) for h in heard] == [SpeechStarted, Paused]
    paused = heard[1]
    assert isinstance(paused, Paused)
    listener.end_sooner()  # what the transcript of the pause says
    assert stream(listener, silence(0.1)) == []
    [utterance] = stream(listener, silence(0.1))
    assert isinstance(utterance, Utterance)
    assert utterance.seconds == pytest.approx(
        len(paused.pcm) / 32_000 + 0.5 - Pauses().guess_ms / 1000, abs=0.03
    )
