"""A tool button with a count badge over its icon (Telegram's unread badge).

Nothing is drawn at 0, a circle for one digit, a pill for two, "99+" above 99.
The button only renders a number; whoever owns it connects a model's count to
:meth:`BadgeToolButton.setBadgeCount`.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Property as _QtProperty
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, QSizeF, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QStyle,
    QStyleOptionToolButton,
    QToolButton,
    QWidget,
)

__all__ = ["BadgeToolButton", "describe_button"]

#: Badge colour for the "there is something new" state (warm, readable under white text).
ACCENT_BADGE_COLOR = QColor("#d9480f")
ACCENT_BADGE_TEXT_COLOR = QColor("#ffffff")

_MAX_SHOWN = 99


class _ReadableProperty(_QtProperty):
    """A Qt property whose Python attribute is its getter *method*.

    PySide's ``Property`` makes ``obj.name`` return the value, which would hide a
    C++-style getter of the same name. This keeps ``obj.badgeCount()`` a method
    while ``obj.property("badgeCount")`` / ``setProperty`` / QSS / accessibility
    see an ordinary ``Q_PROPERTY(int badgeCount READ ... WRITE ... NOTIFY ...)``.
    """

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return types.MethodType(self.fget, obj)


class BadgeToolButton(QToolButton):
    """Tool button painting a count badge at its icon's top-right corner.

    Two ways to say "new": ``badgeAccent`` paints the count itself in the accent
    colour (the count *is* the number of new things: unread messages); a
    ``badgeNew`` above zero keeps the count neutral and adds a separate accent
    dot at the icon's other corner (the count is a total, some of it is new:
    "3 files, 1 new" must not read as "3 new").

    Signals:
        badgeCountChanged(int): the shown count changed (not emitted for the same value).
        badgeAccentChanged(bool): the accent ("something new") state changed.
        badgeNewChanged(int): how many of the counted things are new changed.

    Qt properties: ``badgeCount`` (int), ``badgeAccent`` (bool), ``badgeNew`` (int).
    """

    badgeCountChanged = Signal(int)
    badgeAccentChanged = Signal(bool)
    badgeNewChanged = Signal(int)

    def __init__(
        self,
        label: str,
        parent: QWidget | None = None,
        *,
        describe: Callable[[int], str] | None = None,
    ) -> None:
        """``label`` is the button's name ("Resources"); ``describe(n)`` (optional)
        gives the accessible description for a count, e.g. ``"3 files"``."""
        super().__init__(parent)
        self._label = label
        self._describe = describe
        self._count = 0
        self._accent = False
        self._new = 0
        self._paths: dict[str, QPainterPath] = {}
        self.setText(label)
        self._refresh_texts()

    # -- public API -------------------------------------------------------
    def label(self) -> str:
        return self._label

    def setLabel(self, label: str) -> None:
        """Change the button's name (e.g. after a language change)."""
        self._label = label
        self.setText(label)
        self._refresh_texts()

    def _get_badge_count(self) -> int:
        return self._count

    @Slot(int)
    def setBadgeCount(self, count: int) -> None:
        """Show ``count`` (negative values show nothing); repaints only on change."""
        count = max(0, int(count))
        if count == self._count:
            return
        self._count = count
        self._refresh_texts()
        self.update()
        self.badgeCountChanged.emit(count)

    def _get_badge_accent(self) -> bool:
        return self._accent

    @Slot(bool)
    def setBadgeAccent(self, accent: bool) -> None:
        """Paint the badge in the accent colour ("there is something new")."""
        accent = bool(accent)
        if accent == self._accent:
            return
        self._accent = accent
        if self._count:
            self.update()
        self.badgeAccentChanged.emit(accent)

    def _get_badge_new(self) -> int:
        return self._new

    @Slot(int)
    def setBadgeNew(self, new: int) -> None:
        """How many of the counted things are new: above zero shows the "new" dot."""
        new = max(0, int(new))
        if new == self._new:
            return
        self._new = new
        self.update()
        self.badgeNewChanged.emit(new)

    badgeCount = _ReadableProperty(int, _get_badge_count, setBadgeCount, notify=badgeCountChanged)
    badgeNew = _ReadableProperty(int, _get_badge_new, setBadgeNew, notify=badgeNewChanged)
    badgeAccent = _ReadableProperty(
        bool, _get_badge_accent, setBadgeAccent, notify=badgeAccentChanged
    )

    # -- texts --------------------------------------------------------------
    def _refresh_texts(self) -> None:
        if self._count > 0:
            name = self.tr("{label} ({count})").format(label=self._label, count=self._count)
        else:
            name = self._label
        self.setToolTip(name)
        self.setAccessibleName(name)
        self.setAccessibleDescription(self._describe(self._count) if self._describe else "")

    # -- painting -------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._paths.clear()
        elif event.type() == QEvent.Type.LanguageChange:
            self._refresh_texts()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._new > 0:
            self._paint_new_dot()
        if self._count <= 0:
            return
        text = self._badge_text()
        path = self._badge_path(text)
        size = path.boundingRect().size()
        origin = self._badge_origin(size)

        if self._accent:
            fill, ink = ACCENT_BADGE_COLOR, ACCENT_BADGE_TEXT_COLOR
        else:
            fill = self.palette().color(QPalette.ColorRole.Highlight)
            ink = self.palette().color(QPalette.ColorRole.HighlightedText)

        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.translate(origin)
            # A thin ring in the background colour separates the badge from the icon.
            ring = QPen(self.palette().color(QPalette.ColorRole.Window), 1.5)
            painter.setPen(ring)
            painter.setBrush(fill)
            painter.drawPath(path)
            painter.setPen(ink)
            painter.setFont(self._badge_font())
            painter.drawText(QRectF(QPointF(0, 0), size), Qt.AlignmentFlag.AlignCenter, text)
        finally:
            painter.end()

    def _paint_new_dot(self) -> None:
        """A small accent dot at the icon's top-left: "some of this is new"."""
        icon = self._icon_rect()
        d = max(7.0, QFontMetricsF(self._badge_font()).height() * 0.55)
        dot = QRectF(icon.left() - d / 3.0, icon.top() - d / 3.0, d, d)
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Window), 1.5))
            painter.setBrush(ACCENT_BADGE_COLOR)
            painter.drawEllipse(dot)
        finally:
            painter.end()

    def _badge_text(self) -> str:
        return f"{_MAX_SHOWN}+" if self._count > _MAX_SHOWN else str(self._count)

    def _badge_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        if font.pointSizeF() > 0:
            font.setPointSizeF(max(7.5, font.pointSizeF() * 0.8))
        else:
            font.setPixelSize(max(9, round(font.pixelSize() * 0.8)))
        return font

    def _badge_path(self, text: str) -> QPainterPath:
        """Circle (one character) or pill, sized from the badge font; cached per text."""
        path = self._paths.get(text)
        if path is None:
            metrics = QFontMetricsF(self._badge_font())
            height = float(round(metrics.height())) + 2.0
            if len(text) == 1:
                width = height
            else:
                width = max(height, metrics.horizontalAdvance(text) + height * 0.6)
            path = QPainterPath()
            radius = height / 2.0
            path.addRoundedRect(QRectF(0.0, 0.0, round(width), height), radius, radius)
            self._paths[text] = path
        return path

    def _icon_rect(self) -> QRect:
        """Where the style draws the icon (close enough for the common styles)."""
        option = QStyleOptionToolButton()
        self.initStyleOption(option)
        area = self.style().subControlRect(
            QStyle.ComplexControl.CC_ToolButton, option, QStyle.SubControl.SC_ToolButton, self
        )
        icon = self.iconSize()
        if self.icon().isNull():
            icon = QSize(0, 0)
        style = self.toolButtonStyle()
        if style == Qt.ToolButtonStyle.ToolButtonTextBesideIcon and self.text():
            left = area.left() + 4
            top = area.top() + (area.height() - icon.height()) // 2
        elif style == Qt.ToolButtonStyle.ToolButtonTextUnderIcon and self.text():
            left = area.left() + (area.width() - icon.width()) // 2
            top = area.top() + 3
        else:
            left = area.left() + (area.width() - icon.width()) // 2
            top = area.top() + (area.height() - icon.height()) // 2
        return QRect(left, top, icon.width(), icon.height())

    def _badge_origin(self, badge: QSizeF) -> QPointF:
        """Top-left of the badge: overlapping the icon's top-right corner, inside the button."""
        icon = self._icon_rect()
        width, height = float(badge.width()), float(badge.height())
        # The badge's right edge sticks out a third of its height past the icon.
        right = icon.left() + icon.width() + height / 3.0
        top = icon.top() - height / 3.0
        bounds = QRectF(self.rect())
        left = min(right - width, bounds.right() - width)
        left = max(left, bounds.left())
        top = max(min(top, bounds.bottom() - height), bounds.top())
        # Whole pixels keep the digits and the edge crisp.
        return QPointF(round(left), round(top))


def describe_button(button: QAbstractButton, label: str, parts: list[str]) -> None:
    """Accessible name and tooltip: the button's label, then what its badge means."""
    text = ", ".join([label, *(p for p in parts if p)])
    button.setAccessibleName(text)
    button.setToolTip(text)
