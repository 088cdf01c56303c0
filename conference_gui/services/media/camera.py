"""The camera: pictures into a latest-wins slot, converted on the device thread.

``QCamera`` + ``QMediaCaptureSession`` + ``QVideoSink`` live on the device
thread; each frame is converted to BGRA there (:mod:`.video_frames`) and put
in :attr:`CameraCapture.frames`, which the engine's video track and the self
tile read. Switching the camera off stops it (the camera's light goes out)
and clears the slot.

Camera problems become one of three sentences the window can show as they
are: "No camera found", "The camera is in use by another program",
"Permission to use the camera was denied" (or a plain "could not be
started" with Qt's reason). ``QCamera`` has a single error code
(``CameraError``), so the kind of problem is read from Qt's message, from the
system's permission status (macOS, checked by the handle before opening), and
on Linux from the device file itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Slot
from PySide6.QtMultimedia import (
    QCamera,
    QCameraDevice,
    QCameraFormat,
    QMediaCaptureSession,
    QVideoFrame,
    QVideoFrameFormat,
    QVideoSink,
)

from conference_gui.media.exchange import FrameSlot
from conference_gui.services.media.catalog import NO_DEVICE_MESSAGE, DeviceCatalog, DeviceKind
from conference_gui.services.media.device_handle import (
    BUSY_MESSAGE,
    DeviceHandle,
    DeviceState,
    OpenRequest,
    StreamWorker,
    denied_message,
)
from conference_gui.services.media.device_thread import DeviceThread
from conference_gui.services.media.fake_camera import FakeCamera
from conference_gui.services.media.video_frames import convertible_natively, video_frame_to_image

#: The picture the call sends (SPEC: 640×480 at 30 fps); 1280×720 is the next best.
TARGET_SIZE = (640, 480)
TARGET_FPS = 30.0


@dataclass(frozen=True, slots=True)
class CameraMode:
    """One of a camera's formats, as plain data (``QCameraFormat`` cannot be made in tests)."""

    width: int
    height: int
    min_fps: float
    max_fps: float
    native: bool  # converted without QVideoFrame.toImage() (not e.g. a GPU-only format)
    compressed: bool  # JPEG: must be decoded on our thread


def choose_mode(modes: Sequence[CameraMode]) -> int | None:
    """Index of the best mode for a call: ~30 fps first, then 640×480, then 1280×720,
    then the nearest size; uncompressed beats JPEG at equal size. ``None`` if no modes."""
    if not modes:
        return None
    tw, th = TARGET_SIZE

    def key(i: int) -> tuple[float, ...]:
        m = modes[i]
        fast = m.max_fps >= TARGET_FPS - 1
        usable = m.max_fps >= 15
        if (m.width, m.height) == (tw, th):
            tier = 0
        elif (m.width, m.height) == (1280, 720):
            tier = 1
        elif m.width * m.height >= tw * th:
            tier = 2
        else:
            tier = 3
        distance = abs(m.width * m.height - tw * th)
        return (not fast, not usable, not m.native, tier, distance, m.compressed, i)

    return min(range(len(modes)), key=key)


def _mode(fmt: QCameraFormat) -> CameraMode:
    pf = fmt.pixelFormat()
    size = fmt.resolution()
    return CameraMode(
        size.width(),
        size.height(),
        fmt.minFrameRate(),
        fmt.maxFrameRate(),
        convertible_natively(pf),
        pf == QVideoFrameFormat.PixelFormat.Format_Jpeg,
    )


def camera_problem(message: str, device_id: str) -> tuple[DeviceState, str]:
    """Qt's camera error message (and the device) → the state and sentence to show."""
    text = message.lower()
    if "no camera" in text:
        return DeviceState.NO_DEVICE, NO_DEVICE_MESSAGE[DeviceKind.CAMERA]
    if any(word in text for word in ("in use", "busy", "0xc00d3704", "being used")):
        return DeviceState.BUSY, BUSY_MESSAGE
    if any(word in text for word in ("permission", "denied", "not granted", "not authorized")):
        return DeviceState.DENIED, denied_message(DeviceKind.CAMERA)
    # Linux: Qt says only "Cannot open camera"; the device file tells why.
    on_disk = device_id.startswith("/dev/") and os.path.exists(device_id)
    if on_disk and not os.access(device_id, os.R_OK | os.W_OK):
        return DeviceState.DENIED, denied_message(DeviceKind.CAMERA)
    reason = f" ({message})" if message else ""
    return DeviceState.FAILED, f"The camera could not be started{reason}"


