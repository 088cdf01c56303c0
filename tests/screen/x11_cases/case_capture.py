"""Sharing a screen and a window on a real X server: the pictures are the screen's own."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QRect

from conference_gui.services.media import MediaDevices, ScreenKind, ScreenState
from conference_gui.services.media.screen import WINDOW_CLOSED_MESSAGE
from tests.screen.x11_cases.conftest import (
    BLOCKS,
    PATTERN_RECT,
    Pattern,
    grab,
    os_thread_names,
    publish,
    same_picture,
)
from tests.screen.xserver import HEIGHT, WIDTH

Make = Callable[..., MediaDevices]


def sharing(qtbot: Any, devices: MediaDevices, source: Any) -> None:
    devices.screen.start(source)
    qtbot.waitUntil(lambda: devices.screen.state is ScreenState.ACTIVE, timeout=5000)
    seq = devices.screen_frames.seq
    qtbot.waitUntil(lambda: devices.screen_frames.seq > seq + 1, timeout=3000)  # a fresh one


def test_the_primary_screen_is_shared_at_full_resolution_with_the_screens_pixels(
    qtbot: Any, media: Make, show_windows: Any
) -> None:
    show_windows("Pattern")
    devices = media()
    assert os.environ.get("XDG_SESSION_TYPE") == "x11"  # Qt's XShm grabber, not grabWindow
    primary = devices.screen.primary_source()
    assert primary is not None and primary.kind is ScreenKind.SCREEN and primary.is_primary
    assert primary.detail.startswith(f"{WIDTH}×{HEIGHT}")
    threads: set[str] = set()
    devices.screen_frames.add_listener(
        lambda: threads.add(_os_name_of(threading.get_native_id()))
    )
    sharing(qtbot, devices, primary)

    _, image = devices.screen_frames.latest()
    assert image is not None
    assert (image.width, image.height) == (WIDTH, HEIGHT)  # resolution kept
    assert image.pixels.dtype == np.uint8 and image.pixels.flags["C_CONTIGUOUS"]
    assert abs(image.captured - time.monotonic()) < 1.0
    assert threads == {"cgui-devices"}  # converted and put on the device thread

    r = PATTERN_RECT
    shared = image.pixels[r.y() : r.y() + r.height(), r.x() : r.x() + r.width()]
    assert same_picture(shared, grab(r)) < 0.001
    for colour, block in BLOCKS:  # and the picture is what was drawn
        b, g, red = shared[block.center().y(), block.center().x(), :3]
        assert (red, g, b) == (colour.red(), colour.green(), colour.blue())
    assert (image.pixels[:, :, 3] == 255).all()
    assert devices.screen.preview.latest()[1] is None  # nobody asked for a preview

    # Your own screen tile asks for its size: the same pictures, scaled to fit it.
    devices.screen.preview.wanted_size = (640, 400)
    qtbot.waitUntil(lambda: devices.screen.preview.latest()[1] is not None, timeout=2000)
    _, small = devices.screen.preview.latest()
    assert small is not None and (small.width, small.height) == (640, 360)
    scale = 640 / WIDTH
    for colour, block in BLOCKS:
        c = block.center()
        b, g, red = small.pixels[round((r.y() + c.y()) * scale), round((r.x() + c.x()) * scale), :3]
        assert np.allclose((red, g, b), (colour.red(), colour.green(), colour.blue()), atol=12)

    devices.screen.stop()
    assert devices.screen.state is ScreenState.OFF
    qtbot.waitUntil(lambda: devices.screen_frames.latest()[1] is None, timeout=2000)
    assert devices.screen.preview.latest()[1] is None


def _os_name_of(native_id: int) -> str:
    try:
        with open(f"/proc/self/task/{native_id}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def test_a_window_is_shared_with_its_own_pixels_and_size(
    qtbot: Any, media: Make, show_windows: Any
) -> None:
    show_windows("Other window", QRect(1000, 600, 300, 200))
    pattern = show_windows("Quarterly report")
    devices = media()
    windows = [s for s in devices.screen.sources() if s.kind is ScreenKind.WINDOW]
    assert [s.title for s in windows] == ["Other window", "Quarterly report"]
    sharing(qtbot, devices, windows[1])
    _, image = devices.screen_frames.latest()
    assert image is not None
    assert (image.width, image.height) == (PATTERN_RECT.width(), PATTERN_RECT.height())
    assert same_picture(image.pixels, grab(window=pattern)) < 0.001

    # Covered by nothing, moved: still the window's own pixels (not the screen's there).
    pattern.move(40, 40)
    qtbot.wait(200)
    seq = devices.screen_frames.seq
    qtbot.waitUntil(lambda: devices.screen_frames.seq > seq + 1, timeout=2000)
    _, moved = devices.screen_frames.latest()
    assert moved is not None and same_picture(moved.pixels, grab(window=pattern)) < 0.001


def test_the_frame_rate_is_capped_and_settable_between_5_and_15(
    qtbot: Any, media: Make, show_windows: Any
) -> None:
    show_windows()
    devices = media()
    screen = devices.screen
    assert screen.frame_rate == 10.0
    sharing(qtbot, devices, screen.primary_source())

    def rate(seconds: float = 2.0) -> float:
        start, t0 = devices.screen_frames.seq, time.monotonic()
        qtbot.wait(round(seconds * 1000))
        return (devices.screen_frames.seq - start) / (time.monotonic() - t0)

    assert 8.0 <= rate() <= 10.6
    screen.set_frame_rate(30)
    assert screen.frame_rate == 15.0
    qtbot.wait(300)
    assert 12.0 <= rate() <= 15.8
    screen.set_frame_rate(1)
    assert screen.frame_rate == 5.0
    qtbot.wait(300)
    assert 4.0 <= rate() <= 5.6


def test_a_shared_window_that_closes_ends_sharing_with_a_clear_message(
    qtbot: Any, media: Make, show_windows: Any
) -> None:
    pattern: Pattern = show_windows("Notes")
    devices = media()
    source = next(s for s in devices.screen.sources() if s.title == "Notes")
    sharing(qtbot, devices, source)

    with qtbot.waitSignal(devices.screen.ended, timeout=3000) as ended:
        pattern.close()
        publish([])
    assert ended.args == [WINDOW_CLOSED_MESSAGE]
    assert devices.screen.message == "The shared window was closed"
    assert devices.screen.state is ScreenState.OFF and not devices.screen.running
    assert devices.screen_frames.latest()[1] is None


def test_a_hidden_window_pauses_sharing_and_showing_it_resumes(
    qtbot: Any, media: Make, show_windows: Any
) -> None:
    pattern: Pattern = show_windows("Slides")
    devices = media()
    source = next(s for s in devices.screen.sources() if s.title == "Slides")
    sharing(qtbot, devices, source)
    ended: list[str] = []
    devices.screen.ended.connect(ended.append)

    pattern.hide()  # minimized, or on another desktop: unmapped
    qtbot.waitUntil(lambda: devices.screen.state is ScreenState.PAUSED, timeout=3000)
    assert "hidden or minimized" in devices.screen.message
    assert devices.screen.running
    pattern.show()
    qtbot.waitUntil(lambda: devices.screen.state is ScreenState.ACTIVE, timeout=3000)
    assert ended == []


def test_no_thread_is_left_and_the_workers_die_with_the_device_thread(
    qtbot: Any, media: Make, show_windows: Any
) -> None:
    show_windows()
    devices = media()
    sharing(qtbot, devices, devices.screen.primary_source())
    before = len(os_thread_names())
    devices.stop()
    assert not devices.device_thread.is_running
    assert devices.screen_frames.latest()[1] is None
    assert len(os_thread_names()) < before
