"""Screen sharing: a screen or a window into a latest-wins slot, captured on the device thread.

Qt Multimedia's ``QScreenCapture`` / ``QWindowCapture`` feed a
``QMediaCaptureSession`` and a ``QVideoSink`` that live on the device thread
(``cgui-devices``), as the camera's do; each kept frame is converted to BGRA
there and put in :attr:`ScreenCapture.frames`, which the call engine's screen
track reads. Nothing of it touches the GUI thread: grabbing the screen there
(``QScreen.grabWindow``) would block it for 10–30 ms a frame at 1920×1080.

Policy for shared screens (issue 12: text must stay sharp): the **resolution
is kept** — frames are the screen's or window's own size in device pixels,
never scaled here — and the **frame rate is the knob**: 10 fps by default,
settable between 5 and 15 (:meth:`ScreenCapture.set_frame_rate`). Qt grabs at
the screen's refresh rate and offers no setting for it, so frames above the
rate are dropped on arrival, before any conversion.

What each platform gives (Qt 6.11's FFmpeg backend; ``docs/CALLS.md``,
"Screen sharing", says what was tested):

* **X11**: screens and windows (windows listed from the window manager's
  ``_NET_CLIENT_LIST``), grabbed with XShm — but Qt picks that grabber only
  when ``XDG_SESSION_TYPE`` says ``x11``; an X session started without a
  session manager (``startx``, Xvfb) leaves it unset and Qt falls back to
  ``QScreen.grabWindow`` on its own thread, which costs 2–2.5 times the CPU.
  :func:`prefer_x11_capture` sets the variable when the platform is ``xcb``
  and nothing set it.
* **Windows, macOS**: screens and windows (macOS asks for the Screen
  Recording permission the first time).
* **Wayland**: no listing of windows and no choosing of a screen by the app:
  Qt goes through PipeWire and the desktop portal, which shows the system's
  own chooser. Without PipeWire (``libpipewire-0.3``) or a portal, sharing
  cannot work, and the message says so.

The picker's live thumbnails come from :class:`ScreenThumbnails`: one source
at a time is grabbed for a single frame (the capture started, its first
frame taken, stopped again), scaled down on the device thread.
"""

from __future__ import annotations

import enum
import logging
import os
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QImage, QScreen
from PySide6.QtMultimedia import (
    QCapturableWindow,
    QMediaCaptureSession,
    QScreenCapture,
    QVideoFrame,
    QVideoSink,
    QWindowCapture,
)

from conference_gui.media.exchange import FrameSlot, VideoImage
from conference_gui.services.media.device_thread import DeviceThread, DeviceWorker
from conference_gui.services.media.video_frames import qimage_to_bgra, video_frame_to_image

log = logging.getLogger(__name__)

#: Frames a second a shared screen is sent at: 10 by default, 5 to 15 (issue 12).
DEFAULT_FPS = 10.0
MIN_FPS = 5.0
MAX_FPS = 15.0
#: A frame this much early still counts as on time (Qt's grabber ticks with jitter).
JITTER = 0.008

WINDOW_CLOSED_MESSAGE = "The shared window was closed"
SCREEN_GONE_MESSAGE = "The shared screen was disconnected"
PAUSED_MESSAGE = "The shared window is hidden or minimized; sharing resumes when it is shown"
DENIED_MESSAGE = (
    "Permission to record the screen was denied "
    "(macOS: System Settings → Privacy & Security → Screen Recording)"
)
WAYLAND_MESSAGE = (
    "Screen sharing on Wayland goes through PipeWire and the desktop portal "
    "(xdg-desktop-portal), and they did not deliver a picture"
)
WAYLAND_NOTE = (
    "On Wayland your desktop asks which screen or window to share: "
    "choose in its dialog after you press Share."
)


class ScreenKind(enum.StrEnum):
    SCREEN = "screen"
    WINDOW = "window"


@dataclass(frozen=True, slots=True)
class ScreenSource:
    """Something that can be shared: a screen or a window, as the person sees it.

    ``native`` is Qt's handle (``QScreen`` or ``QCapturableWindow``): opaque to
    everyone but this module. ``id`` is stable while the source exists.
    """

    kind: ScreenKind
    id: str
    title: str
    detail: str = ""
    is_primary: bool = False
    native: object = field(default=None, compare=False, repr=False)


