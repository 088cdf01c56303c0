"""The local tracks the engine sends: microphone, camera, screen.

One track of each kind exists per engine, and every peer connection sends a
``MediaRelay`` proxy of it, so a captured frame is converted once and reaches
every peer (without the relay, peers would *split* the frames between them).

Sending on/off is a *gate* on these source tracks, not ``replaceTrack``: while
a gate is closed, :meth:`recv` simply waits, the relay waits with it, and
every sender of that section sends no RTP at all (no silence, no black
frames); opening it resumes the same RTP stream, never renegotiating.
(``replaceTrack(None)`` on a relayed sender can leave the sender waiting for
ever on the stopped proxy, so it is not used.)

All methods run on the engine's loop thread; the sources they read from
(:class:`~conference_gui.media.exchange.PcmSource`,
:class:`~conference_gui.media.exchange.FrameSlot`) are thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
from collections.abc import Callable, Sized

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from conference_gui.media.exchange import (
    SAMPLE_RATE,
    FrameSlot,
    PcmSource,
    VideoImage,
    plane_rows,
)

#: 20 ms of 48 kHz mono: one Opus frame.
FRAME_SAMPLES = SAMPLE_RATE // 50
AUDIO_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
VIDEO_CLOCK = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
#: A paced track that fell this far behind (it was gated, or the loop stalled)
#: starts a new timeline instead of sending a burst to catch up.
RESYNC_AFTER = 0.1


class GatedTrack(MediaStreamTrack):
    """A source track that sends only while its gate is open and a source is set."""

    def __init__(self) -> None:
        super().__init__()
        self._on = False
        self._wake = asyncio.Event()
        self._next: float | None = None  # loop time of the next frame

    @property
    def sending(self) -> bool:
        """The gate is open (``on`` would shadow the event emitter's method)."""
        return self._on

    def set_on(self, on: bool) -> None:
        self._on = on
        self._wake.set()

    def stop(self) -> None:
        super().stop()
        self._wake.set()

    def _has_source(self) -> bool:
        raise NotImplementedError

    async def _nap(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if woken (stopped, gated, a new source or
        picture): a stopped track ends at once, so nothing outlives the engine."""
        self._wake.clear()
        timer = asyncio.get_running_loop().call_later(seconds, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            timer.cancel()

    def _ready(self) -> bool:
        return self._on and self._has_source()

    async def _tick(self, interval: float) -> float:
        """Wait until the gate is open and the next frame is due; returns loop time.

        Raises ``MediaStreamError`` once the track is stopped (the relay and the
        senders then end, which is how they are shut down).
        """
        loop = asyncio.get_running_loop()
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if not self._ready():
                self._wake.clear()
                await self._wake.wait()
                continue
            now = loop.time()
            if self._next is None or now - self._next > RESYNC_AFTER:
                self._next = now  # first frame, or after a pause: a new timeline
            if self._next > now:
                await self._nap(self._next - now)
                continue  # re-check the gate: it may have closed meanwhile
            self._next += interval
            return now


class MicrophoneTrack(GatedTrack):
    """20 ms frames of 960 samples (48 kHz, s16) from a :class:`PcmSource`, paced.

    A short read is padded with silence (the device was late). A source that
    knows its length (a :class:`PcmRing` filled by a device) is trimmed to a
    few frames first, so a backlog (after a pause, or a device that delivers
    in bursts) becomes a skip instead of latency that never goes away.
    """

    kind = "audio"
    MAX_BACKLOG = 3 * FRAME_SAMPLES

    def __init__(self) -> None:
        super().__init__()
        self._source: PcmSource | None = None
        self._pts = 0

    def set_source(self, source: PcmSource | None) -> None:
        self._source = source
        self._wake.set()

    def _has_source(self) -> bool:
        return self._source is not None

    async def recv(self) -> av.AudioFrame:
        await self._tick(FRAME_SAMPLES / SAMPLE_RATE)
        source = self._source
        assert source is not None
        if isinstance(source, Sized):
            backlog = len(source)
            if backlog > self.MAX_BACKLOG:
                source.read(backlog - FRAME_SAMPLES)
        samples = np.asarray(source.read(FRAME_SAMPLES), dtype=np.int16).reshape(-1)
        if samples.shape[0] < FRAME_SAMPLES:
            samples = np.concatenate(
                (samples, np.zeros(FRAME_SAMPLES - samples.shape[0], dtype=np.int16))
            )
        elif samples.shape[0] > FRAME_SAMPLES:
            samples = samples[:FRAME_SAMPLES]
        # Stereo with the same samples on both sides: handed mono, aiortc's
        # Opus encoder upmixes at -3 dB, and every level heard would be 0.71× too low.
        stereo = np.repeat(samples, 2).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = AUDIO_TIME_BASE
        self._pts += FRAME_SAMPLES
        return frame


def frame_from_image(image: VideoImage, pts: int, scratch: BgraScratch) -> av.VideoFrame:
    """A ``yuv420p`` frame for the encoders, from a BGRA picture.

    Converted here, once, on the engine loop, rather than by every peer's
    encoder; odd sizes lose their last row or column (4:2:0 needs even ones).
    It matters for safety too: the relay hands this one frame object to every
    peer's encoder, each in its own executor thread, and since it is already
    in their format none of them reformats it. PyAV keeps one ``SwsContext``
    per frame, and two threads reformatting the same frame can deadlock
    (seen with PyAV 18.1).

    ``scratch`` (one per track, used on one thread only) holds the BGRA frame
    the picture is copied into, so its buffer and its ``SwsContext`` are made
    once rather than for every picture: ``VideoFrame.from_ndarray`` would cost
    ~1 ms for 640×480 (a fresh buffer and conversion context each time), a
    copy into the kept frame ~0.07 ms. The ``yuv420p`` result is always a new
    frame: the encoders may still hold the previous one.
    """
    pixels = image.pixels
    h, w = pixels.shape[0] & ~1, pixels.shape[1] & ~1
    if (h, w) != pixels.shape[:2]:
        pixels = pixels[:h, :w]
    bgra = scratch.holding(pixels)
    # threads=1: on the loop's own thread. swscale's default (one slice thread per
    # core) costs more CPU than it saves here, and a kept context would keep them.
    frame = bgra.reformat(format="yuv420p", threads=1)
    frame.pts = pts
    frame.time_base = VIDEO_TIME_BASE
    return frame


class BgraScratch:
    """A BGRA ``VideoFrame`` kept for copying pictures into (see :func:`frame_from_image`).

    Not thread-safe: one per track, used on the engine loop only.
    """

    def __init__(self) -> None:
        self._frame: av.VideoFrame | None = None

    def holding(self, pixels: npt.NDArray[np.uint8]) -> av.VideoFrame:
        """The kept frame (remade when the size changes) holding a copy of ``pixels``."""
        h, w = int(pixels.shape[0]), int(pixels.shape[1])
        frame = self._frame
        if frame is None or (frame.width, frame.height) != (w, h):
            frame = self._frame = av.VideoFrame(w, h, "bgra")
        plane_rows(frame.planes[0], h)[:, : w * 4] = pixels.reshape(h, w * 4)
        return frame


class PictureTrack(GatedTrack):
    """Video from a :class:`FrameSlot`: a new picture is sent the moment it is put
    (the slot's listener wakes the track; no waiting up to a frame for a tick),
    at most ``fps`` pictures a second. An unchanged picture is repeated every
    ``repeat_after`` seconds (a still screen share stays alive for the
    receiver, and a peer that lost a keyframe gets one).
    """

    kind = "video"
    #: A picture that comes this much early is still sent at once: cameras jitter.
    JITTER = 0.006

    def __init__(self, fps: float, repeat_after: float = 0.5) -> None:
        super().__init__()
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.fps = fps
        self.repeat_after = repeat_after
        self._min_interval = max(0.0, 1.0 / fps - self.JITTER)
        self._slot: FrameSlot | None = None
        self._listener: Callable[[], None] | None = None
        self._last_seq = -1
        self._last_sent: float | None = None  # loop time
        self._origin: float | None = None
        self._scratch = BgraScratch()

    def set_slot(self, slot: FrameSlot | None) -> None:
        """Read pictures from ``slot`` (on the engine loop; None: send nothing)."""
        self._unlisten()
        self._slot = slot
        self._last_seq = -1
        if slot is not None:
            loop = asyncio.get_running_loop()
            wake = self._wake

            def listener() -> None:  # the producer's thread: hand over, nothing more
                with contextlib.suppress(RuntimeError):  # the loop has closed
                    loop.call_soon_threadsafe(wake.set)

            self._listener = listener
            slot.add_listener(listener)
        self._wake.set()

    def _unlisten(self) -> None:
        if self._slot is not None and self._listener is not None:
            self._slot.remove_listener(self._listener)
        self._listener = None

    def stop(self) -> None:
        self._unlisten()
        super().stop()

    def _has_source(self) -> bool:
        return self._slot is not None

    async def recv(self) -> av.VideoFrame:
        loop = asyncio.get_running_loop()
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            slot = self._slot
            if not self._on or slot is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            now = loop.time()
            if self._last_sent is not None and now < self._last_sent + self._min_interval:
                await self._nap(self._last_sent + self._min_interval - now)
                continue
            self._wake.clear()  # before reading: a put after this wakes us again
            seq, image = slot.latest()
            if image is not None:
                since = None if self._last_sent is None else now - self._last_sent
                if seq != self._last_seq or since is None or since >= self.repeat_after:
                    if self._origin is None:
                        self._origin = now
                    self._last_seq, self._last_sent = seq, now
                    pts = int((now - self._origin) * VIDEO_CLOCK)
                    return frame_from_image(image, pts, self._scratch)
                await self._nap(self.repeat_after - since)
            else:
                await self._wake.wait()
