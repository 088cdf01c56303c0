"""Closing the devices never hangs the window: a device stuck in its driver as
the window closes costs the GUI thread a bounded wait, and the device thread
still ends once the device lets go."""

from __future__ import annotations

import threading
import time
from typing import Any

from conference_gui.services.media.device_thread import DeviceThread, DeviceWorker


class StuckOnClose(DeviceWorker):
    """A device whose close waits (as a driver might) until it is released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.closing = threading.Event()
        self.closed_on: threading.Thread | None = None

    def close_devices(self) -> None:
        self.closing.set()
        self.release.wait(10)
        self.closed_on = threading.current_thread()


def test_a_device_stuck_while_closing_costs_a_bounded_wait(qtbot: Any) -> None:
    devices = DeviceThread()
    worker = StuckOnClose()
    devices.adopt(worker)
    devices.start()
    qtbot.waitUntil(lambda: devices.is_running, timeout=2000)

    started = time.monotonic()
    assert devices.stop(timeout_ms=300) is False  # it did not end: said so, not waited out
    assert time.monotonic() - started < 1.5
    assert worker.closing.wait(2)  # the close runs, on the device thread

    worker.release.set()  # the driver lets go
    qtbot.waitUntil(lambda: not devices.is_running, timeout=5000)
    assert worker.closed_on is not None and worker.closed_on is not threading.main_thread()


def test_workers_close_on_the_device_thread_before_it_ends(qtbot: Any) -> None:
    devices = DeviceThread()
    worker = StuckOnClose()
    worker.release.set()  # closes at once
    devices.adopt(worker)
    devices.start()
    assert devices.stop() is True
    assert worker.closing.is_set() and worker.closed_on is not threading.main_thread()
    assert not devices.is_running
