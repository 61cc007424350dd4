"""Caller audio is read whatever its format and rate, or refused with what is wrong with it."""

from __future__ import annotations

import io
import math
import struct
import wave

import av
import numpy as np
import pytest

from agent_core.errors import InvalidInputError
from agent_core.voice.audio import SAMPLE_RATE, AudioLimits, read_clip, wav_bytes

LIMITS = AudioLimits(max_bytes=2_000_000, max_seconds=5.0)


def tone(seconds: float, rate: int, channels: int = 1, loudness: float = 0.3) -> bytes:
    """A 440 Hz tone as a 16-bit WAV file."""
    frames = round(seconds * rate)
    samples = [round(32767 * loudness * math.sin(2 * math.pi * 440 * n / rate)) for n in range(frames)]
    pcm = b"".join(struct.pack("<h", s) * channels for s in samples)
    return wav_bytes(pcm, rate, channels)


def test_any_wav_rate_and_channels_become_16_khz_mono() -> None:
    clip = read_clip(tone(1.5, 44_100, channels=2), LIMITS)
    assert clip.seconds == pytest.approx(1.5, abs=0.001)
    assert clip.samples.dtype == np.float32
    assert float(np.max(np.abs(clip.samples))) == pytest.approx(0.3, abs=0.01)
    # What a transcription API is sent: 16 kHz mono WAV, the same length.
    again = read_clip(clip.wav(), LIMITS)
    assert len(again.samples) == len(clip.samples)


def test_8_bit_wav_is_read_around_its_midpoint() -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(bytes(128 + round(60 * math.sin(n / 5)) for n in range(8000)))
    clip = read_clip(buffer.getvalue(), LIMITS)
    assert clip.seconds == pytest.approx(1.0)
    assert abs(float(np.mean(clip.samples))) < 0.01


def test_compressed_audio_is_decoded() -> None:
    # An Ogg/Opus file made here, as a browser or a phone bridge would send one.
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48_000, layout="mono")
        samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(48_000 * 2) / 48_000)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = 48_000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    clip = read_clip(buffer.getvalue(), LIMITS)
    assert clip.seconds == pytest.approx(2.0, abs=0.05)
    assert len(clip.samples) == round(clip.seconds * SAMPLE_RATE)


@pytest.mark.parametrize(
    ("audio", "problem"),
    [
        (b"", "the audio is empty"),
        (wav_bytes(b"", 16_000), "the audio is empty"),
        (tone(1.0, 16_000, loudness=0.002), "nothing was heard: the audio is silent"),
        (tone(5.5, 16_000), "the audio lasts 5.5 s; one message may last at most 5 s"),
        (b"RIFF\x00\x00\x00\x00WAVEjunk", "cannot read the WAV audio"),
        (b"this is not audio at all" * 10, "cannot read the audio: send WAV, MP3, Ogg/Opus"),
    ],
    ids=["empty", "no frames", "silent", "too long", "broken wav", "not audio"],
)
def test_audio_that_cannot_be_heard_is_refused_with_the_reason(audio: bytes, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        read_clip(audio, LIMITS)


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(InvalidInputError, match=r"the audio is 2,000,001 bytes; at most 2,000,000"):
        read_clip(b"RIFF" + bytes(1_999_997), LIMITS)
