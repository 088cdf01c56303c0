"""The screen picker on a real X server: live thumbnails, keyboard, primary screen by default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QRect, Qt

from conference_gui.models.screen_sources import SourceRole
from conference_gui.services.media import MediaDevices, ScreenKind, ScreenState
from conference_gui.ui.screen_picker import ScreenPicker
from tests.screen.x11_cases.conftest import BLOCKS, PATTERN_RECT, publish

Make = Callable[..., MediaDevices]


def open_picker(qtbot: Any, devices: MediaDevices) -> ScreenPicker:
    picker = ScreenPicker(devices.screen)
    qtbot.addWidget(picker)
    picker.open()
    qtbot.waitExposed(picker)
    return picker


def titles(picker: ScreenPicker) -> list[str]:
    return [s.title for s in picker.model.sources()]


def test_thumbnails_appear_and_refresh_and_enter_shares_the_primary_screen(
    qtbot: Any, media: Make, show_windows: Any
) -> None:
    show_windows("Quarterly report")
    devices = media()
    picker = open_picker(qtbot, devices)
    assert picker.objectName() == "screenPicker"
    assert titles(picker) == ["Entire screen", "Quarterly report"]  # not the picker itself
    assert picker.share_button.isDefault() and picker.share_button.objectName() == "shareButton"
    assert picker.list.currentIndex().row() == 0  # the primary screen

    slots = [picker.model.index(r).data(SourceRole.THUMBNAIL) for r in range(2)]
    qtbot.waitUntil(lambda: all(s.latest()[1] is not None for s in slots), timeout=3000)
    qtbot.waitUntil(lambda: picker.property("thumbnailsPainted") >= 2, timeout=2000)
    screen_thumb, window_thumb = (s.latest()[1] for s in slots)
    assert screen_thumb is not None and (screen_thumb.width, screen_thumb.height) == (320, 180)
    assert window_thumb is not None and (window_thumb.width, window_thumb.height) == (288, 180)
    # The window's thumbnail is its picture, scaled: the blocks' colours in their places.
    scale = window_thumb.width / PATTERN_RECT.width()
    for colour, block in BLOCKS:
        c = block.center()
        b, g, r = window_thumb.pixels[round(c.y() * scale), round(c.x() * scale), :3]
        assert np.allclose((r, g, b), (colour.red(), colour.green(), colour.blue()), atol=12)

    # Live: each is grabbed again several times a second, and painted.
    seqs = [s.seq for s in slots]
    painted = picker.property("thumbnailsPainted")
    qtbot.wait(1500)
    assert all(s.seq >= seq + 2 for s, seq in zip(slots, seqs, strict=True)), [
        s.seq - seq for s, seq in zip(slots, seqs, strict=True)
    ]
    assert picker.property("thumbnailsPainted") >= painted + 4

    chosen: list[Any] = []
    picker.source_chosen.connect(chosen.append)
    qtbot.keyClick(picker.list, Qt.Key.Key_Return)
    assert picker.result() == ScreenPicker.DialogCode.Accepted
    assert len(chosen) == 1 and chosen[0].kind is ScreenKind.SCREEN and chosen[0].is_primary
    assert picker.chosen == chosen[0]
    grabs = devices.screen.thumbnails.grabs
    qtbot.wait(1200)  # still grabbing would be 5 or more by now
    assert devices.screen.thumbnails.grabs <= grabs + 1  # closed: no more grabbing

    devices.screen.start(chosen[0])
    qtbot.waitUntil(lambda: devices.screen.state is ScreenState.ACTIVE, timeout=5000)


def test_arrow_keys_choose_a_window_and_windows_come_and_go_while_open(
    qtbot: Any, media: Make, show_windows: Any
) -> None:
    slides = show_windows("Slides")
    devices = media()
    picker = open_picker(qtbot, devices)
    assert titles(picker) == ["Entire screen", "Slides"]

    later = show_windows("Spreadsheet", QRect(1100, 500, 400, 300))
    qtbot.waitUntil(lambda: "Spreadsheet" in titles(picker), timeout=4000)  # without reopening
    qtbot.keyClick(picker.list, Qt.Key.Key_Right)
    qtbot.keyClick(picker.list, Qt.Key.Key_Right)
    assert picker.list.currentIndex().data() == "Spreadsheet"

    later.close()
    publish([slides])  # as the window manager does when a window closes
    qtbot.waitUntil(lambda: "Spreadsheet" not in titles(picker), timeout=4000)
    # The selection falls on a neighbour; keyboard moves on from there.
    qtbot.keyClick(picker.list, Qt.Key.Key_Home)
    qtbot.keyClick(picker.list, Qt.Key.Key_Right)
    assert picker.list.currentIndex().data() == "Slides"
    qtbot.keyClick(picker.list, Qt.Key.Key_Enter)
    assert picker.chosen is not None and picker.chosen.title == "Slides"
    assert picker.chosen.kind is ScreenKind.WINDOW


def test_cancel_chooses_nothing_and_stops_the_thumbnails(
    qtbot: Any, media: Make, show_windows: Any
) -> None:
    show_windows()
    devices = media()
    picker = open_picker(qtbot, devices)
    qtbot.waitUntil(lambda: devices.screen.thumbnails.grabs >= 2, timeout=3000)
    qtbot.keyClick(picker, Qt.Key.Key_Escape)
    assert picker.result() == ScreenPicker.DialogCode.Rejected and picker.chosen is None
    grabs = devices.screen.thumbnails.grabs
    qtbot.wait(1200)  # still grabbing would be 5 or more by now
    assert devices.screen.thumbnails.grabs <= grabs + 1
    assert devices.screen.state is ScreenState.OFF


def test_a_picker_deleted_without_closing_stops_the_thumbnails(
    qtbot: Any, media: Make, show_windows: Any
) -> None:
    """As when its window is deleted under it: the device thread stops grabbing."""
    from PySide6.QtCore import QCoreApplication, QEvent

    show_windows()
    devices = media()
    picker = ScreenPicker(devices.screen)
    picker.show()
    qtbot.waitUntil(lambda: devices.screen.thumbnails.grabs >= 2, timeout=3000)
    picker.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    grabs = devices.screen.thumbnails.grabs
    qtbot.wait(1200)  # still grabbing would be 5 or more by now
    assert devices.screen.thumbnails.grabs <= grabs + 1
