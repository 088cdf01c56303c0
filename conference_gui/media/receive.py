"""What arrives from the peers: pictures for the tiles, sound for the mix and the meters.

Converting happens here, on the engine side, so the GUI thread only copies
and paints: a decoded ``yuv420p`` frame becomes a BGRA picture at the size the
tile asked for (:meth:`FrameSlot.wanted`) in one ``swscale`` pass, and
decoded Opus (48 kHz stereo) becomes 48 kHz mono ``int16``. A camera tile
asks to be *filled*: the part of the picture that shows is cut out first, so
nothing is converted only to be cropped by the tile (a 4:3 camera in a 16:9
tile: a quarter of its rows; 0.63 → 0.38 ms a picture at 532×299).

:class:`RemotePeer` is what the engine keeps per remote participant across
its connections (a replacing offer makes a new connection; the tile's slot
and the level meter stay the same objects). Its slots and meter are
thread-safe (the GUI reads them); everything else runs on the engine loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Literal, TypeVar

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from conference_gui.media.exchange import (
    SAMPLE_RATE,
    FrameSlot,
    LevelMeter,
    Pcm,
    PcmRing,
    VideoImage,
    plane_rows,
)

Source = Literal["camera", "screen"]
SOURCES: tuple[Source, ...] = ("camera", "screen")
MIX_SAMPLES = SAMPLE_RATE // 50  # 20 ms


def fit_size(width: int, height: int, wanted: tuple[int, int] | None) -> tuple[int, int] | None:
    """The size to convert a ``width``×``height`` picture to for a reader wanting ``wanted``.

    ``None`` wanted: full size. Otherwise the largest size inside ``wanted``
    with the picture's aspect ratio, its width made even (``swscale``
    converts an odd width without its SIMD code: 1.4 instead of 0.5 ms for
    ~530×400; the tile does not miss a column). A wanted size with a zero
    side means nobody looks (a hidden tile): ``None``, and the picture is not
    converted.
    """
    if wanted is None:
        return width, height
    ww, wh = wanted
    if ww <= 0 or wh <= 0 or width <= 0 or height <= 0:
        return None
    scale = min(ww / width, wh / height)
    return _even_width(max(1, round(width * scale))), max(1, round(height * scale))


def _even_width(w: int) -> int:
    """``w`` made even (but never 0): swscale's SIMD code wants even widths."""
    return w - 1 if w % 2 and w > 1 else w


Crop = tuple[int, int, int, int]  # x, y, width, height


