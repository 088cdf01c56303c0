"""Small live views of your own devices: a camera preview and a level bar.

Shared by the pre-join screen and Preferences → Audio & Video. Both only
paint what the device thread produced: the preview wraps the camera slot's
newest picture (no copy), woken by a :class:`FrameWaker` when one arrives;
the bar reads a :class:`LevelMeter` ten times a second.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressBar, QWidget

from conference_gui.domain.stage import Tile
from conference_gui.media.exchange import FrameSlot, LevelMeter
from conference_gui.ui.video_grid import FrameWaker
from conference_gui.ui.video_tile import VideoTile

#: Speech sits around 0.05..0.3 of full scale: the bar is full at a third.
LEVEL_GAIN = 300


class CameraPreview(VideoTile):
    """Your camera as a tile (mirrored, initials when ``tile.camera_on`` is false).

    Call :meth:`detach` before the slot's producer may outlive this widget's
    interest (a dialog closing): the slot stops waking it.
    """

    def __init__(self, tile: Tile, slot: FrameSlot | None, parent: QWidget | None = None) -> None:
        super().__init__(tile, slot, remote=False, parent=parent)
        self._waker = FrameWaker(self)
        self._waker.woken.connect(self.refresh)
        self._watched: list[FrameSlot] = []  # the slot woken from (a list: see below)
        self._watch(slot)
        # Destroyed without detach() (its dialog deleted with a parent window): let go
        # anyway. Only Python state is touched, as the Qt objects may be gone already.
        watched, waker = self._watched, self._waker
        self.destroyed.connect(lambda *_: _let_go(watched, waker))

    def set_slot(self, slot: FrameSlot | None) -> None:
        self._watch(slot)
        super().set_slot(slot)

    def _watch(self, slot: FrameSlot | None) -> None:
        if self._watched[:1] == [slot] or (slot is None and not self._watched):
            return
        for old in self._watched:
            old.remove_listener(self._waker.poke)
        self._watched[:] = [slot] if slot is not None else []
        if slot is not None:
            slot.add_listener(self._waker.poke)

    def detach(self) -> None:
        """No more wake-ups from the slot (idempotent)."""
        _let_go(self._watched, self._waker)


def _let_go(watched: list[FrameSlot], waker: FrameWaker) -> None:
    for slot in watched:
        slot.remove_listener(waker.poke)
    watched.clear()
    waker.close()


class LevelBar(QProgressBar):
    """A thin bar showing a :class:`LevelMeter` (0 when there is none or it is muted)."""

    def __init__(
        self, meter: LevelMeter | None, parent: QWidget | None = None, *, interval_ms: int = 100
    ) -> None:
        super().__init__(parent)
        self._meter = meter
        self._live = True
        self.setRange(0, 100)
        self.setValue(0)
        self.setTextVisible(False)
        self.setMaximumHeight(8)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._show_level)
        self._timer.start()

    def set_meter(self, meter: LevelMeter | None) -> None:
        self._meter = meter
        self._show_level()

    def set_live(self, live: bool) -> None:
        """Show the level (``True``) or a still zero (a muted microphone)."""
        self._live = live
        self._show_level()

    def stop(self) -> None:
        self._timer.stop()

    def _show_level(self) -> None:
        level = self._meter.level() if self._meter is not None and self._live else 0.0
        self.setValue(min(100, int(level * LEVEL_GAIN)))
