"""Sound conversion between devices and the call's 48 kHz mono int16, and the test chime."""

from __future__ import annotations

import numpy as np
import pytest

from conference_gui.media.exchange import SAMPLE_RATE
from conference_gui.services.media.pcm import (
    CALL_FORMAT,
    CaptureConverter,
    PcmFormat,
    PlaybackConverter,
    SampleFormat,
    chime,
)


def peak_hz(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    x = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum)) * rate / x.size


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean((samples.astype(np.float64) / 32768.0) ** 2)))


def tone(rate: int, seconds: float, hz: float = 1000.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return amplitude * np.sin(2 * np.pi * hz * t)


def test_the_call_format_passes_through_unchanged() -> None:
    samples = (tone(SAMPLE_RATE, 0.1) * 32767).astype(np.int16)
    assert np.array_equal(CaptureConverter(CALL_FORMAT)(samples.tobytes()), samples)
    assert PlaybackConverter(CALL_FORMAT)(samples) == samples.tobytes()


def test_stereo_float_at_44k1_becomes_48k_mono_in_chunks() -> None:
    fmt = PcmFormat(44_100, 2, SampleFormat.F32)
    wave = tone(44_100, 1.0).astype(np.float32)
    stereo = np.repeat(wave, 2).tobytes()
    convert = CaptureConverter(fmt)
    # Odd-sized chunks that split frames and samples: nothing may be lost or clicked.
    out = np.concatenate([convert(stereo[i : i + 3333]) for i in range(0, len(stereo), 3333)])
    assert out.dtype == np.int16
    assert abs(out.size - SAMPLE_RATE) < 200  # the resampler keeps a few samples back
    assert peak_hz(out) == pytest.approx(1000, abs=5)
    assert rms(out[1000:-1000]) == pytest.approx(0.5 / np.sqrt(2), rel=0.03)


@pytest.mark.parametrize(
    ("sample", "raw", "expected"),
    [
        (SampleFormat.U8, np.array([128, 255, 0], dtype=np.uint8), [0, 32511, -32767]),
        (SampleFormat.S32, np.array([0, 2**30, -(2**31)], dtype=np.int32), [0, 16384, -32767]),
        (SampleFormat.S16, np.array([0, 1000, -1000], dtype=np.int16), [0, 1000, -1000]),
    ],
)
def test_sample_formats_are_scaled_to_int16(
    sample: SampleFormat, raw: np.ndarray, expected: list[int]
) -> None:
    out = CaptureConverter(PcmFormat(SAMPLE_RATE, 1, sample))(raw.tobytes())
    assert out.tolist() == pytest.approx(expected, abs=1)


def test_channels_are_mixed_to_mono() -> None:
    left_right = np.array([[10000, -10000], [8000, 0]], dtype=np.int16)
    out = CaptureConverter(PcmFormat(SAMPLE_RATE, 2, SampleFormat.S16))(left_right.tobytes())
    assert out.tolist() == [0, 4000]


def test_playback_to_a_44k1_stereo_device() -> None:
    fmt = PcmFormat(44_100, 2, SampleFormat.S16)
    convert = PlaybackConverter(fmt)
    samples = (tone(SAMPLE_RATE, 1.0) * 32767).astype(np.int16)
    data = b"".join(convert(samples[i : i + 480]) for i in range(0, samples.size, 480))
    frames = np.frombuffer(data, dtype=np.int16).reshape(-1, 2)
    assert np.array_equal(frames[:, 0], frames[:, 1])
    assert abs(frames.shape[0] - 44_100) < 200
    assert peak_hz(frames[:, 0], 44_100) == pytest.approx(1000, abs=5)
    # Asking for N device bytes gives about N bytes' worth of call samples.
    assert convert.samples_for(4 * 441) == 480


def test_the_chime_is_two_soft_notes_without_clicks() -> None:
    sound = chime()
    assert 1.0 <= sound.size / SAMPLE_RATE <= 1.2
    assert np.max(np.abs(sound)) / 32767 == pytest.approx(0.35, abs=0.01)
    assert abs(int(sound[0])) < 100 and abs(int(sound[-1])) < 100  # no click in or out
    first = sound[: int(0.2 * SAMPLE_RATE)]
    second = sound[int(0.25 * SAMPLE_RATE) : int(0.45 * SAMPLE_RATE)]
    assert peak_hz(first) == pytest.approx(784, abs=10)
    assert peak_hz(second) == pytest.approx(1046, abs=10)