def fill_crop(
    width: int, height: int, wanted: tuple[int, int]
) -> tuple[Crop, tuple[int, int]] | None:
    """The centred part of a ``width``×``height`` picture that, scaled, fills ``wanted``,
    and the size to scale it to (``wanted``, its width made even, as in :func:`fit_size`).

    The part's corner and size are even (4:2:0 chroma covers two pixels each way);
    ``None`` when nobody looks (a side of ``wanted`` is zero).
    """
    ww, wh = wanted
    if ww <= 0 or wh <= 0 or width <= 0 or height <= 0:
        return None
    scale = max(ww / width, wh / height)
    cw = max(2, min(width, round(ww / scale)) & ~1)
    ch = max(2, min(height, round(wh / scale)) & ~1)
    x, y = ((width - cw) // 2) & ~1, ((height - ch) // 2) & ~1
    return (x, y, cw, ch), (_even_width(ww), wh)


#: What the engine's thread keeps between pictures, per stream: scalers by (source
#: size and format, target size), one ``SwsContext`` each, made once
#: (``frame.reformat`` makes a new one for every decoded frame, a new frame each
#: time: 1.5 ms instead of 0.5 ms a picture at ~530×400), and the frames pictures
#: are cut into. Per thread: a context must not be shared between threads. Each
#: scaler converts on its caller's thread (``threads=1``): swscale's own slice
#: threads would cost more CPU than they save, and live as long as the context.
_kept_here = threading.local()
_MAX_KEPT = 16

T = TypeVar("T")


def _kept(kind: str, key: Hashable, make: Callable[[], T]) -> T:
    """This thread's kept ``kind`` object for ``key``, made on first need."""
    kept: dict[Hashable, T] | None = getattr(_kept_here, kind, None)
    if kept is None:
        kept = {}
        setattr(_kept_here, kind, kept)
    found = kept.get(key)
    if found is None:
        if len(kept) >= _MAX_KEPT:  # tiles resized many times: start afresh
            kept.clear()
        found = kept[key] = make()
    return found


def _cut(frame: av.VideoFrame, crop: Crop) -> av.VideoFrame:
    """``crop`` of a ``yuv420p`` frame, copied into a frame kept per size (it is only
    the scaler's input, done with before the next picture)."""
    x, y, w, h = crop
    if (x, y, w, h) == (0, 0, frame.width, frame.height):
        return frame
    out = _kept("cuts", (w, h), lambda: av.VideoFrame(w, h, "yuv420p"))
    for i, (src, dst) in enumerate(zip(frame.planes, out.planes, strict=True)):
        div = 1 if i == 0 else 2  # 4:2:0 chroma: half the rows and columns
        source = plane_rows(src, (frame.height + div - 1) // div)
        plane_rows(dst, h // div)[:, : w // div] = source[
            y // div : (y + h) // div, x // div : (x + w) // div
        ]
    return out


def image_from_frame(
    frame: av.VideoFrame, wanted: tuple[int, int] | None, stamp: float, *, fill: bool = False
) -> VideoImage | None:
    """A decoded frame as a BGRA :class:`VideoImage` fit into ``wanted`` (see
    :func:`fit_size`), or, with ``fill``, filling it (see :func:`fill_crop`; for
    ``yuv420p``, what decoders give; other formats are fit)."""
    if fill and wanted is not None and frame.format.name == "yuv420p":
        cut = fill_crop(frame.width, frame.height, wanted)
        if cut is None:
            return None
        crop, (w, h) = cut
        frame = _cut(frame, crop)
    else:
        size = fit_size(frame.width, frame.height, wanted)
        if size is None:
            return None
        w, h = size
    scaler = _kept(
        "scalers", (frame.width, frame.height, frame.format.name, w, h), VideoReformatter
    )
    converted = scaler.reformat(frame, width=w, height=h, format="bgra", threads=1)
    pixels = np.ascontiguousarray(converted.to_ndarray(), dtype=np.uint8)
    return VideoImage(pixels, stamp)


class MonoConverter:
    """Decoded audio frames → 48 kHz mono ``int16`` (channels averaged).

    aiortc's Opus decoder gives 48 kHz stereo ``s16``, handled without
    resampling; anything else goes through a resampler made on first need.
    """

    def __init__(self) -> None:
        self._resampler: av.AudioResampler | None = None

    def convert(self, frame: av.AudioFrame) -> Pcm:
        if frame.format.name == "s16" and frame.sample_rate == SAMPLE_RATE:
            data = frame.to_ndarray().reshape(-1)
            channels = len(frame.layout.channels)
            if channels == 1:
                return data.astype(np.int16, copy=False)
            wide = data.reshape(-1, channels).astype(np.int32)
            return (wide.sum(axis=1) // channels).astype(np.int16)
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        parts = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        if not parts:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(parts).astype(np.int16, copy=False)


class RemotePeer:
    """One remote participant's received media, kept across its connections."""

    #: Sound queued for the mix beyond this is dropped (the mix lags no more).
    MAX_QUEUED = 6 * MIX_SAMPLES

    def __init__(self, pid: str) -> None:
        self.pid = pid
        self.slots: dict[Source, FrameSlot] = {s: FrameSlot() for s in SOURCES}
        self.meter = LevelMeter(window=0.1)
        self.sound = PcmRing(capacity=SAMPLE_RATE // 4)
        # Loop thread only:
        self.last_picture: dict[Source, float | None] = {s: None for s in SOURCES}
        self.receiving: dict[Source, bool] = {s: False for s in SOURCES}
        self.pictures: dict[Source, int] = {s: 0 for s in SOURCES}
        self.samples = 0
        self._primed = False

    def heard(self, pcm: Pcm, now: float) -> None:
        """Decoded sound arrived (loop thread)."""
        self.samples += int(pcm.shape[0])
        self.meter.push(pcm, now)
        self.sound.write(pcm)

    def take(self, count: int) -> Pcm | None:
        """Up to ``count`` samples for the mix, or None while (re)filling.

        After running dry, a peer waits until two mix steps are queued: network
        jitter then costs one 20 ms delay once instead of a click every step.
        """
        queued = len(self.sound)
        if queued > self.MAX_QUEUED:
            self.sound.read(queued - 2 * count)
            queued = 2 * count
        if not self._primed:
            if queued < 2 * count:
                return None
            self._primed = True
        if queued < count:
            self._primed = False
        return self.sound.read(count)

    def clear(self) -> None:
        """The peer left: blank its tiles and forget its queued sound."""
        for slot in self.slots.values():
            slot.put(None)
        self.sound.clear()
        self._primed = False


class RemotePeers:
    """The thread-safe registry of :class:`RemotePeer` by id (GUI and loop use it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._peers: dict[str, RemotePeer] = {}

    def get(self, pid: str) -> RemotePeer:
        with self._lock:
            peer = self._peers.get(pid)
            if peer is None:
                peer = self._peers[pid] = RemotePeer(pid)
            return peer

    def find(self, pid: str) -> RemotePeer | None:
        with self._lock:
            return self._peers.get(pid)

    def all(self) -> list[RemotePeer]:
        with self._lock:
            return list(self._peers.values())


def mix(peers: Iterable[RemotePeer], count: int = MIX_SAMPLES) -> Pcm:
    """One step of the playback mix: the sum of every peer's sound, clipped."""
    acc = np.zeros(count, dtype=np.int32)
    for peer in peers:
        chunk = peer.take(count)
        if chunk is not None and chunk.shape[0]:
            acc[: chunk.shape[0]] += chunk
    return np.clip(acc, -32768, 32767).astype(np.int16)
