"""BadgeToolButton: the Qt property, its texts, and what it actually paints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtGui import QColor, QImage, QPalette
from pytestqt.qtbot import QtBot

from conference_gui.ui.badge_button import ACCENT_BADGE_COLOR, BadgeToolButton
from conference_gui.ui.icons import icon

# A badge colour nothing else in a tool button uses, so pixels can be attributed.
BADGE = QColor("#ff00ff")


def _button(
    qtbot: QtBot, count: int = 0, describe: Callable[[int], str] | None = None
) -> BadgeToolButton:
    button = BadgeToolButton("Resources", describe=describe)
    qtbot.addWidget(button)
    palette = button.palette()
    palette.setColor(QPalette.ColorRole.Highlight, BADGE)
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    button.setPalette(palette)
    button.setIcon(icon("resources", palette))
    button.setIconSize(QSize(24, 24))
    button.setFixedSize(64, 44)
    button.setBadgeCount(count)
    return button


def _bbox_of(image: QImage, color: QColor, tolerance: int = 40) -> tuple[int, int, int] | None:
    """(pixel count, width, height) of the pixels close to ``color``, or None."""
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    xs: list[int] = []
    ys: list[int] = []
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - color.red())
                + abs(pixel.green() - color.green())
                + abs(pixel.blue() - color.blue())
                <= tolerance
            ):
                xs.append(x)
                ys.append(y)
    if not xs:
        return None
    return len(xs), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1


def _badge(button: BadgeToolButton, color: QColor = BADGE) -> tuple[int, int, int] | None:
    return _bbox_of(button.grab().toImage(), color)


# -- property and signal -----------------------------------------------------------


def test_badge_count_is_a_qt_property_with_a_notify_signal(qtbot: QtBot) -> None:
    button = _button(qtbot)
    meta = button.metaObject()
    prop = meta.property(meta.indexOfProperty("badgeCount"))
    assert prop.isValid() and prop.isWritable()
    assert prop.typeName() == "int"
    assert bytes(prop.notifySignal().name().data()) == b"badgeCountChanged"

    assert button.property("badgeCount") == 0
    button.setBadgeCount(3)
    assert button.property("badgeCount") == 3
    assert button.badgeCount() == 3
    assert button.setProperty("badgeCount", 5)
    assert button.badgeCount() == 5


def test_badge_count_changed_emitted_once_per_change(qtbot: QtBot) -> None:
    button = _button(qtbot)
    seen: list[int] = []
    button.badgeCountChanged.connect(seen.append)
    for value in (1, 1, 2, 2, 2, 0, 0, -4):
        button.setBadgeCount(value)
    assert seen == [1, 2, 0]  # negative shows nothing, same as 0
    with qtbot.assertNotEmitted(button.badgeCountChanged):
        button.setBadgeCount(0)


def test_same_count_does_not_repaint(qtbot: QtBot) -> None:
    button = _button(qtbot, 4)
    button.show()
    qtbot.waitExposed(button)

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    counter = PaintCounter(button)
    button.installEventFilter(counter)
    qtbot.wait(20)
    counter.paints = 0
    button.setBadgeCount(4)
    qtbot.wait(20)
    assert counter.paints == 0
    button.setBadgeCount(5)
    qtbot.waitUntil(lambda: counter.paints > 0, timeout=1000)


def test_accent_is_a_qt_property(qtbot: QtBot) -> None:
    button = _button(qtbot, 2)
    with qtbot.waitSignal(button.badgeAccentChanged) as blocker:
        button.setBadgeAccent(True)
    assert blocker.args == [True]
    assert button.property("badgeAccent") is True
    assert button.badgeAccent() is True


def test_new_dot_is_painted_apart_from_a_neutral_count(qtbot: QtBot) -> None:
    button = _button(qtbot, 3)
    plain = button.grab().toImage()
    with qtbot.waitSignal(button.badgeNewChanged) as blocker:
        button.setBadgeNew(1)
    assert blocker.args == [1] and button.property("badgeNew") == 1
    dotted = button.grab().toImage()
    accent = ACCENT_BADGE_COLOR.rgb()

    def accent_pixels(img: Any) -> list[tuple[int, int]]:
        return [
            (x, y) for y in range(img.height()) for x in range(img.width())
            if img.pixel(x, y) == accent
        ]

    assert not accent_pixels(plain)  # the count alone stays neutral
    dot = accent_pixels(dotted)
    assert dot, "no accent dot painted"
    # The dot sits at the icon's left, the count at its right: they do not touch.
    assert max(x for x, _ in dot) < dotted.width() / 2


# -- texts -----------------------------------------------------------------------------


def test_tooltip_and_accessible_name_carry_the_count(qtbot: QtBot) -> None:
    button = _button(qtbot, describe=lambda n: f"{n} files")
    assert button.text() == "Resources"
    assert button.toolTip() == "Resources"
    assert button.accessibleName() == "Resources"
    button.setBadgeCount(3)
    assert button.toolTip() == "Resources (3)"
    assert button.accessibleName() == "Resources (3)"
    assert button.accessibleDescription() == "3 files"
    button.setBadgeCount(150)
    assert button.accessibleName() == "Resources (150)"  # the real number, not "99+"
    button.setLabel("Files")
    assert button.accessibleName() == "Files (150)"
    button.setBadgeCount(0)
    assert button.toolTip() == "Files"
    assert button.accessibleName() == "Files"


# -- painting ---------------------------------------------------------------------------


def test_nothing_is_painted_at_zero(qtbot: QtBot) -> None:
    button = _button(qtbot, 0)
    assert _badge(button) is None


def test_one_digit_is_a_circle(qtbot: QtBot) -> None:
    button = _button(qtbot, 3)
    badge = _badge(button)
    assert badge is not None
    pixels, width, height = badge
    assert height >= 8
    assert abs(width - height) <= 1
    assert pixels > 0.4 * width * height  # a filled disc (minus the digit), not an outline


def test_two_digits_are_a_pill_and_99_plus_is_wider(qtbot: QtBot) -> None:
    circle = _badge(_button(qtbot, 7))
    pill = _badge(_button(qtbot, 42))
    overflow = _badge(_button(qtbot, 150))
    assert circle is not None and pill is not None and overflow is not None
    assert pill[1] > pill[2] + 2  # wider than tall
    assert pill[2] == circle[2]  # same height as the circle
    assert overflow[1] > pill[1]  # "99+" is wider than "42"
    assert overflow == _badge(_button(qtbot, 100))  # capped: 100 and 150 look the same


def test_badge_sits_at_the_icons_top_right(qtbot: QtBot) -> None:
    button = _button(qtbot, 3)
    image = button.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    half_w, half_h = image.width() // 2, image.height() // 2
    left = _bbox_of(image.copy(0, 0, half_w, image.height()), BADGE)
    top_right = _bbox_of(image.copy(half_w, 0, half_w, half_h), BADGE)
    assert top_right is not None
    assert left is None


def test_accent_uses_the_accent_colour(qtbot: QtBot) -> None:
    button = _button(qtbot, 5)
    button.setBadgeAccent(True)
    assert _badge(button) is None
    assert _badge(button, ACCENT_BADGE_COLOR) is not None


@pytest.mark.parametrize("count", [1, 9, 10, 99, 100])
def test_badge_is_not_clipped_by_a_tight_button(qtbot: QtBot, count: int) -> None:
    roomy = _badge(_button(qtbot, count))
    tight = _button(qtbot, count)
    tight.setFixedSize(30, 30)
    clamped = _badge(tight)
    assert roomy is not None and clamped is not None
    assert clamped[1:] == roomy[1:]  # same width and height: nothing cut off
