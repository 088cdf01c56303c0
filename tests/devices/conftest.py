"""Fixtures for the media device tests.

Two kinds of test live here. Those with fake devices and pure conversions
run in the suite's process: they never touch the platform's audio system.
Those with real devices run in a child pytest (``pulse_cases/``, started by
``test_real_devices.py``) next to a private PulseAudio daemon, because Qt
Multimedia connects to the sound server once per process, the first time a
device is listed, and keeps that connection (checked: a daemon started later
is never seen). The child starts its daemon before anything lists a device.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conference_gui.services.media import THREAD_NAME, MediaDevices
from conference_gui.services.settings import AppSettings


def os_thread_names() -> list[str]:
    """The names of this process's threads, as the OS knows them (``/proc/self/task``)."""
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            names.append(Path(f"/proc/self/task/{task}/comm").read_text().strip())
        except OSError:  # ended while we looked
            continue
    return names


def device_threads() -> int:
    return sum(1 for name in os_thread_names() if name == THREAD_NAME)


@pytest.fixture(autouse=True)
def no_device_thread_left(qapp: Any) -> Iterator[None]:
    """Fail the test that leaves a device thread running (as napari's dangling_qthreads).

    A stopped ``QThread`` returns from ``wait()`` a moment before the OS thread is
    gone, hence the short wait.
    """
    before = device_threads()
    yield
    deadline = time.monotonic() + 2.0
    while device_threads() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert device_threads() <= before, f"a device thread was left running: {os_thread_names()}"


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    return AppSettings.at(tmp_path / "settings.ini")


@pytest.fixture
def media(settings: AppSettings) -> Iterator[Callable[..., MediaDevices]]:
    """Make :class:`MediaDevices` (default: all fake); each is stopped after the test."""
    made: list[MediaDevices] = []

    def make(*, fake: bool = True, name: str = "Ann", **kw: Any) -> MediaDevices:
        devices = MediaDevices(settings, fake=fake, name=name, **kw)
        made.append(devices)
        return devices

    yield make
    for devices in made:
        devices.stop()
        devices.deleteLater()
