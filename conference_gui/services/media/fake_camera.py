"""The fake camera: a synthetic moving picture with the person's name and a clock.

SPEC section 3: 640×480 at 30 fps, the participant's name and a running clock
drawn in. It is a real picture, not a test card frozen in place: the colours
drift, a ball bounces and the clock runs, so a frozen or black tile, a swapped
stream (whose name is on it?) or a stalled pipeline shows at a glance and in
pixel comparisons. Drawn with QPainter on a QImage, which Qt allows off the
GUI thread; it runs on the device thread.
"""

from __future__ import annotations

import math
import time
from datetime import datetime

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter, QPen

from conference_gui.media.exchange import FrameSlot, VideoImage
from conference_gui.services.media.video_frames import qimage_to_bgra

WIDTH, HEIGHT, FPS = 640, 480, 30


def draw_fake_frame(name: str, elapsed: float, wall: datetime) -> QImage:
    """One picture of the fake camera, ``elapsed`` seconds after it started."""
    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_RGB32)
    p = QPainter(image)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        hue = (elapsed * 12.0) % 360.0
        gradient = QLinearGradient(0, 0, WIDTH, HEIGHT)
        gradient.setColorAt(0.0, QColor.fromHsvF(hue / 360.0, 0.55, 0.55))
        gradient.setColorAt(1.0, QColor.fromHsvF(((hue + 60.0) % 360.0) / 360.0, 0.65, 0.30))
        p.fillRect(image.rect(), gradient)

        # A ball bouncing across the picture: motion everywhere, not only in the clock.
        x = WIDTH / 2 + (WIDTH / 2 - 50) * math.sin(elapsed * 1.3)
        y = HEIGHT / 2 + (HEIGHT / 2 - 50) * math.sin(elapsed * 2.1 + 0.5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255, 90))
        p.drawEllipse(QPointF(x, y), 36, 36)

        p.setPen(QPen(QColor("white")))
        font = QFont()
        font.setPixelSize(64)
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRectF(0, 120, WIDTH, 120), Qt.AlignmentFlag.AlignCenter, name or "?")

        font.setPixelSize(40)
        font.setBold(False)
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setFamily("monospace")
        p.setFont(font)
        tenths = wall.microsecond // 100_000
        clock = f"{wall:%H:%M:%S}.{tenths}"
        p.drawText(QRectF(0, 260, WIDTH, 60), Qt.AlignmentFlag.AlignCenter, clock)

        font.setPixelSize(18)
        p.setFont(font)
        p.setPen(QPen(QColor(255, 255, 255, 180)))
        p.drawText(
            QRectF(12, HEIGHT - 34, WIDTH - 24, 24),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"fake camera · {elapsed:7.1f} s",
        )
    finally:
        p.end()
    return image


class FakeCamera(QObject):
    """Puts :func:`draw_fake_frame` pictures into a :class:`FrameSlot`, 30 a second.

    Lives on the device thread (created there by the camera worker). Frames are
    numbered by elapsed time, so a late timer skips a number instead of
    drifting: the rate stays 30 fps on average whatever the timer does. The
    timer is set for the next frame's time, each time: one wake-up a picture
    (a steady 16 ms timer, twice per frame, woke the thread twice as often).
    """

    def __init__(self, slot: FrameSlot, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._slot = slot
        self._name = name
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_tick)
        self._running = False
        self._started = 0.0
        self._last = -1
        self.frames = 0

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        self._running = True
        self._started = time.monotonic()
        self._last = -1
        self._on_tick()

    def stop(self) -> None:
        self._running = False
        self._timer.stop()

    def _on_tick(self) -> None:
        if not self._running:
            return
        now = time.monotonic()
        elapsed = now - self._started
        number = int(elapsed * FPS)
        if number != self._last:
            self._last = number
            pixels = qimage_to_bgra(draw_fake_frame(self._name, elapsed, datetime.now()))
            if pixels is not None:
                self._slot.put(VideoImage(pixels, now))
                self.frames += 1
        due = self._started + (number + 1) / FPS  # the next picture's time
        self._timer.start(max(0, math.ceil((due - time.monotonic()) * 1000)))