class CameraWorker(StreamWorker):
    """Device thread: a QCamera (or the fake camera) → BGRA pictures in a FrameSlot."""

    def __init__(self, slot: FrameSlot, name: str) -> None:
        super().__init__()
        self._slot = slot
        self._name = name
        self._device_id = ""
        self._camera: QCamera | None = None
        self._session: QMediaCaptureSession | None = None
        self._sink: QVideoSink | None = None
        self._fake: FakeCamera | None = None
        self._min_gap = 1.0 / (TARGET_FPS + 3)  # drop frames above ~30 fps
        self._last_put = 0.0
        self.frames = 0

    def open_stream(self, request: OpenRequest) -> None:
        self.close_devices()
        info = request.info
        self._device_id = info.id
        if info.fake:
            self._fake = FakeCamera(self._slot, self._name, self)
            self._fake.start()
            self.opened.emit(info.id)
            return
        device = request.qt_device
        if not isinstance(device, QCameraDevice) or device.isNull():
            self.failed.emit(info.id, *self._problem("No camera detected"))
            return
        camera = QCamera(device, self)
        formats = device.videoFormats()
        best = choose_mode([_mode(f) for f in formats])
        if best is not None:
            camera.setCameraFormat(formats[best])
        camera.errorOccurred.connect(self._on_error)
        camera.activeChanged.connect(self._on_active_changed)
        session = QMediaCaptureSession(self)
        sink = QVideoSink(self)
        session.setCamera(camera)
        session.setVideoSink(sink)
        sink.videoFrameChanged.connect(self._on_frame)
        self._camera, self._session, self._sink = camera, session, sink
        if camera.error() != QCamera.Error.NoError:
            self._fail(camera.errorString())
            return
        camera.start()

    def close_devices(self) -> None:
        if self._fake is not None:
            self._fake.stop()
            self.retire(self._fake)
            self._fake = None
        if self._camera is not None:
            camera, session, sink = self._camera, self._session, self._sink
            self._camera = self._session = self._sink = None
            camera.errorOccurred.disconnect(self._on_error)
            camera.activeChanged.disconnect(self._on_active_changed)
            camera.stop()  # the camera's light goes out here
            if sink is not None:
                sink.videoFrameChanged.disconnect(self._on_frame)
            self.retire(session, sink, camera)
        self._slot.put(None)

    def _problem(self, message: str) -> tuple[str, str]:
        state, sentence = camera_problem(message, self._device_id)
        return state.value, sentence

    def _fail(self, message: str) -> None:
        device_id = self._device_id
        self.close_devices()
        self.failed.emit(device_id, *self._problem(message))

    @Slot(QCamera.Error, str)
    def _on_error(self, error: QCamera.Error, message: str) -> None:
        if error != QCamera.Error.NoError:
            self._fail(message)

    @Slot(bool)
    def _on_active_changed(self, active: bool) -> None:
        if active:
            self.opened.emit(self._device_id)

    @Slot(QVideoFrame)
    def _on_frame(self, frame: QVideoFrame) -> None:
        now = time.monotonic()
        if now - self._last_put < self._min_gap:
            return
        image = video_frame_to_image(frame, now)
        if image is not None:
            self._last_put = now
            self._slot.put(image)
            self.frames += 1


class CameraCapture(DeviceHandle):
    """The camera in use, or none: pictures go to :attr:`frames`.

    ``name`` is drawn into the fake camera's picture. Start = camera on,
    stop = camera off (the light goes out and :attr:`frames` is cleared).

    Signals: those of :class:`DeviceHandle`, all on the GUI thread.
    """

    def __init__(
        self,
        catalog: DeviceCatalog,
        thread: DeviceThread,
        *,
        name: str = "",
        frames: FrameSlot | None = None,
        parent: QObject | None = None,
    ) -> None:
        self.frames = frames if frames is not None else FrameSlot()
        worker = CameraWorker(self.frames, name)
        super().__init__(DeviceKind.CAMERA, catalog, thread, worker, parent)
