"""The one Qt model of a meeting's shared files.

A thin adapter over :class:`ResourceLedger`: the ledger decides what the rows
are; this class only translates its row notifications into Qt's
begin/end calls. The Resources dock's list and the control bar's badge both
observe this one model, so they cannot disagree.
"""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from conference_gui.domain.resources import Resource, ResourceLedger
from conference_gui.domain.units import format_size

_Index = QModelIndex | QPersistentModelIndex


class ResourceRole(enum.IntEnum):
    RESOURCE = Qt.ItemDataRole.UserRole + 1  # the Resource object itself
    ID = enum.auto()
    NAME = enum.auto()
    SIZE = enum.auto()
    CONTENT_TYPE = enum.auto()
    UPLOADER_NAME = enum.auto()
    UPLOADED_AT = enum.auto()
    CAN_DELETE = enum.auto()


class ResourceListModel(QAbstractListModel):
    """Rows of the session's resources, newest first.

    Signals:
        count_changed(int): the number of rows, after every change (the badge's number).
    """

    count_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ledger = ResourceLedger(observer=self)
        self._viewer_id: str | None = None
        self._viewer_is_host = False

    # -- who is looking (decides CAN_DELETE) ---------------------------------
    def set_viewer(self, user_id: str, is_host: bool) -> None:
        if (user_id, is_host) == (self._viewer_id, self._viewer_is_host):
            return
        self._viewer_id, self._viewer_is_host = user_id, is_host
        if self.rowCount():
            self.dataChanged.emit(
                self.index(0), self.index(self.rowCount() - 1), [ResourceRole.CAN_DELETE]
            )

    def can_delete(self, resource: Resource) -> bool:
        return self._viewer_is_host or resource.uploaded_by.id == self._viewer_id

    # -- Qt model API -------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.ledger)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.ledger) or index.column() != 0:
            return None
        res = self.ledger[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return res.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{res.name}\n{format_size(res.size)} · {res.uploaded_by.name}"
        if role == ResourceRole.RESOURCE:
            return res
        if role == ResourceRole.ID:
            return res.id
        if role == ResourceRole.NAME:
            return res.name
        if role == ResourceRole.SIZE:
            return res.size
        if role == ResourceRole.CONTENT_TYPE:
            return res.content_type
        if role == ResourceRole.UPLOADER_NAME:
            return res.uploaded_by.name
        if role == ResourceRole.UPLOADED_AT:
            return res.uploaded_at
        if role == ResourceRole.CAN_DELETE:
            return self.can_delete(res)
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names.update({int(r): QByteArray(r.name.lower().encode()) for r in ResourceRole})
        return names

    def resource_at(self, row: int) -> Resource:
        return self.ledger[row]

    # -- LedgerObserver: the ledger's row changes, in Qt's terms ---------------
    def rows_about_to_be_inserted(self, first: int, last: int) -> None:
        self.beginInsertRows(QModelIndex(), first, last)

    def rows_inserted(self) -> None:
        self.endInsertRows()
        self.count_changed.emit(len(self.ledger))

    def rows_about_to_be_removed(self, first: int, last: int) -> None:
        self.beginRemoveRows(QModelIndex(), first, last)

    def rows_removed(self) -> None:
        self.endRemoveRows()
        self.count_changed.emit(len(self.ledger))

    def about_to_reset(self) -> None:
        self.beginResetModel()

    def reset_done(self) -> None:
        self.endResetModel()
        self.count_changed.emit(len(self.ledger))
