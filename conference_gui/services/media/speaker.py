"""The speaker: plays what the call engine mixes into a ring, with a short buffer.

The engine writes the mix of everyone else's sound into :attr:`SpeakerPlayback.ring`
(48 kHz mono int16) whenever it has some. The device thread tops the sound
card's buffer up from that ring every :data:`TICK_SECONDS` (20 ms: half the
wake-ups of 10 ms, a third less CPU, measured, and still 30 ms to spare). The buffer is short
(:data:`SINK_BUFFER_SECONDS`), so what the engine writes is heard about 50 ms
later, and latency cannot grow:

* when the ring runs dry the speaker plays silence instead of starving (a
  starved device stops and restarts, and each restart adds a glitch), and
  waits for a little sound to gather (:data:`PRIME_SECONDS`) before playing
  again, so a late packet costs one short gap rather than a crackle;
* when sound piles up in the ring (the engine's clock runs a little fast, or
  it delivered a burst), the oldest is dropped beyond :data:`MAX_BACKLOG_SECONDS`.

:meth:`SpeakerPlayback.play_test_sound` mixes the Preferences chime into the
same stream, on the same device, even during a call.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QIODevice, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtMultimedia import QAudioDevice, QAudioSink, QtAudio

from conference_gui.media.exchange import SAMPLE_RATE, LevelMeter, Pcm, PcmRing
from conference_gui.services.media.catalog import NO_DEVICE_MESSAGE, DeviceCatalog, DeviceKind
from conference_gui.services.media.device_handle import (
    DeviceHandle,
    DeviceState,
    OpenRequest,
    StreamWorker,
)
from conference_gui.services.media.device_thread import DeviceThread
from conference_gui.services.media.microphone import audio_failure, device_format, qt_format
from conference_gui.services.media.pcm import PlaybackConverter, chime

SINK_BUFFER_SECONDS = 0.05
TICK_SECONDS = 0.02
PRIME_SECONDS = 0.02
MAX_BACKLOG_SECONDS = 0.12
PLAYBACK_RING_SECONDS = 0.25


class SpeakerWorker(StreamWorker):
    """Device thread: ring (+ chime) → QAudioSink, or, for the fake speaker, → nowhere
    at the same pace (so the engine sees the same back-pressure either way)."""

    def __init__(self, ring: PcmRing, level: LevelMeter) -> None:
        super().__init__()
        self._ring = ring
        self._level = level
        self._sink: QAudioSink | None = None
        self._io: QIODevice | None = None
        self._convert: PlaybackConverter | None = None
        self._pending = b""
        self._timer: QTimer | None = None
        self._device_id = ""
        self._fake_started = 0.0
        self._fake_samples = 0
        self._primed = False
        self._chime: Pcm | None = None
        self._chime_at = 0
        #: Times the sound card ran dry (a glitch); read from any thread, for diagnostics.
        self.underruns = 0

    def open_stream(self, request: OpenRequest) -> None:
        self.close_devices()
        info = request.info
        self._device_id = info.id
        self._primed = False
        if info.fake:
            self._fake_started = time.monotonic()
            self._fake_samples = 0
            self._start_timer()
            self.opened.emit(info.id)
            return
        device = request.qt_device
        if not isinstance(device, QAudioDevice) or device.isNull():
            message = NO_DEVICE_MESSAGE[DeviceKind.SPEAKER]
            self.failed.emit(info.id, DeviceState.NO_DEVICE.value, message)
            return
        fmt = device_format(device)
        self._convert = PlaybackConverter(fmt)
        sink = QAudioSink(device, qt_format(fmt), self)
        sink.setBufferSize(fmt.duration_bytes(SINK_BUFFER_SECONDS))
        sink.stateChanged.connect(self._on_state_changed)
        self._sink = sink
        self._io = sink.start()
        if self._io is None or sink.error() != QtAudio.Error.NoError:
            state, message = audio_failure(DeviceKind.SPEAKER, sink.error())
            self.close_devices()
            self.failed.emit(info.id, state.value, message)
            return
        self._feed()  # fill the buffer with silence at once: no underrun at the start
        self._start_timer()
        self.opened.emit(info.id)

    def close_devices(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self.retire(self._timer)
            self._timer = None
        if self._sink is not None:
            self._sink.stateChanged.disconnect(self._on_state_changed)
            self._sink.stop()
            self.retire(self._sink)
            self._sink = None
            self._io = None
        self._pending = b""

    @Slot()
    def play_chime(self) -> None:
        self._chime = chime()
        self._chime_at = 0

    def _start_timer(self) -> None:
        timer = QTimer(self)
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(round(TICK_SECONDS * 1000))
        timer.timeout.connect(self._feed if self._sink is not None else self._drain_fake)
        timer.start()
        self._timer = timer

    # -- the stream ------------------------------------------------------------------------
    def _feed(self) -> None:
        sink, io, convert = self._sink, self._io, self._convert
        if sink is None or io is None or convert is None:
            return
        free = sink.bytesFree()
        if self._pending:
            written = max(0, io.write(self._pending[:free]))
            self._pending = self._pending[written:]
            free -= written
        count = convert.samples_for(free)
        if count <= 0:
            return
        data = convert(self._take(count))
        written = max(0, io.write(data))
        self._pending += data[written:]

    def _drain_fake(self) -> None:
        due = int((time.monotonic() - self._fake_started) * SAMPLE_RATE) - self._fake_samples
        if due > 0:
            self._fake_samples += due
            self._take(due)

    def _take(self, count: int) -> Pcm:
        """``count`` samples to play: from the ring, silence where it has none, plus the chime."""
        ring = self._ring
        queued = len(ring)
        backlog = round(MAX_BACKLOG_SECONDS * SAMPLE_RATE)
        if queued > backlog + count:  # too much waiting: skip the oldest
            ring.read(queued - backlog)
            queued = backlog
        if not self._primed and queued >= round(PRIME_SECONDS * SAMPLE_RATE):
            self._primed = True
        if self._primed:
            got = ring.read(count)
            if got.shape[0] < count:  # ran dry: pad, and gather again before playing
                self._primed = False
                got = np.concatenate((got, np.zeros(count - got.shape[0], dtype=np.int16)))
        else:
            got = np.zeros(count, dtype=np.int16)
        if self._chime is not None:
            part = self._chime[self._chime_at : self._chime_at + count]
            mixed = got[: part.shape[0]].astype(np.int32) + part
            got[: part.shape[0]] = np.clip(mixed, -32768, 32767).astype(np.int16)
            self._chime_at += part.shape[0]
            if self._chime_at >= self._chime.shape[0]:
                self._chime = None
        self._level.push(got)
        return got

    @Slot(QtAudio.State)
    def _on_state_changed(self, state: QtAudio.State) -> None:
        sink = self._sink
        if sink is None:
            return
        if state == QtAudio.State.IdleState and sink.error() == QtAudio.Error.UnderrunError:
            self.underruns += 1
            return
        if state != QtAudio.State.StoppedState:
            return
        error = sink.error()
        if error != QtAudio.Error.NoError:
            failure, message = audio_failure(DeviceKind.SPEAKER, error)
            self.failed.emit(self._device_id, failure.value, message)


class SpeakerPlayback(DeviceHandle):
    """The speaker in use: plays :attr:`ring` (the engine writes the call's mix there).

    :attr:`level` is the level of what is being played (the chime included),
    for a Preferences "you should hear this" indicator.

    Signals: those of :class:`DeviceHandle`, all on the GUI thread.
    """

    _chime_requested = Signal()

    def __init__(
        self,
        catalog: DeviceCatalog,
        thread: DeviceThread,
        *,
        ring: PcmRing | None = None,
        level: LevelMeter | None = None,
        parent: QObject | None = None,
    ) -> None:
        self.ring = (
            ring if ring is not None else PcmRing(round(SAMPLE_RATE * PLAYBACK_RING_SECONDS))
        )
        self.level = level if level is not None else LevelMeter()
        worker = SpeakerWorker(self.ring, self.level)
        super().__init__(DeviceKind.SPEAKER, catalog, thread, worker, parent)
        self._speaker_worker = worker
        self._chime_requested.connect(worker.play_chime)

    @property
    def underruns(self) -> int:
        """How often the sound card ran dry so far (each time is an audible glitch)."""
        return self._speaker_worker.underruns

    def play_test_sound(self) -> None:
        """Play the test chime on the speaker in use (once; a second call restarts it)."""
        self._chime_requested.emit()
