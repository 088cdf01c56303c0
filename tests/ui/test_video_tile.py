"""A call tile: what it paints, and how little it repaints (issue 11: CPU of a call)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtGui import QImage, QPaintEvent
from pytestqt.qtbot import QtBot

from conference_gui.domain.stage import CAMERA, Tile
from conference_gui.media.exchange import FrameSlot, VideoImage
from conference_gui.ui.video_tile import VideoTile

W, H = 532, 299  # a tile of a two-person call in a 1280x720 window


class PaintLog(QObject):
    """Notes the rectangle of every paint event the tile gets."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.rects: list[QRect] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QPaintEvent):
            self.rects.append(event.rect())
        return False


def _tile(qtbot: QtBot, *, is_self: bool, remote: bool) -> tuple[VideoTile, FrameSlot]:
    slot = FrameSlot()
    tile = VideoTile(Tile("me" if is_self else "bob", CAMERA, "Bob Li", is_self, True, True,
                          False), slot, remote=remote)
    qtbot.addWidget(tile)
    tile.resize(W, H)
    tile.show()
    qtbot.waitExposed(tile)
    return tile, slot


def _pixels(image: QImage) -> npt.NDArray[np.int16]:
    """The image as (h, w, 3) BGR, signed so differences do not wrap."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(
        image.height(), image.bytesPerLine()
    )
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3].astype(
        np.int16
    )


def _picture(width: int, height: int) -> npt.NDArray[np.uint8]:
    """A BGRA picture that is red on its left half and blue on its right, a gradient down."""
    px = np.zeros((height, width, 4), dtype=np.uint8)
    px[:, : width // 2, 2] = 220  # red
    px[:, width // 2 :, 0] = 220  # blue
    px[..., 1] = np.linspace(0, 200, height, dtype=np.uint8)[:, None]
    px[..., 3] = 255
    return px


def test_a_remote_tile_shows_the_remote_picture_at_the_tiles_size(qtbot: QtBot) -> None:
    """Bob's tile asks for pictures that fill it exactly (the engine cuts off what
    would not show) and draws them 1:1: nothing rescales them on the GUI thread."""
    tile, slot = _tile(qtbot, is_self=False, remote=True)
    assert slot.wanted() == ((W, H), True)
    sent = _picture(W, H)
    slot.put(VideoImage(sent, 0.0))
    shown = _pixels(tile.grab().toImage())
    inside = (slice(20, H - 60), slice(20, W - 20))  # away from the corners and the name
    assert np.abs(shown[inside] - sent[inside][..., :3].astype(np.int16)).max() <= 2
    assert tile.property("framesRendered") == 1
    tile.resize(W, H + 40)
    assert slot.wanted() == ((W, H + 40), True)
    tile.hide()
    assert slot.wanted() == ((0, 0), False)  # hidden: nothing converted at all


def test_your_own_camera_is_mirrored(qtbot: QtBot) -> None:
    tile, slot = _tile(qtbot, is_self=True, remote=False)
    assert slot.wanted_size is None  # your camera is sent at full size: scaled here
    slot.put(VideoImage(_picture(640, 480), 0.0))
    tile.grab()
    shown = _pixels(tile.grab().toImage())
    left, right = shown[H // 2, 60], shown[H // 2, W - 60]
    assert left[0] > 150 and left[2] < 60  # blue on the left: as in a mirror
    assert right[2] > 150 and right[0] < 60


def test_your_camera_in_a_wide_tile_shows_its_middle_rows(
    qtbot: QtBot,
) -> None:
    """Ann's 4:3 camera fills her 16:9 tile: its top and bottom eighths are cut off."""
    tile, slot = _tile(qtbot, is_self=True, remote=False)
    sent = _picture(640, 480)
    slot.put(VideoImage(sent, 0.0))
    shown = _pixels(tile.grab().toImage())
    scale = W / 640  # the picture's width fills the tile's
    crop = (480 * scale - H) / 2  # rows of the scaled picture above the tile
    rows = np.arange(20, H - 60)  # away from the corners and the name
    expected_green = np.interp((rows + 0.5 + crop) / scale - 0.5, np.arange(480),
                               sent[:, 0, 1].astype(float))
    assert np.abs(shown[rows, W // 4, 1] - expected_green).max() <= 3
    assert np.abs(shown[rows, 3 * W // 4, 1] - expected_green).max() <= 3


def test_a_level_change_repaints_only_the_meter(qtbot: QtBot) -> None:
    tile, slot = _tile(qtbot, is_self=False, remote=True)
    slot.put(VideoImage(_picture(640, 480), 0.0))
    tile.grab()
    log = PaintLog(tile)
    tile.installEventFilter(log)
    qtbot.wait(50)  # the window's first paints
    log.rects.clear()

    tile.set_level(0.12, False)  # lights two bars
    qtbot.waitUntil(lambda: bool(log.rects), timeout=1000)
    (painted,) = log.rects
    assert painted.width() * painted.height() < W * H / 100  # the meter's few pixels
    assert tile.property("audioLevel") == 0.12

    log.rects.clear()
    tile.set_level(0.11, False)  # the same two bars: nothing looks different
    qtbot.wait(30)
    assert log.rects == [] and tile.property("audioLevel") == 0.11

    tile.set_level(0.11, True)  # speaking: the outline goes round the whole tile
    qtbot.waitUntil(lambda: bool(log.rects), timeout=1000)
    assert log.rects[-1] == tile.rect()


def test_bobs_name_pill_is_drawn_once_and_again_when_he_mutes(qtbot: QtBot) -> None:
    """New pictures repaint the tile 30 times a second: Bob's name is shaped once and
    kept; his mute changes how the pill looks, so it is drawn again (mic-off icon)."""
    tile, slot = _tile(qtbot, is_self=False, remote=True)
    slot.put(VideoImage(_picture(640, 480), 0.0))
    tile.grab()
    first = tile._pill
    assert first is not None and first[1].meter is not None  # mic on: the meter's place
    for _ in range(3):
        slot.put(VideoImage(_picture(*slot.wanted_size), 0.0))
        tile.grab()
    assert tile._pill is first
    muted = Tile("bob", CAMERA, "Bob Li", False, False, True, False)
    tile.set_tile(muted)
    tile.grab()
    assert tile._pill is not first and tile._pill is not None
    assert tile._pill[1].meter is None  # mic off: the icon, no meter
    assert tile._meter_area is None


def test_your_camera_in_a_small_tile_is_averaged_once_per_picture(qtbot: QtBot) -> None:
    """Nine people: Ann's own tile is under half her camera's size, where sampling would
    shimmer; her picture is averaged down (still mirrored), once per picture."""
    tile, slot = _tile(qtbot, is_self=True, remote=False)
    tile.resize(200, 112)
    slot.put(VideoImage(_picture(640, 480), 0.0))
    shown = _pixels(tile.grab().toImage())
    left, right = shown[56, 30], shown[56, 170]
    assert left[0] > 150 and left[2] < 60  # blue on the left: as in a mirror
    assert right[2] > 150 and right[0] < 60
    kept = tile._scaled
    assert kept is not None and kept[1].size() == tile.size()
    tile.set_level(0.2, False)  # a meter repaint between pictures: the same copy
    tile.grab()
    assert tile._scaled is kept