class ScreenState(enum.StrEnum):
    OFF = "off"
    STARTING = "starting"
    ACTIVE = "active"
    PAUSED = "paused"  # a shared window is hidden or minimized (still shared, frozen)
    DENIED = "denied"
    UNSUPPORTED = "unsupported"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ScreenSupport:
    """What sharing can do on this platform (the picker shows it)."""

    windows: bool  # windows can be listed and chosen here
    thumbnails: bool  # sources can be grabbed for previews without asking the person
    system_chooses: bool  # the system's own dialog picks what is shared (Wayland portal)
    note: str  # "" or a sentence for the picker


def is_wayland() -> bool:
    """A Wayland session: also when this app runs on XWayland (``xcb`` platform), as
    Qt then captures through PipeWire too (it follows ``XDG_SESSION_TYPE``)."""
    app = QGuiApplication.instance()
    platform = QGuiApplication.platformName() if app is not None else ""
    session = os.environ.get("XDG_SESSION_TYPE", "").lower()
    return platform.startswith("wayland") or session == "wayland"


def platform_support() -> ScreenSupport:
    if is_wayland():
        return ScreenSupport(windows=False, thumbnails=False, system_chooses=True,
                             note=WAYLAND_NOTE)
    return ScreenSupport(windows=True, thumbnails=True, system_chooses=False, note="")


def prefer_x11_capture() -> bool:
    """On the ``xcb`` platform with ``XDG_SESSION_TYPE`` unset, set it to ``x11``.

    Qt's X11 grabber (XShm) is chosen only when that variable says ``x11``;
    otherwise Qt grabs through ``QScreen.grabWindow`` (measured sharing
    1920×1080 at 10 fps: 25 % + 24 % of a core for the app and the X server,
    against 12 % + 8 %; docs/CALLS.md).
    Call on the GUI thread before a capture is made. Returns whether it set it.
    """
    app = QGuiApplication.instance()
    if app is None or QGuiApplication.platformName() != "xcb":
        return False
    if os.environ.get("XDG_SESSION_TYPE"):
        return False
    os.environ["XDG_SESSION_TYPE"] = "x11"
    return True


def list_sources(exclude_titles: Collection[str] = ()) -> list[ScreenSource]:
    """The screens (the primary first) and, where the platform lists them, the windows.

    GUI thread (screens are the application's). Windows whose title is in
    ``exclude_titles`` are left out (the picker itself).
    """
    app = QGuiApplication.instance()
    if app is None:
        return []
    sources = _screen_sources()
    if platform_support().windows:
        sources += _window_sources(exclude_titles)
    return sources


def _screen_sources() -> list[ScreenSource]:
    primary = QGuiApplication.primaryScreen()
    screens = QGuiApplication.screens()
    ordered = ([primary] if primary is not None else []) + [
        s for s in screens if s is not primary
    ]
    out = []
    for number, screen in enumerate(ordered, 1):
        geometry, ratio = screen.geometry(), screen.devicePixelRatio()
        size = f"{round(geometry.width() * ratio)}×{round(geometry.height() * ratio)}"
        if len(ordered) == 1:
            title = "Entire screen"
        else:
            title = f"Screen {number}" + (" (main)" if screen is primary else "")
        name = screen.name() or str(number)
        detail = f"{size} · {screen.model()}" if screen.model() else size
        out.append(ScreenSource(ScreenKind.SCREEN, f"screen:{name}", title, detail,
                                screen is primary, screen))
    return out


def _window_sources(exclude_titles: Collection[str]) -> list[ScreenSource]:
    out = []
    seen: dict[str, int] = {}
    for window in QWindowCapture.capturableWindows():
        title = window.description()
        if title in exclude_titles or not window.isValid():
            continue
        # Qt offers no way to compare windows from Python (no id, no ==): the title
        # and its place among windows of the same title keep a window's id stable.
        nth = seen.get(title, 0)
        seen[title] = nth + 1
        out.append(ScreenSource(ScreenKind.WINDOW, f"window:{title}#{nth}",
                                title or "Untitled window", "", False, window))
    return out


def screen_problem(
    message: str, kind: ScreenKind, window_gone: bool, wayland: bool
) -> tuple[ScreenState, str]:
    """Qt's capture error → the state and sentence to show."""
    text = message.lower()
    if kind is ScreenKind.WINDOW and window_gone:
        return ScreenState.OFF, WINDOW_CLOSED_MESSAGE
    if kind is ScreenKind.WINDOW and any(
        w in text for w in ("not viewable", "out of the screen", "minimi", "cannot get ximage")
    ):
        return ScreenState.PAUSED, PAUSED_MESSAGE
    if any(w in text for w in ("permission", "denied", "not authorized", "declined")):
        return ScreenState.DENIED, DENIED_MESSAGE
    if wayland:
        return ScreenState.UNSUPPORTED, WAYLAND_MESSAGE
    reason = f" ({message})" if message else ""
    return ScreenState.FAILED, f"Screen sharing could not start{reason}"


