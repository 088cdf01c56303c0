"""The camera with the real library on a machine that has none (this one, and CI)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtMultimedia import QCameraDevice

from conference_gui.media.exchange import FrameSlot
from conference_gui.services.media import (
    CameraCapture,
    DeviceCatalog,
    DeviceInfo,
    DeviceKind,
    DeviceState,
    DeviceThread,
)
from conference_gui.services.media.camera import CameraWorker
from conference_gui.services.media.device_handle import OpenRequest


def test_no_camera_found_with_the_real_library(qtbot: Any) -> None:
    catalog = DeviceCatalog()
    thread = DeviceThread()
    camera = CameraCapture(catalog, thread, name="Ann")
    thread.start()
    try:
        assert catalog.cameras() == []
        with qtbot.waitSignal(camera.state_changed, timeout=2000) as state:
            camera.start()
        assert state.args == ["no-device", "No camera found"]
        assert camera.device is None
        camera.stop()
        assert camera.state is DeviceState.OFF
        camera.start()  # switching it on again says the same, clearly
        assert camera.message == "No camera found"
        assert camera.frames.latest()[1] is None
    finally:
        thread.stop()


class Opener(QObject):
    """The GUI-thread side of a worker, as a device handle is: asks, and hears back queued.

    (pytest-qt's ``waitSignal`` must watch a GUI-thread object: its timer would
    otherwise be stopped from the device thread.)
    """

    open_requested = Signal(object)
    failed = Signal(str, str, str)

    def on_failed(self, device_id: str, state: str, message: str) -> None:
        self.failed.emit(device_id, state, message)


def test_the_camera_worker_reports_a_missing_device(qtbot: Any) -> None:
    thread = DeviceThread()
    worker = CameraWorker(FrameSlot(), "Ann")
    thread.adopt(worker)
    thread.start()
    opener = Opener()
    opener.open_requested.connect(worker.open_device)
    worker.failed.connect(opener.on_failed)
    try:
        ghost = DeviceInfo(DeviceKind.CAMERA, "/dev/video9", "Unplugged Webcam", True)
        with qtbot.waitSignal(opener.failed, timeout=2000) as failed:
            opener.open_requested.emit(OpenRequest(ghost, QCameraDevice()))
        assert failed.args == ["/dev/video9", "no-device", "No camera found"]
    finally:
        thread.stop()
