"""Screen capture on a real X server: run by ``tests/screen/test_on_x11.py`` in a child pytest.

The launcher starts a private Xvfb and runs these cases with ``DISPLAY`` set
and ``QT_QPA_PLATFORM=xcb`` (the rest of the suite runs offscreen, where
there is no screen to grab). ``XDG_SESSION_TYPE`` is left unset, as under a
bare X server: the device layer must pick Qt's X11 grabber by itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from conference_gui.services.media import THREAD_NAME, MediaDevices
from conference_gui.services.media.video_frames import qimage_to_bgra
from conference_gui.services.settings import AppSettings
from tests.screen.xserver import publish_client_list

U8 = npt.NDArray[np.uint8]

#: Where the pattern window is put (no window manager: exactly there).
PATTERN_RECT = QRect(160, 120, 800, 500)
BLOCKS = [
    (QColor(220, 30, 30), QRect(0, 0, 200, 200)),
    (QColor(30, 180, 60), QRect(200, 0, 200, 200)),
    (QColor(30, 60, 220), QRect(400, 0, 200, 200)),
    (QColor(250, 210, 20), QRect(600, 0, 200, 200)),
]


@pytest.fixture(scope="session", autouse=True)
def on_a_real_x_server(qapp: Any) -> None:
    if not os.environ.get("DISPLAY") or QGuiApplication.platformName() != "xcb":
        pytest.fail("run by tests/screen/test_on_x11.py, with DISPLAY and QT_QPA_PLATFORM=xcb")


def os_thread_names() -> list[str]:
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            names.append(Path(f"/proc/self/task/{task}/comm").read_text().strip())
        except OSError:
            continue
    return names


@pytest.fixture(autouse=True)
def no_device_thread_left() -> Iterator[None]:
    before = os_thread_names().count(THREAD_NAME)
    yield
    deadline = time.monotonic() + 2.0
    while os_thread_names().count(THREAD_NAME) > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert os_thread_names().count(THREAD_NAME) <= before, os_thread_names()


class Pattern(QWidget):
    """A window with a known picture: four coloured blocks, large and small text, fine lines."""

    def __init__(self, title: str, rect: QRect = PATTERN_RECT) -> None:
        super().__init__()
        self.setWindowTitle(title)
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint)
        self.setGeometry(rect)
        self.setAutoFillBackground(False)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("white"))
        for colour, rect in BLOCKS:
            p.fillRect(rect, colour)
        p.setPen(QPen(QColor("black"), 1))
        for x in range(10, 790, 4):  # one-pixel lines: blurred at once by any scaling
            p.drawLine(x, 210, x, 260)
        font = QFont()
        font.setPixelSize(40)
        p.setFont(font)
        p.drawText(QRect(10, 270, 780, 60), Qt.AlignmentFlag.AlignLeft, "Quarterly numbers: 4,217")
        font.setPixelSize(11)
        p.setFont(font)
        p.drawText(QRect(10, 340, 780, 20), Qt.AlignmentFlag.AlignLeft,
                   "small print that must stay legible when shared, 0123456789")
        p.end()


@pytest.fixture
def show_windows(qtbot: Any) -> Iterator[Callable[..., Pattern]]:
    """Show pattern windows and list them as a window manager would."""
    shown: list[Pattern] = []

    def show(title: str = "Pattern", rect: QRect = PATTERN_RECT) -> Pattern:
        window = Pattern(title, rect)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        shown.append(window)
        publish([w for w in shown if w.isVisible()])
        qtbot.wait(50)  # painted
        return window

    yield show
    publish([])


def publish(windows: list[QWidget]) -> None:
    publish_client_list([int(w.winId()) for w in windows])


@pytest.fixture
def media(tmp_path: Path) -> Iterator[Callable[..., MediaDevices]]:
    made: list[MediaDevices] = []

    def make(**kw: Any) -> MediaDevices:
        devices = MediaDevices(AppSettings.at(tmp_path / "s.ini"), fake=True, name="Ann", **kw)
        made.append(devices)
        return devices

    yield make
    for devices in made:
        devices.stop()
        devices.deleteLater()


def grab(rect: QRect | None = None, window: QWidget | None = None) -> U8:
    """What the X server shows, as BGRA: the reference the capture is compared with."""
    screen = QGuiApplication.primaryScreen()
    if window is not None:
        pixmap = screen.grabWindow(window.winId())
    else:
        r = rect if rect is not None else screen.geometry()
        pixmap = screen.grabWindow(0, r.x(), r.y(), r.width(), r.height())
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = qimage_to_bgra(image)
    assert pixels is not None
    return pixels


def same_picture(a: U8, b: U8, tolerance: int = 3) -> float:
    """Share of pixels whose colour differs by more than ``tolerance`` (alpha ignored)."""
    assert a.shape == b.shape, (a.shape, b.shape)
    diff = np.abs(a[:, :, :3].astype(np.int16) - b[:, :, :3].astype(np.int16)).max(axis=2)
    return float((diff > tolerance).mean())