def _is_error(error: object) -> bool:
    """True unless ``error`` is ``NoError`` (of QScreenCapture's or QWindowCapture's enum)."""
    return getattr(error, "name", "") != "NoError"


class _Capture:
    """One QScreenCapture or QWindowCapture with its session and sink (device thread)."""

    def __init__(self, owner: DeviceWorker, kind: ScreenKind) -> None:
        self.kind = kind
        self.owner = owner
        self.session = QMediaCaptureSession(owner)
        self.sink = QVideoSink(owner)
        self.capture: QScreenCapture | QWindowCapture
        if kind is ScreenKind.SCREEN:
            self.capture = QScreenCapture(owner)
            self.session.setScreenCapture(self.capture)
        else:
            self.capture = QWindowCapture(owner)
            self.session.setWindowCapture(self.capture)
        self.session.setVideoSink(self.sink)

    def point_at(self, native: object) -> bool:
        capture = self.capture
        if isinstance(capture, QScreenCapture) and isinstance(native, QScreen):
            capture.setScreen(native)
            return True
        if isinstance(capture, QWindowCapture) and isinstance(native, QCapturableWindow):
            capture.setWindow(native)
            return True
        return False

    def window_gone(self) -> bool:
        capture = self.capture
        return isinstance(capture, QWindowCapture) and not capture.window().isValid()

    def close(self) -> None:
        """Stop capturing; the Qt objects die with their worker (DeviceWorker.retire)."""
        self.capture.setActive(False)
        self.owner.retire(self.session, self.sink, self.capture)


@dataclass(frozen=True, slots=True)
class ShareRequest:
    source: ScreenSource
    token: int  # reports about an older request are ignored


