"""The real-device cases: one private PulseAudio daemon for this (child) pytest process.

Run by ``tests/devices/test_real_devices.py`` in a pytest of their own (see
``tests/devices/conftest.py`` for why). The daemon starts before any test
lists a device, and Qt finds it through ``PULSE_SERVER``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QObject, QTimer

from conference_gui.media.exchange import SAMPLE_RATE, PcmRing, ToneSource
from tests.devices.pulse import PulseDaemon, available


@pytest.fixture(scope="session", autouse=True)
def pulse() -> Iterator[PulseDaemon]:
    if not available():
        pytest.fail("pulseaudio and pactl are needed (Debian: pulseaudio pulseaudio-utils)")
    # A short folder: the daemon's unix socket path must stay under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="cgui-pulse-"))
    daemon = PulseDaemon(root)
    daemon.start()
    saved = {key: os.environ.get(key) for key in daemon.client_env}
    os.environ.update(daemon.client_env)
    try:
        yield daemon
    finally:
        daemon.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(root, ignore_errors=True)


class ToneFeeder(QObject):
    """Writes a tone into a playback ring at the real pace, as the call engine would."""

    def __init__(self, ring: PcmRing, frequency: float = 1000.0, amplitude: float = 0.3) -> None:
        super().__init__()
        self._ring = ring
        self._tone = ToneSource(frequency, amplitude)
        self._timer = QTimer(self)
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._feed)
        self._t0 = 0.0
        self._fed = 0

    def start(self) -> None:
        self._t0, self._fed = time.monotonic(), 0
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _feed(self) -> None:
        due = int((time.monotonic() - self._t0) * SAMPLE_RATE) - self._fed
        if due > 0:
            self._ring.write(self._tone.read(due))
            self._fed += due


@pytest.fixture
def feeder() -> Iterator[Any]:
    made: list[ToneFeeder] = []

    def make(ring: PcmRing, frequency: float = 1000.0) -> ToneFeeder:
        f = ToneFeeder(ring, frequency)
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


def peak_hz(samples: np.ndarray) -> float:
    x = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum)) * SAMPLE_RATE / x.size
