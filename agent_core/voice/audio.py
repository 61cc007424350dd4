"""Caller audio in, checked: whatever a browser, a phone bridge or curl sends becomes one clip
of 16 kHz mono samples (what speech-to-text models read), or a clear error and nothing else.

WAV is read with the standard library; the compressed formats (MP3, Ogg/Opus, WebM, M4A,
FLAC…) with PyAV, FFmpeg's bindings, which the `voice` extra brings with faster-whisper.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agent_core.errors import InvalidInputError
from agent_core.store.voice_turns import Recording

SAMPLE_RATE = 16_000
"""What Whisper and the VAD read: 16 kHz mono."""

SILENCE_PEAK = 0.01
"""Loudest sample (of full scale) a clip may have and still be silence: about -40 dBFS, below
any voice close to a microphone and above the hiss of a quiet room."""

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class AudioLimits:
    """How much audio one request may carry."""

    max_bytes: int
    max_seconds: float


@dataclass(frozen=True, slots=True)
class Clip:
    """One utterance as speech-to-text reads it."""

    samples: Samples
    """Mono, 16 kHz, floats in [-1, 1]."""

    @property
    def seconds(self) -> float:
        """How long it lasts."""
        return len(self.samples) / SAMPLE_RATE

    def wav(self) -> bytes:
        """The clip as a 16-bit WAV file (what a transcription API is sent)."""
        return wav_bytes(_pcm16(self.samples).tobytes(), SAMPLE_RATE)


def wav_bytes(pcm16: bytes, rate: int, channels: int = 1) -> bytes:
    """16-bit little-endian samples as a WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm16)
    return buffer.getvalue()


def read_clip(data: bytes, limits: AudioLimits) -> Clip:
    """The caller's audio as a clip; InvalidInputError (saying what is wrong and what is
    accepted) when it is empty, too big, too long, silent or not audio we can read."""
    if not data:
        raise InvalidInputError("the audio is empty: record or upload what the caller said")
    if len(data) > limits.max_bytes:
        raise InvalidInputError(
            f"the audio is {len(data):,} bytes; at most {limits.max_bytes:,} are accepted"
            f" (about {limits.max_seconds:g} s of speech)"
        )
    samples, rate = _wav(data) if data[:4] == b"RIFF" else _compressed(data, limits)
    seconds = len(samples) / rate if rate else 0.0
    if seconds > limits.max_seconds:
        raise InvalidInputError(
            f"the audio lasts {seconds:.1f} s; one message may last at most {limits.max_seconds:g} s"
        )
    if not len(samples):
        raise InvalidInputError("the audio is empty: record or upload what the caller said")
    clip = Clip(_resampled(samples, rate))
    if float(np.max(np.abs(clip.samples))) < SILENCE_PEAK:
        raise InvalidInputError("nothing was heard: the audio is silent (is the microphone on?)")
    return clip


def wav_seconds(data: bytes) -> float:
    """How long a WAV file of ours plays."""
    with wave.open(io.BytesIO(data)) as source:
        frames: int = source.getnframes()
        rate: int = source.getframerate()
    return frames / rate


def wav_samples(data: bytes) -> Samples:
    """A WAV file's samples at 16 kHz mono (what our own speech programs wrote);
    InvalidInputError when it is not WAV we can read."""
    return _resampled(*_wav(data))


def _pcm16(samples: Samples) -> npt.NDArray[np.int16]:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")


RECORDING_BITRATE = 24_000
"""Opus at 24 kbit/s: speech stays clear, a minute takes about 180 kB (WAV: 1.9 MB)."""


def encode_recording(samples: Samples) -> Recording:
    """Samples at 16 kHz as a recording to keep: Opus in Ogg when PyAV is here (a tenth of
    WAV's size, and every browser plays it), else 16-bit WAV."""
    try:
        import av
    except ImportError:
        return Recording(wav_bytes(_pcm16(samples).tobytes(), SAMPLE_RATE), "audio/wav")
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=SAMPLE_RATE)
        stream.layout = "mono"
        stream.bit_rate = RECORDING_BITRATE
        frame = av.AudioFrame.from_ndarray(_pcm16(samples).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in (*stream.encode(frame), *stream.encode(None)):
            out.mux(packet)
    return Recording(buffer.getvalue(), "audio/ogg")


def _wav(data: bytes) -> tuple[Samples, int]:
    try:
        with wave.open(io.BytesIO(data)) as source:
            channels, width, rate = source.getnchannels(), source.getsampwidth(), source.getframerate()
            frames = source.readframes(source.getnframes())
    except (wave.Error, EOFError, ValueError) as exc:
        raise InvalidInputError(f"cannot read the WAV audio: {exc}") from None
    kinds = {1: "u1", 2: "<i2", 4: "<i4"}
    if width not in kinds or not rate:
        raise InvalidInputError("unsupported WAV audio: send 8-, 16- or 32-bit PCM")
    whole = len(frames) - len(frames) % (width * channels)
    pcm = np.frombuffer(frames[:whole], dtype=np.dtype(kinds[width])).astype(np.float32)
    pcm = (pcm - 128.0) / 128.0 if width == 1 else pcm / float(2 ** (8 * width - 1))
    return pcm.reshape(-1, channels).mean(axis=1).astype(np.float32), rate


def _compressed(data: bytes, limits: AudioLimits) -> tuple[Samples, int]:
    try:
        import av
    except ImportError:
        raise InvalidInputError(
            "only WAV audio is accepted here: compressed formats need the voice extra"
            " (pip install 'voice-assistant-mini[voice]')"
        ) from None
    chunks: list[Samples] = []
    decoded = 0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise InvalidInputError("the file has no audio in it")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1).astype(np.float32)
                    chunks.append(chunk)
                    decoded += len(chunk)
                # Stop decoding what would be refused anyway (a long file is cheap to send).
                if decoded > (limits.max_seconds + 1) * SAMPLE_RATE:
                    break
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.float32))
    except av.error.FFmpegError as exc:
        raise InvalidInputError(
            f"cannot read the audio: send WAV, MP3, Ogg/Opus, WebM, M4A or FLAC ({type(exc).__name__})"
        ) from None
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return samples, SAMPLE_RATE


def _resampled(samples: Samples, rate: int) -> Samples:
    """Samples at 16 kHz by linear interpolation: enough for speech, which Whisper hears in
    80 mel bands up to 8 kHz."""
    if rate == SAMPLE_RATE:
        return samples.astype(np.float32)
    count = round(len(samples) * SAMPLE_RATE / rate)
    positions = np.linspace(0, len(samples) - 1, count)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
