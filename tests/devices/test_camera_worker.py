"""The camera worker with real QVideoFrames, on the real device thread.

Only the camera is missing here: frames reach the worker through a queued
signal, as ``QVideoSink.videoFrameChanged`` delivers them from a camera
backend. The "no camera" path with the real library is in ``pulse_cases/``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QImage
from PySide6.QtMultimedia import QVideoFrame

from conference_gui.media.exchange import FrameSlot
from conference_gui.services.media import DeviceThread, camera
from conference_gui.services.media.camera import CameraWorker


class FakeSink(QObject):
    """Stands in for the camera's QVideoSink (on the GUI thread): emits real frames."""

    frame_changed = Signal(QVideoFrame)


@pytest.fixture
def worker_on_thread() -> Iterator[tuple[CameraWorker, FrameSlot, DeviceThread]]:
    slot = FrameSlot()
    thread = DeviceThread()
    worker = CameraWorker(slot, "Ann")
    thread.adopt(worker)
    thread.start()
    yield worker, slot, thread
    thread.stop()


def picture(colour: QColor) -> QVideoFrame:
    image = QImage(640, 480, QImage.Format.Format_RGB32)
    image.fill(colour)
    return QVideoFrame(image)


def test_frames_are_converted_on_the_device_thread(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch, worker_on_thread: Any
) -> None:
    worker, slot, _thread = worker_on_thread
    where: set[int] = set()
    convert = camera.video_frame_to_image

    def recording(frame: QVideoFrame, captured: float) -> Any:
        where.add(threading.get_ident())
        return convert(frame, captured)

    monkeypatch.setattr(camera, "video_frame_to_image", recording)
    sink = FakeSink()
    sink.frame_changed.connect(worker._on_frame)
    # The frame dies as soon as it is handed over (as a camera's buffer is
    # recycled): the picture in the slot must be a copy, not a view of it.
    sink.frame_changed.emit(picture(QColor(30, 60, 90)))
    qtbot.waitUntil(lambda: slot.latest()[1] is not None, timeout=2000)
    image = slot.latest()[1]
    assert image is not None and image.pixels.shape == (480, 640, 4)
    assert tuple(image.pixels[240, 320]) == (90, 60, 30, 255)
    assert where and threading.get_ident() not in where


def test_frames_beyond_30_a_second_are_dropped(qtbot: Any, worker_on_thread: Any) -> None:
    worker, slot, _thread = worker_on_thread
    sink = FakeSink()
    sink.frame_changed.connect(worker._on_frame)
    frames = [picture(QColor(shade * 40, 0, 0)) for shade in range(5)]
    for frame in frames:  # a burst: five frames within a millisecond or two
        sink.frame_changed.emit(frame)
    qtbot.waitUntil(lambda: slot.seq >= 1, timeout=2000)
    qtbot.wait(100)
    assert slot.seq == 1
    image = slot.latest()[1]
    assert image is not None and np.all(image.pixels[0, 0, :3] == (0, 0, 0))
