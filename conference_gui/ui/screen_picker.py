"""The screen picker: choose a screen or a window to share, with live thumbnails.

A dialog (objectName ``screenPicker``) over :class:`ScreenSourceModel`:
screens first (the primary one selected), then windows, each with a small
live picture. The thumbnails are grabbed and scaled on the device thread by
:class:`ScreenThumbnails` (one source at a time, a few times a second each);
this dialog only paints the newest one, woken when it arrives. The default
button (``shareButton``) shares the selected source, which is the primary
screen until the person picks another (SPEC section 3): Enter shares it.
The list is read again every two seconds, so windows opened or closed
meanwhile come and go.
"""

from __future__ import annotations

from PySide6.QtCore import (
    Property,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from conference_gui.media.exchange import FrameSlot
from conference_gui.models.screen_sources import ScreenSourceModel, SourceRole
from conference_gui.services.media.screen import ScreenCapture, ScreenSource, ScreenThumbnails
from conference_gui.ui.video_grid import FrameWaker

#: Thumbnail size on screen (logical pixels; the pictures are grabbed at up to 320×180).
THUMB = QSize(224, 126)
CAPTION = 40
PAD = 8
REFRESH_MS = 2000

Index = QModelIndex | QPersistentModelIndex


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints a source: its newest thumbnail (fitted, not cropped), title and detail."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shown: dict[int, int] = {}  # id(slot) → seq painted last
        self.pictures_painted = 0  # thumbnails painted that were new

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(THUMB.width() + 2 * PAD, THUMB.height() + CAPTION + 2 * PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        rect: QRect = option.rect
        state = option.state
        palette: QPalette = option.palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(rect).adjusted(2, 2, -2, -2), 8, 8)
        box = QRectF(rect.x() + PAD, rect.y() + PAD, THUMB.width(), THUMB.height())
        painter.fillRect(box, QColor("#2a2c31"))
        slot = index.data(SourceRole.THUMBNAIL)
        if isinstance(slot, FrameSlot):
            self._paint_picture(painter, slot, box)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        font = painter.font()
        font.setBold(selected)
        painter.setFont(font)
        fm = painter.fontMetrics()
        title_rect = QRect(rect.x() + PAD, int(box.bottom()) + 4, THUMB.width(), fm.height())
        title = fm.elidedText(str(index.data(Qt.ItemDataRole.DisplayRole) or ""),
                              Qt.TextElideMode.ElideRight, title_rect.width())
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignHCenter, title)
        detail = str(index.data(SourceRole.DETAIL) or "")
        if detail:
            font.setBold(False)
            font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
            painter.setFont(font)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            detail_rect = title_rect.translated(0, fm.height())
            painter.drawText(detail_rect, Qt.AlignmentFlag.AlignHCenter,
                             painter.fontMetrics().elidedText(
                                 detail, Qt.TextElideMode.ElideRight, detail_rect.width()))
        painter.restore()

    def _paint_picture(self, painter: QPainter, slot: FrameSlot, box: QRectF) -> None:
        seq, picture = slot.latest()
        if picture is None:
            return
        if self._shown.get(id(slot)) != seq:
            self._shown[id(slot)] = seq
            self.pictures_painted += 1
        pixels = picture.pixels  # kept alive by this frame while the QImage is drawn
        image = QImage(pixels.data, picture.width, picture.height, pixels.strides[0],
                       QImage.Format.Format_RGB32)
        scale = min(box.width() / picture.width, box.height() / picture.height)
        w, h = picture.width * scale, picture.height * scale
        target = QRectF(box.x() + (box.width() - w) / 2, box.y() + (box.height() - h) / 2, w, h)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, image)


