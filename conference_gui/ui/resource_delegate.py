"""Paints one shared file: type icon, name, and "size · who · when" beneath."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from conference_gui.domain.resources import Resource
from conference_gui.domain.units import format_size
from conference_gui.models.resource_model import ResourceRole
from conference_gui.ui.icons import file_type_icon_name, icon
from conference_gui.ui.item_views import paint_item_background

ICON = 32
PAD = 6


class ResourceDelegate(QStyledItemDelegate):
    """Two-line rows of one fixed height, so the view can use uniform item sizes."""

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
        ico = icon(file_type_icon_name(res.content_type, res.name), option.palette)
        ico.paint(painter, QRect(rect.left(), rect.top() + (rect.height() - ICON) // 2, ICON, ICON))

        text_rect = rect.adjusted(ICON + PAD * 2, 0, 0, 0)
        fm = QFontMetrics(option.font)
        line = fm.height()
        bold = option.font
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(option.palette.color(group, text_role))
        name = QFontMetrics(bold).elidedText(
            res.name, Qt.TextElideMode.ElideMiddle, text_rect.width()
        )
        painter.drawText(
            QRect(text_rect.left(), text_rect.top(), text_rect.width(), line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            name,
        )

        painter.setFont(option.font)
        if not selected:
            painter.setPen(option.palette.color(group, QPalette.ColorRole.PlaceholderText))
        detail = f"{format_size(res.size)} · {res.uploaded_by.name} · {when(res.uploaded_at)}"
        detail = fm.elidedText(detail, Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(
            QRect(text_rect.left(), text_rect.top() + line + 2, text_rect.width(), line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            detail,
        )
        painter.restore()


def when(moment: datetime, now: datetime | None = None) -> str:
    """Local time today, or a short date for older files."""
    now = now or datetime.now(UTC)
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%d %b %H:%M")
