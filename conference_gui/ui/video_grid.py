"""The call's stage (objectName ``videoGrid``): every tile, laid out to fit.

The grid renders the stage model — one :class:`VideoTile` per row — and
repaints a tile when its slot has a newer picture. It learns about new
pictures from a :class:`FrameWaker`: the producing thread (the call engine,
a camera) pokes it, and at most one wake-up is queued to the GUI thread at a
time however many pictures arrive, so a busy GUI thread sees the newest
picture of each tile and never a backlog.

Two layouts: the grid (everyone the same size) and the speaker view (the
active speaker, or the one you pinned, large; the others in a strip).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import Property, QCoreApplication, QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from conference_gui.domain.stage import SCREEN, Cell, Tile, grid_cells
from conference_gui.media.exchange import FrameSlot
from conference_gui.models.call_model import StageModel, TileRole
from conference_gui.ui.video_tile import VideoTile

_WAKE = QEvent.Type(QEvent.registerEventType())

GRID = "grid"
SPEAKER = "speaker"


class FrameWaker(QObject):
    """Turns "a picture arrived" on any thread into one signal on the GUI thread.

    Signals:
        woken(): pictures arrived since the last wake-up.
    """

    woken = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending = False
        self._closed = False

    def poke(self) -> None:
        """Any thread: queue a wake-up unless one is already queued."""
        with self._lock:
            if self._pending or self._closed:
                return
            self._pending = True
            QCoreApplication.postEvent(self, QEvent(_WAKE))

    def close(self) -> None:
        """No more wake-ups (before this object goes away)."""
        with self._lock:
            self._closed = True

    def event(self, event: QEvent) -> bool:
        if event.type() == _WAKE:
            with self._lock:
                self._pending = False
            self.woken.emit()
            return True
        return super().event(event)


SlotFor = Callable[[Tile], FrameSlot | None]


class VideoGrid(QWidget):
    """Renders the stage model as tiles.

    ``slot_for(tile)`` gives the picture slot of a tile (yours: the camera's;
    others': the engine's). Properties: ``callMode`` ("mesh" / "sfu"),
    ``layoutMode`` ("grid" / "speaker").

    Signals:
        pin_requested(str participant id): a tile was double-clicked.
    """

    pin_requested = Signal(str)

    def __init__(self, model: StageModel, slot_for: SlotFor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoGrid")
        self.setAccessibleName(self.tr("Call"))
        self._model = model
        self._slot_for = slot_for
        self._tiles: dict[tuple[str, str], VideoTile] = {}
        self._mode = "mesh"
        self._layout = GRID
        self._focus: str | None = None  # speaker view: whose tile is large
        self.waker = FrameWaker(self)
        self.waker.woken.connect(self._refresh_pictures)
        self._poke = self.waker.poke  # one object, so the slots can forget it again
        self.notice = QLabel(self)
        self.notice.setObjectName("callNotice")
        self.notice.setWordWrap(True)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setStyleSheet(
            "QLabel#callNotice { background: rgba(0,0,0,170); color: white;"
            " border-radius: 6px; padding: 6px 10px; }"
        )
        self.notice.hide()
        self._notices: dict[str, str] = {}
        #: a button under the notice, for a notice one can act on ("Use this window")
        self.notice_button = QPushButton(self)
        self.notice_button.setObjectName("callNoticeButton")
        self.notice_button.hide()
        # "You are sharing your screen" with Stop: a bar across the top of the stage.
        self.sharing_bar = QWidget(self)
        self.sharing_bar.setObjectName("sharingBar")
        self.sharing_bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.sharing_bar.setStyleSheet(
            "QWidget#sharingBar { background: #1a73e8; border-radius: 6px; }"
            " QLabel { color: white; font-weight: 600; }"
        )
        self.sharing_label = QLabel(self.sharing_bar)
        self.sharing_label.setObjectName("sharingLabel")
        self.sharing_stop_button = QPushButton(self.tr("Stop sharing"), self.sharing_bar)
        self.sharing_stop_button.setObjectName("stopSharingButton")
        bar = QHBoxLayout(self.sharing_bar)
        bar.setContentsMargins(12, 4, 4, 4)
        bar.addWidget(self.sharing_label, 1)
        bar.addWidget(self.sharing_stop_button)
        self.sharing_bar.hide()
        self.hint = QLabel(self)
        self.hint.setObjectName("callHint")
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet(
            "QLabel#callHint { background: #f2b233; color: #1b1c1f; font-weight: 600;"
            " border-radius: 14px; padding: 6px 14px; }"
        )
        self.hint.hide()
        # A dark stage, as in meeting apps: pictures and initials stand out on it.
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet("QWidget#videoGrid { background: #1b1c1f; }")
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.rowsMoved):
            signal.connect(self._rebuild)
        model.dataChanged.connect(self._on_data_changed)
        self._rebuild()

    # -- properties -------------------------------------------------------------------
    def _get_mode(self) -> str:
        return self._mode

    def _get_layout(self) -> str:
        return self._layout

    callMode = Property(str, _get_mode)
    layoutMode = Property(str, _get_layout)

    def set_call_mode(self, mode: str) -> None:
        self._mode = mode

    def set_layout_mode(self, layout: str) -> None:
        if layout not in (GRID, SPEAKER):
            raise ValueError(layout)
        if layout != self._layout:
            self._layout = layout
            self._place()

    def set_focus_participant(self, participant_id: str | None) -> None:
        """Whose tile the speaker view shows large (their screen, if they share one)."""
        if participant_id != self._focus:
            self._focus = participant_id
            if self._layout == SPEAKER:
                self._place()

    def tiles(self) -> list[VideoTile]:
        """The tiles in stage order."""
        out = []
        for row in range(self._model.rowCount()):
            tile = self._model.index(row).data(TileRole.TILE)
            if isinstance(tile, Tile) and tile.key in self._tiles:
                out.append(self._tiles[tile.key])
        return out

    def tile(self, participant_id: str, source: str = "camera") -> VideoTile | None:
        return self._tiles.get((participant_id, source))

    #: Which notice wins when several apply (first listed first).
    NOTICE_ORDER = ("elsewhere", "crowded", "uplink", "camera", "screen")

    def set_notice(self, key: str, text: str) -> None:
        """Set (or clear, with "") one of the stage's notices; the most important shows."""
        if text:
            self._notices[key] = text
        else:
            self._notices.pop(key, None)
        order = [k for k in self.NOTICE_ORDER if k in self._notices]
        order += [k for k in self._notices if k not in order]
        shown = self._notices[order[0]] if order else ""
        self.notice.setText(shown)
        self.notice.setVisible(bool(shown))
        self.notice.setAccessibleName(shown)
        self._place_notice()

    def set_notice_button(self, text: str) -> None:
        """Show (or hide, with "") a button under the notice; connect to its ``clicked``."""
        self.notice_button.setText(text)
        self.notice_button.setVisible(bool(text))
        self._place_notice()

    def set_sharing_bar(self, text: str) -> None:
        """Show (or hide, with "") the bar that says you are sharing, with its Stop."""
        self.sharing_label.setText(text)
        self.sharing_bar.setAccessibleName(text)
        self.sharing_bar.setVisible(bool(text))
        self._place_notice()

    def set_hint(self, text: str) -> None:
        """A passing hint at the bottom of the stage ("You're talking while muted")."""
        self.hint.setText(text)
        self.hint.setAccessibleName(text)
        self.hint.setVisible(bool(text))
        self._place_notice()

    # -- following the model --------------------------------------------------------------
    def _rebuild(self, *_: object) -> None:
        wanted: dict[tuple[str, str], Tile] = {}
        for row in range(self._model.rowCount()):
            tile = self._model.index(row).data(TileRole.TILE)
            if isinstance(tile, Tile):
                wanted[tile.key] = tile
        for key in [k for k in self._tiles if k not in wanted]:
            gone = self._tiles.pop(key)
            old_slot = self._slot_for(gone.tile)
            if old_slot is not None:
                old_slot.remove_listener(self._poke)
            gone.hide()
            gone.deleteLater()
        for key, tile in wanted.items():
            existing = self._tiles.get(key)
            if existing is not None:
                existing.set_tile(tile)
                continue
            slot = self._slot_for(tile)
            # "remote": the slot's producer scales to the tile's size (others' pictures,
            # and your own shared screen); your camera is scaled when painted.
            widget = VideoTile(tile, slot, remote=not tile.is_self or tile.source == SCREEN,
                               parent=self)
            widget.activated.connect(self.pin_requested)
            if slot is not None:
                slot.add_listener(self._poke)
            self._tiles[key] = widget
            widget.show()
        self._place()

    def _on_data_changed(self, first: QModelIndex, last: QModelIndex, *_: object) -> None:
        for row in range(first.row(), last.row() + 1):
            tile = self._model.index(row).data(TileRole.TILE)
            if isinstance(tile, Tile) and tile.key in self._tiles:
                self._tiles[tile.key].set_tile(tile)

    def _refresh_pictures(self) -> None:
        for widget in self._tiles.values():
            widget.refresh()

    def set_levels(self, level: Callable[[str], float], speaking: Callable[[str], bool]) -> None:
        for widget in self._tiles.values():
            pid = widget.tile.participant_id
            widget.set_level(level(pid), speaking(pid))

    # -- layout ------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place()

    def _place(self) -> None:
        tiles = self.tiles()
        if self._layout == SPEAKER and len(tiles) > 1:
            self._place_speaker(tiles)
        else:
            for widget, cell in zip(tiles, grid_cells(len(tiles), self.width(), self.height()),
                                    strict=True):
                _put(widget, cell)
        self._place_notice()

    def _place_speaker(self, tiles: list[VideoTile]) -> None:
        big = self._big_tile(tiles)
        others = [t for t in tiles if t is not big]
        strip_h = max(60, min(160, self.height() // 5))
        main_cells = grid_cells(1, self.width(), self.height() - strip_h)
        _put(big, main_cells[0])
        top = self.height() - strip_h
        for widget, cell in zip(others, grid_cells(len(others), self.width(), strip_h),
                                strict=True):
            _put(widget, Cell(cell.x, top + cell.y, cell.width, cell.height))

    def _big_tile(self, tiles: list[VideoTile]) -> VideoTile:
        """The focus's screen, else the focus, else the first screen, else the first other."""
        focus = self._focus
        candidates: list[Callable[[Tile], bool]] = [
            lambda t: t.participant_id == focus and t.source == SCREEN,
            lambda t: t.participant_id == focus,
            lambda t: t.source == SCREEN,
            lambda t: not t.is_self,
        ]
        for wanted in candidates:
            found = next((w for w in tiles if wanted(w.tile)), None)
            if found is not None:
                return found
        return tiles[0]

    def _place_notice(self) -> None:
        if self.sharing_bar.isVisible():
            width = min(self.width() - 24, 460)
            self.sharing_bar.setFixedWidth(max(200, width))
            self.sharing_bar.adjustSize()
            self.sharing_bar.move((self.width() - self.sharing_bar.width()) // 2, 12)
            self.sharing_bar.raise_()
        top = self.sharing_bar.geometry().bottom() + 8 if self.sharing_bar.isVisible() else 12
        if self.notice.isVisible():
            width = min(self.width() - 40, 520)
            self.notice.setFixedWidth(max(100, width))
            self.notice.adjustSize()
            self.notice.move((self.width() - self.notice.width()) // 2, top)
            self.notice.raise_()
        if self.notice_button.isVisible():
            self.notice_button.adjustSize()
            below = self.notice.geometry().bottom() + 8 if self.notice.isVisible() else top
            self.notice_button.move((self.width() - self.notice_button.width()) // 2, below)
            self.notice_button.raise_()
        if self.hint.isVisible():
            self.hint.adjustSize()
            self.hint.move((self.width() - self.hint.width()) // 2,
                           self.height() - self.hint.height() - 16)
            self.hint.raise_()

    def detach(self) -> None:
        """Stop listening to the slots (before the producers or this widget go away)."""
        self.waker.close()
        for widget in self._tiles.values():
            slot = self._slot_for(widget.tile)
            if slot is not None:
                slot.remove_listener(self._poke)


def _put(widget: QWidget, cell: Cell) -> None:
    widget.setGeometry(cell.x, cell.y, cell.width, cell.height)
