"""What can be shared (screens, windows), as a list model for the screen picker."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QObject, Qt

from conference_gui.media.exchange import FrameSlot
from conference_gui.models.row_model import Index
from conference_gui.services.media.screen import ScreenKind, ScreenSource


class SourceRole(enum.IntEnum):
    SOURCE = Qt.ItemDataRole.UserRole + 1  # the ScreenSource
    SOURCE_ID = Qt.ItemDataRole.UserRole + 2
    KIND = Qt.ItemDataRole.UserRole + 3  # "screen" / "window"
    DETAIL = Qt.ItemDataRole.UserRole + 4  # "1920×1080", "" for windows
    THUMBNAIL = Qt.ItemDataRole.UserRole + 5  # FrameSlot of its live thumbnail, or None


class ScreenSourceModel(QAbstractListModel):
    """Screens first (the primary first), then windows; rows keep their place by id.

    ``thumbnail_for(source id)`` gives the slot of a source's live thumbnail
    (:meth:`ScreenThumbnails.slot`), or the model has none.
    """

    def __init__(
        self,
        thumbnail_for: Callable[[str], FrameSlot] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._rows: list[ScreenSource] = []
        self._thumbnail_for = thumbnail_for

    # -- Qt model API -------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0 or not 0 <= index.row() < len(self._rows):
            return None
        s = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return s.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{s.title} — {s.detail}" if s.detail else s.title
        if role == Qt.ItemDataRole.AccessibleTextRole:
            what = "screen" if s.kind is ScreenKind.SCREEN else "window"
            return f"{s.title}, {what}" + (f", {s.detail}" if s.detail else "")
        if role == SourceRole.SOURCE:
            return s
        if role == SourceRole.SOURCE_ID:
            return s.id
        if role == SourceRole.KIND:
            return s.kind.value
        if role == SourceRole.DETAIL:
            return s.detail
        if role == SourceRole.THUMBNAIL:
            return self._thumbnail_for(s.id) if self._thumbnail_for is not None else None
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names.update({int(r): QByteArray(r.name.lower().encode()) for r in SourceRole})
        return names

    # -- keeping up -----------------------------------------------------------------------
    def sources(self) -> list[ScreenSource]:
        return list(self._rows)

    def source_at(self, row: int) -> ScreenSource:
        return self._rows[row]

    def row_of(self, source_id: str) -> int:
        return next((i for i, s in enumerate(self._rows) if s.id == source_id), -1)

    def set_sources(self, sources: Sequence[ScreenSource]) -> None:
        """Show ``sources``: rows that went are removed, new ones inserted in order,
        the others updated in place (so the selection stays where it was)."""
        wanted = list(sources)
        ids = {s.id for s in wanted}
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].id not in ids:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        for row, source in enumerate(wanted):
            at = self.row_of(source.id)
            if at == row:
                if self._rows[row] != source or self._rows[row].native is not source.native:
                    self._rows[row] = source
                    self.dataChanged.emit(self.index(row), self.index(row))
                continue
            if at > row:  # further down: the rows in between go (they are not wanted here)
                self.beginMoveRows(QModelIndex(), at, at, QModelIndex(), row)
                self._rows.insert(row, self._rows.pop(at))
                self.endMoveRows()
                self._rows[row] = source
                self.dataChanged.emit(self.index(row), self.index(row))
                continue
            self.beginInsertRows(QModelIndex(), row, row)
            self._rows.insert(row, source)
            self.endInsertRows()
