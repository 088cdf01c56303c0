"""How a device follows plug and unplug: the handle's decisions, with a catalog double.

The double stands in for ``QMediaDevices`` only where no real device can be
added or removed at will (cameras; the removals Qt's PulseAudio backend does
not signal). The devices it lists are fake ones, so the real workers open
them on the real device thread. The same decisions with the real library
and a real sound server are in ``pulse_cases/case_hotplug.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conference_gui.services.media import (
    CameraCapture,
    DeviceCatalog,
    DeviceInfo,
    DeviceKind,
    DeviceState,
    DeviceThread,
    MicrophoneCapture,
)

MIC = DeviceKind.MICROPHONE


def mic(device_id: str, name: str, default: bool = False) -> DeviceInfo:
    return DeviceInfo(MIC, device_id, name, default, fake=True)


BUILT_IN = mic("builtin", "Built-in Microphone", default=True)
HEADSET = mic("headset", "Headset Microphone")


class PluggableCatalog(DeviceCatalog):
    """A catalog whose lists the test sets, signalling like the real one."""

    def __init__(self) -> None:
        super().__init__(fake=list(DeviceKind))

    def plug(self, kind: DeviceKind, devices: list[DeviceInfo]) -> None:
        self._lists[kind] = devices
        self.changed.emit(kind.value)


@pytest.fixture
def rig() -> Iterator[tuple[PluggableCatalog, MicrophoneCapture]]:
    catalog = PluggableCatalog()
    catalog.plug(MIC, [BUILT_IN, HEADSET])
    thread = DeviceThread()
    capture = MicrophoneCapture(catalog, thread)
    thread.start()
    yield catalog, capture
    capture.stop()
    thread.stop()


def active_on(capture: MicrophoneCapture, device: DeviceInfo) -> bool:
    return capture.device == device and capture.state is DeviceState.ACTIVE


def test_a_chosen_device_that_goes_falls_back_and_comes_back(qtbot: Any, rig: Any) -> None:
    catalog, capture = rig
    capture.set_device("headset")
    capture.start()
    qtbot.waitUntil(lambda: active_on(capture, HEADSET), timeout=2000)

    with qtbot.waitSignal(capture.fell_back, timeout=1000) as fell:
        catalog.plug(MIC, [BUILT_IN])
    assert fell.args == ["Headset Microphone", "Built-in Microphone"]
    qtbot.waitUntil(lambda: active_on(capture, BUILT_IN), timeout=2000)
    assert capture.wanted_device_id == "headset"

    with qtbot.waitSignal(capture.device_changed, timeout=1000) as back:
        catalog.plug(MIC, [BUILT_IN, HEADSET])  # plugged in again: used again
    assert back.args == ["headset", "Headset Microphone"]
    qtbot.waitUntil(lambda: active_on(capture, HEADSET), timeout=2000)


def test_none_left_says_so_and_the_next_one_is_used(qtbot: Any, rig: Any) -> None:
    catalog, capture = rig
    fell_back: list[Any] = []
    capture.fell_back.connect(lambda *a: fell_back.append(a))
    capture.start()
    qtbot.waitUntil(lambda: active_on(capture, BUILT_IN), timeout=2000)
    with qtbot.waitSignal(capture.state_changed, timeout=1000) as gone:
        catalog.plug(MIC, [])
    assert gone.args == ["no-device", "No microphone found"]
    assert capture.device is None
    usb = mic("usb", "USB Microphone", default=True)
    catalog.plug(MIC, [usb])
    qtbot.waitUntil(lambda: active_on(capture, usb), timeout=2000)
    assert fell_back == []  # nothing was in use to fall back from


def test_a_list_change_that_keeps_the_device_changes_nothing(qtbot: Any, rig: Any) -> None:
    catalog, capture = rig
    capture.start()
    qtbot.waitUntil(lambda: active_on(capture, BUILT_IN), timeout=2000)
    with (
        qtbot.assertNotEmitted(capture.device_changed),
        qtbot.assertNotEmitted(capture.state_changed),
    ):
        catalog.plug(MIC, [BUILT_IN, HEADSET, mic("usb", "USB Microphone")])
        qtbot.wait(100)


def test_a_worker_failure_is_shown_and_retry_recovers(qtbot: Any, rig: Any) -> None:
    _catalog, capture = rig
    capture.start()
    qtbot.waitUntil(lambda: active_on(capture, BUILT_IN), timeout=2000)
    worker = capture._worker
    # A stale report about another device is ignored ...
    worker.failed.emit("headset", "failed", "The microphone stopped working")
    qtbot.wait(50)
    assert capture.state is DeviceState.ACTIVE
    # ... one about the device in use is shown as it is.
    with qtbot.waitSignal(capture.state_changed, timeout=1000) as failed:
        worker.failed.emit("builtin", "failed", "The microphone stopped working")
    assert failed.args == ["failed", "The microphone stopped working"]
    capture.retry()
    qtbot.waitUntil(lambda: active_on(capture, BUILT_IN), timeout=2000)


def test_a_camera_that_is_unplugged_leaves_no_camera(qtbot: Any) -> None:
    catalog = PluggableCatalog()
    webcam = DeviceInfo(DeviceKind.CAMERA, "/dev/video0", "HD Webcam", True, fake=True)
    catalog.plug(DeviceKind.CAMERA, [webcam])
    thread = DeviceThread()
    camera = CameraCapture(catalog, thread, name="Ann")
    thread.start()
    try:
        camera.start()
        qtbot.waitUntil(lambda: camera.frames.latest()[1] is not None, timeout=2000)
        with qtbot.waitSignal(camera.state_changed, timeout=1000) as gone:
            catalog.plug(DeviceKind.CAMERA, [])
        assert gone.args == ["no-device", "No camera found"]
        qtbot.waitUntil(
            lambda: camera.frames.latest()[1] is None, timeout=1000
        )  # no frozen picture
    finally:
        camera.stop()
        thread.stop()