class ScreenWorker(DeviceWorker):
    """Device thread: the shared source → BGRA pictures at most ``fps`` a second;
    and, while ``preview`` has a ``wanted_size`` (your own screen tile's), the
    same pictures scaled to fit it, so the GUI thread never scales 1080p to paint.

    Signals (device thread; received queued by :class:`ScreenCapture`):
        reported(int token, str state, str message): a :class:`ScreenState` value.
    """

    reported = Signal(int, str, str)

    def __init__(self, slot: FrameSlot, preview: FrameSlot) -> None:
        super().__init__()
        self._slot = slot
        self._preview = preview
        self._capture: _Capture | None = None
        self._token = 0
        self._interval = 1.0 / DEFAULT_FPS
        self._next_due = 0.0
        self._state = ScreenState.OFF
        self._wayland = False
        self.frames = 0  # pictures put
        self.arrived = 0  # frames Qt delivered (kept or dropped)

    @Slot(object)
    def open_source(self, request: ShareRequest) -> None:
        self.close_devices()
        self._token = request.token
        self._wayland = is_wayland()
        source = request.source
        capture = _Capture(self, source.kind)
        if not capture.point_at(source.native):
            capture.close()
            self._report(ScreenState.FAILED, "Screen sharing could not start (no such source)")
            return
        capture.capture.errorOccurred.connect(self._on_error)
        capture.sink.videoFrameChanged.connect(self._on_frame)
        self._capture = capture
        self._next_due = 0.0
        self._state = ScreenState.STARTING
        capture.capture.setActive(True)

    @Slot(float)
    def set_frame_rate(self, fps: float) -> None:
        self._interval = 1.0 / fps

    @Slot()
    def close_source(self) -> None:
        self.close_devices()

    def close_devices(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.capture.errorOccurred.disconnect(self._on_error)
            capture.sink.videoFrameChanged.disconnect(self._on_frame)
            capture.close()
            # The preview first: whoever sees the shared slot empty finds it empty too.
            self._preview.put(None)
            self._slot.put(None)
        self._state = ScreenState.OFF

    def _report(self, state: ScreenState, message: str) -> None:
        self._state = state
        self.reported.emit(self._token, state.value, message)

    @Slot(QVideoFrame)
    def _on_frame(self, frame: QVideoFrame) -> None:
        if self._capture is None or not frame.isValid():
            return
        self.arrived += 1
        now = time.monotonic()
        if now < self._next_due - JITTER:
            return  # above the frame rate: dropped before any work
        image = video_frame_to_image(frame, now)
        if image is None:
            return
        # Keeps the average rate: a late frame does not push the next one later.
        self._next_due = max(self._next_due + self._interval, now)
        self._slot.put(image)
        self.frames += 1
        box = self._preview.wanted_size
        if box is not None and min(box) > 0:
            self._preview.put(scaled_picture(image, box))
        if self._state is not ScreenState.ACTIVE:
            self._report(ScreenState.ACTIVE, "")

    @Slot(object, str)
    def _on_error(self, error: object, message: str) -> None:
        capture = self._capture
        if capture is None or not _is_error(error):
            return
        state, sentence = screen_problem(message, capture.kind, capture.window_gone(),
                                         self._wayland)
        log.info("screen capture: %s (%s)", message, state.value)
        if state is ScreenState.PAUSED:
            if self._state is not ScreenState.PAUSED:
                self._report(state, sentence)
            return
        self.close_devices()
        self._report(state, sentence)


class ScreenCapture(QObject):
    """Shares one screen or window at a time: pictures go to :attr:`frames`.

    A device handle like :class:`CameraCapture`: lives on the GUI thread and
    signals there; the capture runs on the device thread (``thread``, started
    on demand). :attr:`frames` holds the full-size pictures the call sends.
    :attr:`preview` is for your own screen tile: set its ``wanted_size`` (a
    ``VideoTile`` made with ``remote=True`` does) and it gets the same pictures
    scaled to fit that size on the device thread (about 2.6 ms a frame for
    640×360); with no wanted size nothing is scaled. :attr:`thumbnails`
    serves the picker's live previews.

    Signals (all on the GUI thread):
        state_changed(str state, str message): a :class:`ScreenState` value and
            the sentence to show ("" when all is well).
        source_changed(str source id, str title): now sharing this ("", "" when not).
        ended(str message): sharing stopped by itself (the window closed, the
            screen went, capture failed or was refused); the call stops sending.
    """

    state_changed = Signal(str, str)
    source_changed = Signal(str, str)
    ended = Signal(str)

    _open_requested = Signal(object)
    _close_requested = Signal()
    _rate_requested = Signal(float)

    def __init__(
        self,
        thread: DeviceThread,
        *,
        frames: FrameSlot | None = None,
        fps: float = DEFAULT_FPS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._thread = thread
        self.frames = frames if frames is not None else FrameSlot()
        self.preview = FrameSlot()
        self._worker = ScreenWorker(self.frames, self.preview)
        thread.adopt(self._worker)
        self._open_requested.connect(self._worker.open_source)
        self._close_requested.connect(self._worker.close_source)
        self._rate_requested.connect(self._worker.set_frame_rate)
        self._worker.reported.connect(self._on_reported)
        self.thumbnails = ScreenThumbnails(thread, parent=self)
        self._source: ScreenSource | None = None
        self._state = ScreenState.OFF
        self._message = ""
        self._token = 0
        self._fps = DEFAULT_FPS
        self.set_frame_rate(fps)
        prefer_x11_capture()
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenRemoved.connect(self._on_screen_removed)

    # -- what the window reads -------------------------------------------------------
    @property
    def state(self) -> ScreenState:
        return self._state

    @property
    def message(self) -> str:
        return self._message

    @property
    def source(self) -> ScreenSource | None:
        """What is being shared (also while starting or paused); ``None`` when nothing."""
        return self._source

    @property
    def running(self) -> bool:
        return self._source is not None

    @property
    def frame_rate(self) -> float:
        return self._fps

    @property
    def frames_captured(self) -> int:
        """Pictures put into :attr:`frames` so far (read across threads: a counter)."""
        return self._worker.frames

    def support(self) -> ScreenSupport:
        return platform_support()

    def sources(self, exclude_titles: Collection[str] = ()) -> list[ScreenSource]:
        """Screens (the primary first) and windows that can be shared now."""
        return list_sources(exclude_titles)

    def primary_source(self) -> ScreenSource | None:
        screens = _screen_sources() if QGuiApplication.instance() is not None else []
        return screens[0] if screens else None

    # -- what the window does ------------------------------------------------------------
    def start(self, source: ScreenSource) -> None:
        """Share ``source`` (instead of what was shared before)."""
        self._thread.start()
        self._token += 1
        self._source = source
        self._set_state(ScreenState.STARTING, "")
        self.source_changed.emit(source.id, source.title)
        self._open_requested.emit(ShareRequest(source, self._token))

    def stop(self) -> None:
        """Stop sharing (the slot is cleared). Harmless when nothing is shared."""
        self._token += 1
        if self._source is None:
            return
        self._source = None
        if self._thread.is_running:
            self._close_requested.emit()
        self.source_changed.emit("", "")
        self._set_state(ScreenState.OFF, "")

    def set_frame_rate(self, fps: float) -> None:
        """Frames a second to share, kept between 5 and 15 (the resolution never changes)."""
        self._fps = min(MAX_FPS, max(MIN_FPS, float(fps)))
        self._rate_requested.emit(self._fps)

    # -- hearing back ----------------------------------------------------------------------
    def _set_state(self, state: ScreenState, message: str) -> None:
        if (state, message) == (self._state, self._message):
            return
        self._state, self._message = state, message
        self.state_changed.emit(state.value, message)

    def _on_reported(self, token: int, state: str, message: str) -> None:
        if token != self._token or self._source is None:
            return
        new = ScreenState(state)
        if new in (ScreenState.ACTIVE, ScreenState.PAUSED, ScreenState.STARTING):
            self._set_state(new, message)
            return
        # The worker closed the capture: the window went, or it failed or was refused.
        log.warning("screen sharing of %r ended: %s", self._source.title, message)
        self._token += 1
        self._source = None
        self.source_changed.emit("", "")
        self._set_state(new, message)
        self.ended.emit(message)

    def _on_screen_removed(self, screen: QScreen) -> None:
        source = self._source
        if source is None or source.kind is not ScreenKind.SCREEN or source.native is not screen:
            return
        self.stop()
        self._set_state(ScreenState.OFF, SCREEN_GONE_MESSAGE)
        self.ended.emit(SCREEN_GONE_MESSAGE)


# -- thumbnails ------------------------------------------------------------------------------

#: Thumbnail box in device pixels (pictures fit inside, aspect kept).
THUMBNAIL_SIZE = (320, 180)
#: Each source is grabbed again at most this often (seconds).
THUMBNAIL_REFRESH = 0.4
#: At most one grab starts per this many seconds, whatever the number of sources.
THUMBNAIL_GAP = 0.06
#: A grab that brought no frame in this long is given up (retried on the next round).
THUMBNAIL_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class ThumbnailJob:
    source: ScreenSource
    slot: FrameSlot


def fit_within(width: int, height: int, box: tuple[int, int]) -> tuple[int, int]:
    scale = min(box[0] / width, box[1] / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def scaled_picture(image: VideoImage, box: tuple[int, int]) -> VideoImage | None:
    """``image`` scaled to fit ``box`` (smoothly: text stays legible as shapes)."""
    w, h = fit_within(image.width, image.height, box)
    pixels = image.pixels
    wrapped = QImage(pixels.data, image.width, image.height, pixels.strides[0],
                     QImage.Format.Format_RGB32)
    small = wrapped.scaled(QSize(w, h), Qt.AspectRatioMode.IgnoreAspectRatio,
                           Qt.TransformationMode.SmoothTransformation)
    out = qimage_to_bgra(small)
    return None if out is None else VideoImage(out, image.captured)


class ThumbnailWorker(DeviceWorker):
    """Device thread: grabs one frame of one source at a time, round robin, scaled down.

    Qt grabs at the screen's refresh rate while a capture is active, so a
    capture per source would cost a full-rate grab of every screen and window
    (a fifth of a core each at 1920×1080). Instead one capture at a time is
    started, its first frame taken, and stopped again.
    """

    def __init__(self, box: tuple[int, int]) -> None:
        super().__init__()
        self._box = box
        self._jobs: list[ThumbnailJob] = []
        self._done: dict[str, float] = {}  # source id → when it was last grabbed
        self._captures: dict[ScreenKind, _Capture] = {}
        self._current: ThumbnailJob | None = None
        self._started_at = 0.0
        self._last_start = 0.0
        self._timer: QTimer | None = None
        self.grabs = 0
        self.failures = 0

    @Slot(object)
    def watch_sources(self, jobs: list[ThumbnailJob]) -> None:
        ids = {job.source.id for job in jobs}
        self._jobs = list(jobs)
        self._done = {k: v for k, v in self._done.items() if k in ids}
        if self._current is not None and self._current.source.id not in ids:
            self._end_grab()
        if self._timer is None:
            self._timer = QTimer(self)
            self._timer.setInterval(round(THUMBNAIL_GAP * 1000))
            self._timer.timeout.connect(self._tick)
        if jobs:
            self._timer.start()
            self._tick()
        else:
            self._timer.stop()

    @Slot()
    def stop_watching(self) -> None:
        self.close_devices()

    def close_devices(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._jobs = []
        self._current = None
        for capture in self._captures.values():
            capture.sink.videoFrameChanged.disconnect(self._on_frame)
            capture.capture.errorOccurred.disconnect(self._on_error)
            capture.close()
        self._captures.clear()

    def _capture(self, kind: ScreenKind) -> _Capture:
        capture = self._captures.get(kind)
        if capture is None:
            capture = _Capture(self, kind)
            capture.sink.videoFrameChanged.connect(self._on_frame)
            capture.capture.errorOccurred.connect(self._on_error)
            self._captures[kind] = capture
        return capture

    def _tick(self) -> None:
        now = time.monotonic()
        if self._current is not None:
            if now - self._started_at > THUMBNAIL_TIMEOUT:
                self.failures += 1
                self._end_grab()
            return
        if now - self._last_start < THUMBNAIL_GAP * 0.9 or not self._jobs:
            return
        job = min(self._jobs, key=lambda j: self._done.get(j.source.id, 0.0))
        if now - self._done.get(job.source.id, 0.0) < THUMBNAIL_REFRESH:
            return
        capture = self._capture(job.source.kind)
        if not capture.point_at(job.source.native):
            self._done[job.source.id] = now
            return
        self._current, self._started_at, self._last_start = job, now, now
        capture.capture.setActive(True)

    def _end_grab(self) -> None:
        job, self._current = self._current, None
        if job is not None:
            self._done[job.source.id] = time.monotonic()
            capture = self._captures.get(job.source.kind)
            if capture is not None:
                capture.capture.setActive(False)

    @Slot(QVideoFrame)
    def _on_frame(self, frame: QVideoFrame) -> None:
        job = self._current
        sink = self.sender()
        if job is None or not frame.isValid():
            return
        capture = self._captures.get(job.source.kind)
        if capture is None or capture.sink is not sink:
            return  # a late frame of a capture stopped before
        image = video_frame_to_image(frame, time.monotonic())
        self._end_grab()
        small = scaled_picture(image, self._box) if image is not None else None
        if small is not None:
            job.slot.put(small)
            self.grabs += 1

    @Slot(object, str)
    def _on_error(self, error: object, message: str) -> None:
        job = self._current
        if job is None or not _is_error(error):
            return
        capture = self._captures.get(job.source.kind)
        gone = capture is not None and capture.window_gone()
        self.failures += 1
        self._end_grab()
        if gone:
            job.slot.put(None)


class ScreenThumbnails(QObject):
    """Live small pictures of the sources a picker shows (a few a second each).

    GUI thread; the grabbing runs on the device thread. Each source has a
    :class:`FrameSlot` (:meth:`slot`); :meth:`watch` says which sources to keep
    fresh and :meth:`stop` ends it all (call it when the picker closes).
    """

    _watch_requested = Signal(object)
    _stop_requested = Signal()

    def __init__(
        self,
        thread: DeviceThread,
        *,
        size: tuple[int, int] = THUMBNAIL_SIZE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._thread = thread
        self._slots: dict[str, FrameSlot] = {}
        self._worker = ThumbnailWorker(size)
        thread.adopt(self._worker)
        self._watch_requested.connect(self._worker.watch_sources)
        self._stop_requested.connect(self._worker.stop_watching)
        self._watching = False

    @property
    def grabs(self) -> int:
        """Thumbnails taken so far (a counter, for tests and measurements)."""
        return self._worker.grabs

    def slot(self, source_id: str) -> FrameSlot:
        """Where ``source_id``'s thumbnail goes (the same slot for the same id)."""
        slot = self._slots.get(source_id)
        if slot is None:
            slot = self._slots[source_id] = FrameSlot()
        return slot

    def watch(self, sources: Sequence[ScreenSource]) -> None:
        """Keep these sources' thumbnails fresh (replacing the list watched before)."""
        if not platform_support().thumbnails:
            return  # grabbing would ask the person (Wayland's portal) each time
        self._thread.start()
        jobs = [ThumbnailJob(s, self.slot(s.id)) for s in sources]
        ids = {s.id for s in sources}
        self._slots = {k: v for k, v in self._slots.items() if k in ids}
        self._watching = True
        self._watch_requested.emit(jobs)

    def stop(self) -> None:
        if self._watching and self._thread.is_running:
            self._stop_requested.emit()
        self._watching = False
        self._slots.clear()