class ScreenPicker(QDialog):
    """Choose what to share. :attr:`chosen` is set when the dialog is accepted.

    Properties (for tests): ``thumbnailsPainted`` (int: new thumbnail pictures
    painted so far).

    Signals:
        source_chosen(object ScreenSource): the person pressed Share (or
            double-clicked a source); emitted before ``accepted``.
    """

    source_chosen = Signal(object)

    def __init__(self, screen: ScreenCapture, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screenPicker")
        self.setWindowTitle(self.tr("Share your screen"))
        self._screen = screen
        self._thumbnails = screen.thumbnails
        self.chosen: ScreenSource | None = None
        support = screen.support()

        self.model = ScreenSourceModel(self._thumbnails.slot, self)
        self.list = QListView(self)
        self.list.setObjectName("screenPickerList")
        self.list.setAccessibleName(self.tr("Screens and windows"))
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setSpacing(4)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.delegate = ThumbnailDelegate(self.list)
        self.list.setItemDelegate(self.delegate)
        self.list.setModel(self.model)
        self.list.doubleClicked.connect(self._share_index)
        self.list.setMinimumSize(3 * (THUMB.width() + 2 * PAD) + 40,
                                 2 * (THUMB.height() + CAPTION + 2 * PAD) + 20)

        self.note = QLabel(support.note, self)
        self.note.setObjectName("screenPickerNote")
        self.note.setWordWrap(True)
        self.note.setVisible(bool(support.note))

        buttons = QDialogButtonBox(self)
        self.share_button = buttons.addButton(self.tr("Share"),
                                              QDialogButtonBox.ButtonRole.AcceptRole)
        self.share_button.setObjectName("shareButton")
        self.share_button.setDefault(True)
        self.share_button.setAutoDefault(True)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)
        buttons.accepted.connect(self._share_selected)
        buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.note)
        lay.addWidget(buttons)

        self._waker = FrameWaker(self)
        self._waker.woken.connect(self.list.viewport().update)
        self._watched: dict[str, FrameSlot] = {}
        # Deleted without closing (with a parent window): stop the grabbing anyway.
        thumbnails, watched, waker = self._thumbnails, self._watched, self._waker
        self.destroyed.connect(lambda *_: _stop_watching(thumbnails, watched, waker))
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.refresh()
        self._select_row(0)  # the primary screen
        self.list.setFocus(Qt.FocusReason.OtherFocusReason)
        self._timer.start()

    def _thumbnails_painted(self) -> int:
        return self.delegate.pictures_painted

    thumbnailsPainted = Property(int, _thumbnails_painted)

    # -- keeping the list -----------------------------------------------------------------
    def refresh(self) -> None:
        """Read the screens and windows again; thumbnails follow the new list."""
        sources = self._screen.sources(exclude_titles={self.windowTitle()})
        self.model.set_sources(sources)
        self._thumbnails.watch(sources)
        slots = {s.id: self._thumbnails.slot(s.id) for s in sources}
        for source_id, slot in list(self._watched.items()):
            if slots.get(source_id) is not slot:
                slot.remove_listener(self._waker.poke)
                del self._watched[source_id]
        for source_id, slot in slots.items():
            if source_id not in self._watched:
                slot.add_listener(self._waker.poke)
                self._watched[source_id] = slot
        if not self.list.currentIndex().isValid() and self.model.rowCount():
            self._select_row(0)

    def _select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.list.selectionModel().setCurrentIndex(
                self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    # -- choosing ---------------------------------------------------------------------------
    def _share_selected(self) -> None:
        index = self.list.currentIndex()
        if not index.isValid() and self.model.rowCount():
            index = self.model.index(0)
        self._share_index(index)

    def _share_index(self, index: QModelIndex) -> None:
        if self.chosen is not None or not index.isValid():
            return
        source = index.data(SourceRole.SOURCE)
        if not isinstance(source, ScreenSource):
            return
        self.chosen = source
        self.source_chosen.emit(source)
        self.accept()

    def done(self, result: int) -> None:
        """Stop the thumbnails and the listing whichever way the dialog closes."""
        self._timer.stop()
        _stop_watching(self._thumbnails, self._watched, self._waker)
        super().done(result)


def _stop_watching(
    thumbnails: ScreenThumbnails, watched: dict[str, FrameSlot], waker: FrameWaker
) -> None:
    thumbnails.stop()
    for slot in watched.values():
        slot.remove_listener(waker.poke)
    watched.clear()
    waker.close()
