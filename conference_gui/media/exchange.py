"""Thread-safe hand-over points between capture devices, the call engine and tiles.

Three threads meet here: a device thread (Qt Multimedia, or a fake device)
produces, the engine's asyncio thread encodes and decodes, the GUI thread
paints. None of them may wait for another, so every exchange is either
*latest wins* (pictures: a late frame is worth nothing) or a *bounded ring*
(sound: a short queue that drops its oldest samples rather than grow).

Formats, fixed so that nobody converts twice:

* pictures are ``VideoImage``: 8-bit BGRA rows (``numpy`` shape ``(h, w, 4)``),
  which is what ``QImage.Format_RGB32`` holds in memory on little-endian
  machines and what PyAV reads as ``"bgra"``;
* sound is 16-bit signed mono PCM at :data:`SAMPLE_RATE` Hz.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from av.video.plane import VideoPlane

log = logging.getLogger(__name__)

#: Hz of every PCM buffer exchanged here (Opus runs at 48 kHz).
SAMPLE_RATE = 48_000
#: The magnitude of a full-scale 16-bit sample (levels are relative to it).
FULL_SCALE = 32768.0

Pcm = npt.NDArray[np.int16]


class PcmSource(Protocol):
    """Anything the engine can pull microphone samples from: ``read(count) -> Pcm``.

    :class:`PcmRing` (filled by a capture device) is one; :class:`ToneSource`
    (the fake microphone) another. Fewer samples than asked means "not yet":
    the engine fills the gap with silence.
    """

    def read(self, count: int) -> Pcm: ...


@dataclass(frozen=True, slots=True)
class VideoImage:
    """One picture: BGRA pixels, shape ``(height, width, 4)``, C-contiguous, uint8.

    ``captured`` is :func:`time.monotonic` when the picture was taken (or, for a
    decoded picture, when it was decoded): latency is measured from it.
    """

    pixels: npt.NDArray[np.uint8]
    captured: float

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def plane_rows(plane: VideoPlane, rows: int) -> npt.NDArray[np.uint8]:
    """A PyAV frame plane as ``rows`` × its line size of bytes: a view, so writing it
    writes the frame (each row may end in padding beyond the picture's width)."""
    return np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(rows, plane.line_size)


class FrameSlot:
    """Latest picture wins: producers overwrite, consumers read the newest.

    ``seq`` grows with every :meth:`put`, so a reader can tell a new picture from
    one it has already shown without holding on to it. ``wanted_size`` is the
    reader's wish for the picture's size (a tile's size in device pixels): the
    producer may scale to it so the reader only has to copy, not scale; with
    ``fill`` (:meth:`want`) the picture should fill that size exactly, its
    edges cut off where the shapes differ, rather than fit inside it.

    A reader that must not poll (the engine sends a camera picture the moment
    it is captured, instead of waiting up to a frame for its next tick) adds a
    *listener*: called after every :meth:`put`, in the producer's thread, so it
    must only hand over (e.g. ``loop.call_soon_threadsafe``), never work.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._image: VideoImage | None = None
        self._seq = 0
        self._wanted: tuple[int, int] | None = None
        self._fill = False
        self._listeners: tuple[Callable[[], None], ...] = ()

    def put(self, image: VideoImage | None) -> int:
        """Store a picture (``None`` clears the slot); returns the new sequence number."""
        with self._lock:
            self._image = image
            self._seq += 1
            seq, listeners = self._seq, self._listeners
        for listener in listeners:
            try:
                listener()
            except Exception:  # a reader's bug must not break the producer
                log.exception("FrameSlot listener failed")
        return seq

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every :meth:`put`, on the producer's thread."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        # ``!=``, not ``is not``: a bound method is a new object at every access.
        with self._lock:
            self._listeners = tuple(x for x in self._listeners if x != listener)

    def latest(self) -> tuple[int, VideoImage | None]:
        with self._lock:
            return self._seq, self._image

    @property
    def seq(self) -> int:
        with self._lock:
            return self._seq

    @property
    def wanted_size(self) -> tuple[int, int] | None:
        with self._lock:
            return self._wanted

    @wanted_size.setter
    def wanted_size(self, size: tuple[int, int] | None) -> None:
        self.want(size, fill=False)

    def want(self, size: tuple[int, int] | None, *, fill: bool) -> None:
        """Ask for pictures of ``size`` that fill it (``fill``) or fit inside it."""
        with self._lock:
            self._wanted, self._fill = size, fill

    def wanted(self) -> tuple[tuple[int, int] | None, bool]:
        """The wished size and whether pictures should fill it, read together."""
        with self._lock:
            return self._wanted, self._fill


class PcmRing:
    """A bounded queue of PCM samples between two threads.

    :meth:`write` never blocks: beyond ``capacity`` samples the oldest are
    dropped (and counted), so a stalled reader costs a glitch, not memory or
    latency that grows for ever. :meth:`read` never blocks either: it returns
    what there is, up to the number asked for.
    """

    def __init__(self, capacity: int = SAMPLE_RATE // 2) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._lock = threading.Lock()
        self._buf = np.zeros(capacity, dtype=np.int16)
        self._start = 0
        self._size = 0
        self.dropped = 0
        self.written = 0

    @property
    def capacity(self) -> int:
        return int(self._buf.shape[0])

    def __len__(self) -> int:
        with self._lock:
            return self._size

    def write(self, samples: Pcm) -> None:
        data = np.asarray(samples, dtype=np.int16).reshape(-1)
        cap = self.capacity
        with self._lock:
            self.written += int(data.shape[0])
            if data.shape[0] >= cap:  # only the newest capacity samples can stay
                self.dropped += self._size + int(data.shape[0]) - cap
                self._buf[:] = data[-cap:]
                self._start, self._size = 0, cap
                return
            overflow = self._size + int(data.shape[0]) - cap
            if overflow > 0:
                self.dropped += overflow
                self._start = (self._start + overflow) % cap
                self._size -= overflow
            end = (self._start + self._size) % cap
            first = min(int(data.shape[0]), cap - end)
            self._buf[end : end + first] = data[:first]
            self._buf[: data.shape[0] - first] = data[first:]
            self._size += int(data.shape[0])

    def read(self, count: int) -> Pcm:
        """Up to ``count`` of the oldest samples (fewer, or none, if fewer are queued)."""
        cap = self.capacity
        with self._lock:
            n = min(count, self._size)
            first = min(n, cap - self._start)
            out = np.concatenate(
                (self._buf[self._start : self._start + first], self._buf[: n - first])
            )
            self._start = (self._start + n) % cap
            self._size -= n
            return out

    def clear(self) -> None:
        with self._lock:
            self._start = self._size = 0


class LevelMeter:
    """The RMS level of recent sound, relative to full scale (0..1), decaying with time.

    A received track simply stops delivering when its sender goes quiet or
    away, so a level that only changed on new samples would stay up for ever:
    :meth:`level` counts only samples heard within ``window`` seconds.

    Integer arithmetic throughout: each chunk's sum of squares is one
    ``int64`` dot product (no float copy of the samples), and running totals
    make :meth:`level` cost the same however many chunks are kept.
    """

    def __init__(self, window: float = 0.1, clock: object = time.monotonic) -> None:
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._chunks: deque[tuple[float, int, int]] = deque()  # (time, sum of squares, count)
        self._energy = 0  # sums over the kept chunks
        self._count = 0

    def push(self, samples: Pcm, now: float | None = None) -> None:
        data = np.asarray(samples).reshape(-1)
        if data.size == 0:
            return
        if data.dtype != np.int64:
            data = data.astype(np.int64)  # 960 squares of int16 overflow nothing in int64
        t = self._now() if now is None else now
        energy, count = int(np.dot(data, data)), int(data.size)
        with self._lock:
            self._chunks.append((t, energy, count))
            self._energy += energy
            self._count += count
            self._trim(t)

    def level(self, now: float | None = None) -> float:
        t = self._now() if now is None else now
        with self._lock:
            self._trim(t)
            energy, count = self._energy, self._count
        if not count:
            return 0.0
        return min(1.0, (energy / count) ** 0.5 / FULL_SCALE)

    def _trim(self, now: float) -> None:
        cutoff = now - self._window
        chunks = self._chunks
        while chunks and chunks[0][0] < cutoff:
            _, energy, count = chunks.popleft()
            self._energy -= energy
            self._count -= count

    def _now(self) -> float:
        clock = self._clock
        assert callable(clock)
        return float(clock())


class ToneSource:
    """The fake microphone: a steady tone that can be switched on and off.

    Switched off it yields silence (the microphone is there, nobody speaks),
    which is what the "who is speaking" tests need per participant.
    """

    def __init__(self, frequency: float = 440.0, amplitude: float = 0.3) -> None:
        self.frequency = frequency
        self.amplitude = amplitude
        self._phase = 0
        self._lock = threading.Lock()
        self._on = True

    @property
    def sounding(self) -> bool:
        return self._on

    def set_sounding(self, on: bool) -> None:
        with self._lock:
            self._on = on

    def read(self, count: int) -> Pcm:
        with self._lock:
            start, self._phase = self._phase, self._phase + count
            on = self._on
        if not on:
            return np.zeros(count, dtype=np.int16)
        t = (np.arange(start, start + count, dtype=np.float64)) / SAMPLE_RATE
        wave = np.sin(2 * np.pi * self.frequency * t) * self.amplitude * 32767
        return wave.astype(np.int16)
