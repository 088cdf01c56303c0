"""The microphone: 48 kHz mono int16 into a ring the call engine reads, and a level.

The microphone keeps running while the person is muted: muting is the
engine's decision not to *send*, and the "you're talking while muted" hint
and the Preferences meter need the level all the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QIODevice, QObject, Qt, QTimer, Slot
from PySide6.QtMultimedia import QAudioDevice, QAudioFormat, QAudioSource, QtAudio

from conference_gui.media.exchange import SAMPLE_RATE, LevelMeter, Pcm, PcmRing, ToneSource
from conference_gui.services.media.catalog import (
    NO_DEVICE_MESSAGE,
    DeviceCatalog,
    DeviceKind,
)
from conference_gui.services.media.device_handle import (
    DeviceHandle,
    DeviceState,
    OpenRequest,
    StreamWorker,
)
from conference_gui.services.media.device_thread import DeviceThread
from conference_gui.services.media.pcm import CALL_FORMAT, CaptureConverter, PcmFormat, SampleFormat

#: How much sound the engine may find queued at most: older samples are dropped
#: (a reader that fell behind hears the present, not a growing delay).
MIC_RING_SECONDS = 0.1
#: How often the microphone hands over sound: small enough for low latency,
#: large enough not to wake the thread needlessly.
MIC_PERIOD_SECONDS = 0.02
MIC_BUFFER_SECONDS = 0.1
#: A microphone that delivers less than a quarter of real time over this long has
#: stopped working, whatever Qt says (a suspended device, a wireless headset out
#: of range: the stream stays open and nothing comes). Counted from its first
#: sound: some devices take seconds to start (a Bluetooth headset switching
#: profile), and one that never starts is reported after STARTUP_SECONDS.
STALL_SECONDS = 2.0
STALL_SHARE = 0.25
STARTUP_SECONDS = 5.0

_QT_SAMPLE = {
    QAudioFormat.SampleFormat.UInt8: SampleFormat.U8,
    QAudioFormat.SampleFormat.Int16: SampleFormat.S16,
    QAudioFormat.SampleFormat.Int32: SampleFormat.S32,
    QAudioFormat.SampleFormat.Float: SampleFormat.F32,
}


def qt_format(fmt: PcmFormat) -> QAudioFormat:
    out = QAudioFormat()
    out.setSampleRate(fmt.rate)
    out.setChannelCount(fmt.channels)
    out.setSampleFormat(next(q for q, s in _QT_SAMPLE.items() if s is fmt.sample))
    return out


def device_format(device: QAudioDevice) -> PcmFormat:
    """The call's format if the device takes it (no conversion), else the device's own."""
    if device.isFormatSupported(qt_format(CALL_FORMAT)):
        return CALL_FORMAT
    pref = device.preferredFormat()
    sample = _QT_SAMPLE.get(pref.sampleFormat(), SampleFormat.S16)
    return PcmFormat(pref.sampleRate() or SAMPLE_RATE, max(1, pref.channelCount()), sample)


def audio_failure(kind: DeviceKind, error: QtAudio.Error) -> tuple[DeviceState, str]:
    """The state and sentence for a Qt audio error."""
    noun = kind.value
    if error == QtAudio.Error.OpenError:
        return DeviceState.FAILED, f"The {noun} could not be opened"
    return DeviceState.FAILED, f"The {noun} stopped working"


class MicrophoneWorker(StreamWorker):
    """Device thread: a QAudioSource (or the fake tone) → ring + level meter."""

    def __init__(self, ring: PcmRing, level: LevelMeter, tone: ToneSource) -> None:
        super().__init__()
        self._ring = ring
        self._level = level
        self._tone = tone
        self._source: QAudioSource | None = None
        self._io: QIODevice | None = None
        self._convert: CaptureConverter | None = None
        self._device_id = ""
        self._timer: QTimer | None = None
        self._tone_started = 0.0
        self._tone_samples = 0
        self._opened_at = 0.0
        self._window_start: float | None = None
        self._window_samples = 0
        self._stalled = False

    def open_stream(self, request: OpenRequest) -> None:
        self.close_devices()
        info = request.info
        self._device_id = info.id
        if info.fake:
            self._start_tone()
            self.opened.emit(info.id)
            return
        device = request.qt_device
        if not isinstance(device, QAudioDevice) or device.isNull():
            self.failed.emit(
                info.id, DeviceState.NO_DEVICE.value, NO_DEVICE_MESSAGE[DeviceKind.MICROPHONE]
            )
            return
        fmt = device_format(device)
        self._convert = CaptureConverter(fmt)
        source = QAudioSource(device, qt_format(fmt), self)
        # Room for a few polls, so a late poll loses nothing. Each poll takes all
        # there is, so this bounds what may wait rather than how long sound waits.
        source.setBufferSize(fmt.duration_bytes(MIC_BUFFER_SECONDS))
        source.stateChanged.connect(self._on_state_changed)
        self._source = source
        self._io = source.start()
        if self._io is None or source.error() != QtAudio.Error.NoError:
            state, message = audio_failure(DeviceKind.MICROPHONE, source.error())
            self.close_devices()
            self.failed.emit(info.id, state.value, message)
            return
        # Polled, not driven by readyRead: Qt signals readyRead for every small
        # fragment (about 190 times a second with PulseAudio), and each wake-up
        # costs more than the sound it hands over (measured in docs/CALLS.md).
        self._opened_at, self._window_start = time.monotonic(), None
        self._window_samples, self._stalled = 0, False
        self._start_timer(self._on_poll)
        self.opened.emit(info.id)

    def close_devices(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self.retire(self._timer)
            self._timer = None
        if self._source is not None:
            self._source.stateChanged.disconnect(self._on_state_changed)
            self._source.stop()
            self.retire(self._source)
            self._source = None
            self._io = None

    def _start_timer(self, slot: Callable[[], None]) -> None:
        timer = QTimer(self)
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(round(MIC_PERIOD_SECONDS * 1000))
        timer.timeout.connect(slot)
        timer.start()
        self._timer = timer

    # -- real device ------------------------------------------------------------------
    def _on_poll(self) -> None:
        if self._io is None or self._convert is None:
            return
        data = bytes(self._io.readAll().data())
        now = time.monotonic()
        if data:
            pcm = self._convert(data)
            if self._window_start is None:  # the first sound: from here on it must flow
                self._window_start = now
            self._window_samples += int(pcm.shape[0])
            self._deliver(pcm)
        self._check_flow(now)

    def _check_flow(self, now: float) -> None:
        if self._window_start is None:
            if now - self._opened_at >= STARTUP_SECONDS and not self._stalled:
                self._report_stall()
            return
        elapsed = now - self._window_start
        if elapsed < STALL_SECONDS:
            return
        flowing = self._window_samples >= STALL_SHARE * elapsed * SAMPLE_RATE
        if not flowing and not self._stalled:
            self._report_stall()
        elif flowing and self._stalled:  # it came back by itself
            self._stalled = False
            self.opened.emit(self._device_id)
        self._window_start, self._window_samples = now, 0

    def _report_stall(self) -> None:
        self._stalled = True
        message = "The microphone stopped working"
        self.failed.emit(self._device_id, DeviceState.FAILED.value, message)

    @Slot(QtAudio.State)
    def _on_state_changed(self, state: QtAudio.State) -> None:
        source = self._source
        if source is None or state != QtAudio.State.StoppedState:
            return
        error = source.error()
        if error != QtAudio.Error.NoError:
            failure, message = audio_failure(DeviceKind.MICROPHONE, error)
            self.failed.emit(self._device_id, failure.value, message)

    # -- fake device --------------------------------------------------------------------
    def _start_tone(self) -> None:
        self._tone_started = time.monotonic()
        self._tone_samples = 0
        self._start_timer(self._on_tone_tick)

    def _on_tone_tick(self) -> None:
        # As many samples as real time has produced since the start: no drift.
        due = int((time.monotonic() - self._tone_started) * SAMPLE_RATE) - self._tone_samples
        if due > 0:
            self._tone_samples += due
            self._deliver(self._tone.read(due))

    def _deliver(self, pcm: Pcm) -> None:
        self._ring.write(pcm)
        self._level.push(pcm)


class MicrophoneCapture(DeviceHandle):
    """The microphone in use: captures into :attr:`ring` and measures :attr:`level`.

    ``ring`` is what the call engine reads (48 kHz mono int16, at most
    :data:`MIC_RING_SECONDS` queued); ``level`` is the self tile's and the
    Preferences meter's RMS level. ``tone`` is the fake microphone's sound
    source (switch it on and off to "speak").

    Signals: those of :class:`DeviceHandle`, all on the GUI thread.
    """

    def __init__(
        self,
        catalog: DeviceCatalog,
        thread: DeviceThread,
        *,
        ring: PcmRing | None = None,
        level: LevelMeter | None = None,
        tone: ToneSource | None = None,
        parent: QObject | None = None,
    ) -> None:
        self.ring = ring if ring is not None else PcmRing(round(SAMPLE_RATE * MIC_RING_SECONDS))
        self.level = level if level is not None else LevelMeter()
        self.tone = tone if tone is not None else ToneSource()
        worker = MicrophoneWorker(self.ring, self.level, self.tone)
        super().__init__(DeviceKind.MICROPHONE, catalog, thread, worker, parent)
