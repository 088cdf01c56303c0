"""A Qt list model over :class:`ObservableRows`: the rows' own change reports become
Qt's begin/end calls, so the model never holds a copy of its own."""

from __future__ import annotations

import enum
from typing import Any, Generic, Protocol, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
Index = QModelIndex | QPersistentModelIndex


class RowSource(Protocol[T_co]):
    """Rows that report their own changes: ``ObservableRows``, ``ResourceLedger``."""

    def __len__(self) -> int: ...
    def __getitem__(self, row: int) -> T_co: ...
    def set_observer(self, observer: Any) -> None: ...


class RowListModel(QAbstractListModel, Generic[T]):
    """Base of the resource, participants, chat and polls models.

    Subclasses set ``roles`` (an ``IntEnum`` of custom roles) and implement
    :meth:`row_data`.

    Signals:
        count_changed(int): the number of rows, after every insert, remove or reset.
    """

    count_changed = Signal(int)
    roles: type[enum.IntEnum] | None = None

    def __init__(self, rows: RowSource[T], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = rows
        rows.set_observer(self)

    # -- Qt model API -------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._source)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0 or not 0 <= index.row() < len(self._source):
            return None
        return self.row_data(self._source[index.row()], role)

    def row_data(self, item: T, role: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        if self.roles is not None:
            names.update({int(r): QByteArray(r.name.lower().encode()) for r in self.roles})
        return names

    def item_at(self, row: int) -> T:
        return self._source[row]

    def emit_all_changed(self, roles: list[int] | None = None) -> None:
        """Every row's data changed (e.g. who is looking changed)."""
        if len(self._source):
            self.dataChanged.emit(self.index(0), self.index(len(self._source) - 1), roles or [])

    # -- RowObserver: the rows' changes, in Qt's terms -------------------------
    def rows_about_to_be_inserted(self, first: int, last: int) -> None:
        self.beginInsertRows(QModelIndex(), first, last)

    def rows_inserted(self) -> None:
        self.endInsertRows()
        self.count_changed.emit(len(self._source))

    def rows_about_to_be_removed(self, first: int, last: int) -> None:
        self.beginRemoveRows(QModelIndex(), first, last)

    def rows_removed(self) -> None:
        self.endRemoveRows()
        self.count_changed.emit(len(self._source))

    def row_about_to_be_moved(self, row: int, destination: int) -> None:
        ok = self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
        assert ok, f"invalid move {row} -> {destination}"

    def row_moved(self) -> None:
        self.endMoveRows()

    def rows_changed(self, first: int, last: int) -> None:
        self.dataChanged.emit(self.index(first), self.index(last), [])

    def about_to_reset(self) -> None:
        self.beginResetModel()

    def reset_done(self) -> None:
        self.endResetModel()
        self.count_changed.emit(len(self._source))
