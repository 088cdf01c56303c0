"""Screen share between two meeting windows on a real X server (issue 12).

Carol is talking (she holds the spotlight) when Ann presses Share screen; the
picker's default button shares the primary screen; Bob's window shows Ann's
screen large (speaker view) all the same, and what it
shows is the X server's own picture of that screen; Stop removes it. The
windows call each other over loopback inside the test run's private network.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QToolButton

from conference_gui.services.media.video_frames import qimage_to_bgra
from conference_gui.ui.screen_picker import ScreenPicker
from tests.call.test_call_stories import in_audio_call
from tests.conftest import Loop, Meeting, require_private_network, until
from tests.screen.x11_cases.conftest import PATTERN_RECT, grab
from tests.screen.xserver import HEIGHT, WIDTH


def picture_rect(tile: Any) -> QRectF:
    """Where a screen tile paints the whole screen (kept whole, centred)."""
    w, h = tile.width(), tile.height()
    scale = min(w / WIDTH, h / HEIGHT)
    return QRectF((w - WIDTH * scale) / 2, (h - HEIGHT * scale) / 2, WIDTH * scale,
                  HEIGHT * scale)


def test_bob_sees_anns_screen_large_and_it_goes_when_she_stops(
    aloop: Loop, server: Any, meeting: Meeting, windows: Any, show_windows: Any
) -> None:
    require_private_network()
    show_windows("Pattern")  # something known on Ann's screen
    ann = windows(meeting, meeting.host, call=True, camera=False)
    bob = windows(meeting, meeting.join("Bob"), call=True, camera=False)
    carol = windows(meeting, meeting.join("Carol"), call=True, camera=False)
    # Side by side, right of the pattern (no window manager: exactly there).
    ann.setGeometry(QRect(1000, 0, 900, 500))
    bob.setGeometry(QRect(1000, 540, 900, 520))
    carol.setGeometry(QRect(1000, 540, 600, 400))
    carol.lower()
    bob.raise_()
    a, c = ann.meeting.user_id, carol.meeting.user_id
    for quiet in (ann, bob):  # Carol talks
        quiet.features["call"].devices.tone.set_sounding(False)

    async def story() -> None:
        await in_audio_call(ann, bob, carol)
        # Carol holds the spotlight at Bob's; a shared screen still takes the stage.
        await until(lambda: bob.features["call"].spotlight.focus == c, timeout=10,
                    what="Carol in the spotlight at Bob's")
        ann.findChild(QToolButton, "screenShareButton").click()
        await until(lambda: isinstance(ann.features["call"].screen_picker, ScreenPicker),
                    what="the picker opens")
        picker = ann.features["call"].screen_picker
        assert not ann.findChild(QToolButton, "screenShareButton").isChecked()  # not yet
        assert picker.share_button.isDefault()
        picker.share_button.click()  # the default button: the primary screen
        await until(lambda: ann.findChild(QToolButton, "screenShareButton").isChecked(),
                    what="sharing")
        assert ann.features["call"].grid.sharing_bar.isVisible()
        assert "sharing your screen" in ann.features["call"].grid.sharing_label.text()

        grid = bob.features["call"].grid
        await until(lambda: grid.tile(a, "screen") is not None, timeout=10,
                    what="Ann's screen tile at Bob's")
        tile = grid.tile(a, "screen")
        assert tile.property("source") == "screen"
        await until(lambda: tile.property("framesRendered") > 5, timeout=15,
                    what="Ann's screen painted at Bob's")
        assert grid.property("layoutMode") == "speaker"
        assert tile.width() == max(t.width() for t in grid.tiles())  # shown large
        assert bob.features["call"].controller.speaking(c)  # though Carol speaks

        # What Bob sees of the pattern is what the X server shows there.
        await until(lambda: tile.property("framesRendered") > 15, timeout=15)
        shown = qimage_to_bgra(tile.grab().toImage().convertToFormat(QImage.Format.Format_RGB32))
        assert shown is not None
        area = picture_rect(tile)
        scale = area.width() / WIDTH
        r = PATTERN_RECT
        x0, y0 = int(area.x() + r.x() * scale), int(area.y() + r.y() * scale)
        x1, y1 = int(area.x() + r.right() * scale), int(area.y() + r.bottom() * scale)
        seen = shown[y0:y1, x0:x1, :3].astype(np.int16)
        reference = QImage(grab(PATTERN_RECT).data, r.width(), r.height(),
                           QImage.Format.Format_RGB32).scaled(x1 - x0, y1 - y0)
        ref = qimage_to_bgra(reference.convertToFormat(QImage.Format.Format_RGB32))
        assert ref is not None
        diff = np.abs(seen - ref[:, :, :3].astype(np.int16))
        assert float(diff.mean()) < 20, f"mean colour difference {diff.mean():.1f}"

        ann.features["call"].grid.sharing_stop_button.click()
        await until(lambda: grid.tile(a, "screen") is None, timeout=10, what="the screen goes")
        assert not ann.findChild(QToolButton, "screenShareButton").isChecked()
        await until(lambda: grid.property("layoutMode") == "grid", timeout=5)
        assert bob.features["call"].spotlight.focus == c  # the speaker has it again

    aloop.run(story(), timeout=90)
