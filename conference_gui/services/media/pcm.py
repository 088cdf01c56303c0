"""Sound format conversion between audio devices and the call's one PCM format.

The call engine only ever sees 48 kHz mono int16 (:mod:`conference_gui.media.exchange`).
Devices speak whatever they like: PulseAudio takes any format and converts it
itself, but Windows and macOS devices may insist on 44.1 kHz, stereo or float.
So every device is opened in the call's format when it accepts it (the fast
path: bytes in, the same bytes out) and otherwise in its preferred format,
converted here: channel mixing and sample formats with numpy, the rate with
PyAV's resampler (libswresample, already in the process for the engine's codecs).

No Qt here: the device workers map Qt's format enums onto :class:`PcmFormat`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt

from conference_gui.media.exchange import SAMPLE_RATE, Pcm


class SampleFormat(enum.Enum):
    """The sample formats Qt's audio devices use (``QAudioFormat.SampleFormat``)."""

    U8 = "u8"
    S16 = "s16"
    S32 = "s32"
    F32 = "f32"

    @property
    def width(self) -> int:
        return {"u8": 1, "s16": 2, "s32": 4, "f32": 4}[self.value]


@dataclass(frozen=True, slots=True)
class PcmFormat:
    """An audio device's stream format: interleaved samples, native byte order."""

    rate: int
    channels: int
    sample: SampleFormat

    @property
    def bytes_per_frame(self) -> int:
        return self.channels * self.sample.width

    @property
    def is_call_format(self) -> bool:
        return self.rate == SAMPLE_RATE and self.channels == 1 and self.sample is SampleFormat.S16

    def duration_bytes(self, seconds: float) -> int:
        """Bytes of ``seconds`` of sound, whole frames."""
        return max(1, round(self.rate * seconds)) * self.bytes_per_frame


CALL_FORMAT = PcmFormat(SAMPLE_RATE, 1, SampleFormat.S16)

_NUMPY = {
    SampleFormat.U8: np.uint8,
    SampleFormat.S16: np.int16,
    SampleFormat.S32: np.int32,
    SampleFormat.F32: np.float32,
}


def _to_float(samples: npt.NDArray[np.generic], sample: SampleFormat) -> npt.NDArray[np.float32]:
    if sample is SampleFormat.U8:
        return (samples.astype(np.float32) - 128.0) / 128.0
    if sample is SampleFormat.S16:
        return samples.astype(np.float32) / 32768.0
    if sample is SampleFormat.S32:
        return (samples.astype(np.float64) / 2147483648.0).astype(np.float32)
    return samples.astype(np.float32, copy=False)


def _from_float(mono: npt.NDArray[np.float32], sample: SampleFormat) -> npt.NDArray[np.generic]:
    clipped = np.clip(mono, -1.0, 1.0)
    if sample is SampleFormat.U8:
        return np.round(clipped * 127.0 + 128.0).astype(np.uint8)
    if sample is SampleFormat.S16:
        return np.round(clipped * 32767.0).astype(np.int16)
    if sample is SampleFormat.S32:
        return np.round(clipped.astype(np.float64) * 2147483647.0).astype(np.int32)
    return clipped.astype(np.float32)


class _Resampler:
    """Mono float32 from one rate to another, keeping its state between chunks."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self._rate_in = rate_in
        self._av = av.AudioResampler(format="flt", layout="mono", rate=rate_out)

    def __call__(self, mono: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(mono, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = self._rate_in
        out = [f.to_ndarray().reshape(-1) for f in self._av.resample(frame)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


class CaptureConverter:
    """A capture device's bytes → the call's 48 kHz mono int16.

    Keeps a partial frame between calls (a device may hand over any number of
    bytes) and the resampler's state, so chunk boundaries leave no clicks.
    """

    def __init__(self, fmt: PcmFormat) -> None:
        self.format = fmt
        self._rest = b""
        self._resample = None if fmt.rate == SAMPLE_RATE else _Resampler(fmt.rate, SAMPLE_RATE)

    def __call__(self, data: bytes) -> Pcm:
        fmt = self.format
        if self._rest:
            data = self._rest + data
        usable = len(data) - len(data) % fmt.bytes_per_frame
        self._rest = data[usable:]
        if fmt.is_call_format:
            return np.frombuffer(data[:usable], dtype=np.int16).copy()
        samples = np.frombuffer(data[:usable], dtype=_NUMPY[fmt.sample]).reshape(-1, fmt.channels)
        mono = _to_float(samples, fmt.sample).mean(axis=1, dtype=np.float32)
        if self._resample is not None:
            mono = self._resample(mono)
        return np.asarray(_from_float(mono, SampleFormat.S16), dtype=np.int16)


class PlaybackConverter:
    """The call's 48 kHz mono int16 → a playback device's bytes (every channel the same)."""

    def __init__(self, fmt: PcmFormat) -> None:
        self.format = fmt
        self._resample = None if fmt.rate == SAMPLE_RATE else _Resampler(SAMPLE_RATE, fmt.rate)

    def __call__(self, samples: Pcm) -> bytes:
        fmt = self.format
        if fmt.is_call_format:
            return np.ascontiguousarray(samples, dtype=np.int16).tobytes()
        mono = _to_float(np.asarray(samples, dtype=np.int16), SampleFormat.S16)
        if self._resample is not None:
            mono = self._resample(mono)
        out = _from_float(mono, fmt.sample)
        return np.repeat(out, fmt.channels).tobytes() if fmt.channels > 1 else out.tobytes()

    def samples_for(self, nbytes: int) -> int:
        """How many call-format samples make about ``nbytes`` of device bytes."""
        frames = nbytes // self.format.bytes_per_frame
        return math.floor(frames * SAMPLE_RATE / self.format.rate)


def chime(rate: int = SAMPLE_RATE) -> Pcm:
    """The speaker test sound: a soft two-note chime, about 1.1 s, rising a fourth.

    Two bell-like notes (G5 then C6, each a sine with a quieter octave and a
    fast attack, decaying exponentially) sound like a doorbell rather than a
    beep, and sit where small laptop speakers play well.
    """
    length = int(rate * 1.1)
    t = np.arange(length, dtype=np.float64) / rate
    out = np.zeros(length, dtype=np.float64)
    for start, freq in ((0.0, 783.99), (0.22, 1046.50)):
        local = t - start
        on = local >= 0
        lt = local[on]
        envelope = np.minimum(lt / 0.006, 1.0) * np.exp(-lt / 0.28)
        tone = np.sin(2 * np.pi * freq * lt) + 0.25 * np.sin(2 * np.pi * 2 * freq * lt)
        out[on] += envelope * tone
    fade = np.ones(length)
    fade[-int(rate * 0.05) :] = np.linspace(1.0, 0.0, int(rate * 0.05))
    out *= fade * (0.35 / max(1e-9, float(np.max(np.abs(out)))))
    return np.round(out * 32767.0).astype(np.int16)
