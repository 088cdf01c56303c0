"""Paints one shared file: type icon, name, and "size · who · when" beneath."""

from __future__ import annotations

from datetime import UTC, date, datetime

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from conference_gui.domain.resources import Resource
from conference_gui.domain.units import format_size
from conference_gui.models.resource_model import ResourceRole
from conference_gui.ui.icons import file_type_icon_name, icon
from conference_gui.ui.item_views import paint_item_background

ICON = 32
PAD = 6


class ResourceDelegate(QStyledItemDelegate):
    """Two-line rows of one fixed height, so the view can use uniform item sizes.

    Every insert at the top repaints every visible row, so what a row shows is
    kept between paints: its two elided lines (per width and font, and per day,
    as "when" reads "HH:MM" today and a date later) and its icon's pixmap.
    """

    _CACHE_ROWS = 2000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._texts: dict[tuple[object, ...], tuple[str, str]] = {}
        self._pixmaps: dict[tuple[str, int, float], QPixmap] = {}

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(200, max(ICON, fm.height() * 2 + 2) + 2 * PAD)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        res = index.data(ResourceRole.RESOURCE)
        if not isinstance(res, Resource):
            return
        paint_item_background(self, painter, option, index)

        rect: QRect = option.rect.adjusted(PAD, PAD, -PAD, -PAD)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = (
            QPalette.ColorGroup.Normal
            if option.state & QStyle.StateFlag.State_Enabled
            else QPalette.ColorGroup.Disabled
        )
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        pixmap = self._pixmap(res, option.palette, ratio)
        size = pixmap.deviceIndependentSize().toSize()  # centred, as QIcon.paint does
        painter.drawPixmap(
            QPoint(
                rect.left() + (ICON - size.width()) // 2,
                rect.top() + (rect.height() - size.height()) // 2,
            ),
            pixmap,
        )

        text_rect = rect.adjusted(ICON + PAD * 2, 0, 0, 0)
        fm = QFontMetrics(option.font)
        line = fm.height()
        bold = option.font
        bold.setBold(True)
        name, detail = self._lines(res, option.font, bold, text_rect.width())
        painter.setFont(bold)
        painter.setPen(option.palette.color(group, text_role))
        painter.drawText(
            QRect(text_rect.left(), text_rect.top(), text_rect.width(), line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            name,
        )

        painter.setFont(option.font)
        if not selected:
            painter.setPen(option.palette.color(group, QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            QRect(text_rect.left(), text_rect.top() + line + 2, text_rect.width(), line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            detail,
        )
        painter.restore()

    def _lines(self, res: Resource, font: QFont, bold: QFont, width: int) -> tuple[str, str]:
        """The elided name and the elided "size · who · when" line of ``res``."""
        key = (res, width, font.key(), date.today())
        lines = self._texts.get(key)
        if lines is None:
            if len(self._texts) >= self._CACHE_ROWS:
                self._texts.clear()
            name = QFontMetrics(bold).elidedText(res.name, Qt.TextElideMode.ElideMiddle, width)
            detail = f"{format_size(res.size)} · {res.uploaded_by.name} · {when(res.uploaded_at)}"
            detail = QFontMetrics(font).elidedText(detail, Qt.TextElideMode.ElideRight, width)
            lines = self._texts[key] = (name, detail)
        return lines

    def _pixmap(self, res: Resource, palette: QPalette, ratio: float) -> QPixmap:
        """The file-type icon at ICON×ICON logical pixels for this palette and screen."""
        name = file_type_icon_name(res.content_type, res.name)
        key = (name, palette.cacheKey(), ratio)
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            if len(self._pixmaps) >= 64:
                self._pixmaps.clear()
            pixmap = icon(name, palette).pixmap(QSize(ICON, ICON), ratio)
            self._pixmaps[key] = pixmap
        return pixmap


def when(moment: datetime, now: datetime | None = None) -> str:
    """Local time today, or a short date for older files."""
    now = now or datetime.now(UTC)
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%d %b %H:%M")
