"""The Participants dock: everyone in the meeting, raised hands first.

A view over the window's :class:`ParticipantListModel`. The host gets a
"Lower hand" action on raised hands; everything else is read-only.
"""

from __future__ import annotations

import zlib

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from conference_gui.domain.meeting import Participant
from conference_gui.domain.stage import initials
from conference_gui.domain.wording import plural
from conference_gui.models.me import Me
from conference_gui.models.participants_model import (
    ParticipantListModel,
    ParticipantRole,
    ParticipantsController,
    local_time,
)
from conference_gui.ui.icons import icon
from conference_gui.ui.item_views import paint_item_background, paint_placeholder

AVATAR = 26
PAD = 6
HAND = 18
MEDIA = 16

# Avatar colours: mid-tones that carry white initials on light and dark themes.
_AVATAR_COLORS = [
    QColor(c)
    for c in (
        "#1971c2",
        "#2f9e44",
        "#e8590c",
        "#9c36b5",
        "#0c8599",
        "#c2255c",
        "#5c940d",
        "#6741d9",
    )
]


def avatar_color(participant_id: str) -> QColor:
    return _AVATAR_COLORS[zlib.crc32(participant_id.encode()) % len(_AVATAR_COLORS)]




class ParticipantDelegate(QStyledItemDelegate):
    """One line: avatar, name (with "(you)"), a Host tag, microphone / camera / screen
    state, and a raised hand with its time."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(180, max(AVATAR, fm.height()) + 2 * PAD)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        p = index.data(ParticipantRole.PARTICIPANT)
        if not isinstance(p, Participant):
            return
        paint_item_background(self, painter, option, index)

        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_color = option.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        dim_color = (
            text_color if selected else option.palette.color(QPalette.ColorRole.PlaceholderText)
        )
        rect: QRect = option.rect.adjusted(PAD, 0, -PAD, 0)
        mid = rect.center().y()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)

        # Avatar: a coloured circle with initials.
        circle = QRectF(rect.left(), mid - AVATAR / 2 + 0.5, AVATAR, AVATAR)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(avatar_color(p.id))
        painter.drawEllipse(circle)
        small = QFont(option.font)
        small.setBold(True)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.8))
        painter.setFont(small)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, initials(p.name))

        right = rect.right()
        fm = QFontMetrics(option.font)
        # Raised hand at the right edge: icon and the time it went up.
        if p.hand_raised:
            when = local_time(p.hand_raised_at)
            tw = fm.horizontalAdvance(when)
            painter.setFont(option.font)
            painter.setPen(dim_color)
            painter.drawText(
                QRect(right - tw, rect.top(), tw, rect.height()),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                when,
            )
            right -= tw + 4
            hand_palette = QPalette(option.palette)
            hand_palette.setColor(QPalette.ColorRole.WindowText, QColor("#e8590c"))
            if selected:
                hand_palette.setColor(QPalette.ColorRole.WindowText, text_color)
            icon("raise-hand", hand_palette).paint(
                painter, QRect(right - HAND, mid - HAND // 2, HAND, HAND)
            )
            right -= HAND + PAD

        # What they send: a crossed-out microphone / camera when off, a screen when sharing.
        media_palette = QPalette(option.palette)
        media_palette.setColor(QPalette.ColorRole.WindowText, dim_color)
        for shown_icon in (
            "screen-share" if p.media.screen else "",
            "" if p.media.video else "camera-off",
            "" if p.media.audio else "mic-off",
        ):
            if shown_icon:
                icon(shown_icon, media_palette).paint(
                    painter, QRect(right - MEDIA, mid - MEDIA // 2, MEDIA, MEDIA)
                )
                right -= MEDIA + 3

        # Host tag.
        x = rect.left() + AVATAR + PAD + 2
        host_w = 0
        tag = ""
        tag_font = QFont(option.font)
        tag_font.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
        tag_fm = QFontMetrics(tag_font)
        if p.is_host:
            tag = self.tr("Host")
            host_w = tag_fm.horizontalAdvance(tag) + 12

        name = index.data(Qt.ItemDataRole.DisplayRole) or p.name
        is_me = bool(index.data(ParticipantRole.IS_ME))
        name_font = QFont(option.font)
        name_font.setBold(is_me)
        name_fm = QFontMetrics(name_font)
        room = max(0, right - x - (host_w + PAD if host_w else 0))
        shown = name_fm.elidedText(name, Qt.TextElideMode.ElideRight, room)
        painter.setFont(name_font)
        painter.setPen(text_color)
        painter.drawText(
            QRect(x, rect.top(), room, rect.height()),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            shown,
        )
        if host_w:
            tx = x + name_fm.horizontalAdvance(shown) + PAD
            pill = QRectF(tx, mid - tag_fm.height() / 2 - 1, host_w, tag_fm.height() + 2)
            accent = option.palette.color(QPalette.ColorRole.Highlight)
            painter.setPen(text_color if selected else accent)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
            painter.setFont(tag_font)
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, tag)
        painter.restore()


class ParticipantListView(QListView):
    """The list, with a hint while nobody is listed (before the first join)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("participantList")
        self.setUniformItemSizes(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegate(ParticipantDelegate(self))
        self.setAccessibleName(self.tr("Participants"))

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        paint_placeholder(self, self.tr("Joining the meeting…"))


class ParticipantsDock(QDockWidget):
    """Dock (objectName ``participantsPanel``) listing the meeting's participants."""

    def __init__(
        self,
        model: ParticipantListModel,
        controller: ParticipantsController,
        me: Me,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("Participants"), parent)
        self.setObjectName("participantsPanel")
        self._model = model
        self._controller = controller

        body = QWidget(self)
        self.summary = QLabel(body)
        self.summary.setObjectName("participantsSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.lower_button = QToolButton(body)
        self.lower_button.setObjectName("lowerHandButton")
        self.lower_button.setIcon(icon("raise-hand"))
        self.lower_button.setText(self.tr("Lower hand"))
        self.lower_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.lower_button.setToolTip(self.tr("Lower the selected person's hand"))
        self.lower_button.clicked.connect(self.lower_selected)

        header = QHBoxLayout()
        header.setContentsMargins(2, 0, 0, 0)
        header.addWidget(self.summary, 1)
        header.addWidget(self.lower_button)

        self.view = ParticipantListView(body)
        self.view.setModel(model)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().selectionChanged.connect(self._update)

        lay = QVBoxLayout(body)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(header)
        lay.addWidget(self.view, 1)
        self.setWidget(body)

        for signal in (
            model.modelReset,
            model.rowsInserted,
            model.rowsRemoved,
            model.rowsMoved,
            model.dataChanged,
        ):
            signal.connect(self._update)
        me.changed.connect(self._update)
        self._update()

    def _selected(self) -> Participant | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        p = rows[0].data(ParticipantRole.PARTICIPANT)
        return p if isinstance(p, Participant) else None

    def _may_lower(self, p: Participant | None) -> bool:
        if p is None or not p.hand_raised:
            return False
        return self._controller.is_host or p.id == self._model.me_id

    def _update(self, *_: object) -> None:
        n = self._model.rowCount()
        hands = self._model.raised_count
        text = plural(n, self.tr("%n in the meeting"), self.tr("%n in the meeting"))
        if hands:
            text += " · " + plural(hands, self.tr("%n hand raised"), self.tr("%n hands raised"))
        self.summary.setText(text)
        self.setWindowTitle(self.tr("Participants (%d)") % n if n else self.tr("Participants"))
        self.lower_button.setVisible(self._controller.is_host)
        self.lower_button.setEnabled(self._may_lower(self._selected()))

    def lower_selected(self) -> None:
        p = self._selected()
        if self._may_lower(p):
            assert p is not None
            self._controller.request_lower_hand(p.id)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        p = index.data(ParticipantRole.PARTICIPANT) if index.isValid() else None
        if not isinstance(p, Participant) or not self._may_lower(p):
            return
        menu = QMenu(self)
        menu.setObjectName("participantMenu")
        label = (
            self.tr("Lower my hand")
            if p.id == self._model.me_id
            else (self.tr("Lower %s's hand") % p.name)
        )
        pid = p.id
        menu.addAction(icon("raise-hand"), label, lambda: self._controller.request_lower_hand(pid))
        menu.popup(self.view.viewport().mapToGlobal(pos))
