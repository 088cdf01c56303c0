"""Filter-as-you-type and sorting for the Resources dock, and the "new" count.

Both sit on top of the one :class:`ResourceListModel`; neither keeps a copy of
the rows.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)

from conference_gui.models.resource_model import ResourceListModel, ResourceRole

_Index = QModelIndex | QPersistentModelIndex


class SortOrder(enum.StrEnum):
    NEWEST = "newest"
    NAME = "name"
    SIZE = "size"


class ResourceFilterModel(QSortFilterProxyModel):
    """What the dock's list shows: the model, filtered by name and sorted."""

    def __init__(self, source: ResourceListModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterRole(ResourceRole.NAME)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)
        self._order = SortOrder.NEWEST
        self._sort()

    @property
    def order(self) -> SortOrder:
        return self._order

    def set_order(self, order: SortOrder) -> None:
        self._order = SortOrder(order)
        self.invalidate()
        self._sort()

    def _sort(self) -> None:
        # Newest first is the source's own order: column -1 keeps it without sorting.
        # (Sorting anyway costs a Python lessThan per comparison: ~0.6 s for 10k rows.)
        column = -1 if self._order is SortOrder.NEWEST else 0
        self.sort(column, Qt.SortOrder.AscendingOrder)

    def set_filter_text(self, text: str) -> None:
        self.setFilterFixedString(text.strip())

    def lessThan(self, left: _Index, right: _Index) -> bool:
        if self._order is SortOrder.NAME:
            a, b = (
                str(left.data(ResourceRole.NAME)).casefold(),
                str(right.data(ResourceRole.NAME)).casefold(),
            )
            if a != b:
                return a < b
        elif self._order is SortOrder.SIZE:
            sa, sb = int(left.data(ResourceRole.SIZE)), int(right.data(ResourceRole.SIZE))
            if sa != sb:
                return sa > sb  # largest first
        # The source is newest first already: its row order is the tie-breaker.
        return left.row() < right.row()


class UnseenResources(QObject):
    """Counts files others shared since the person last looked at the dock.

    Signals:
        changed(int): the number of unseen files.
    """

    changed = Signal(int)

    def __init__(
        self, model: ResourceListModel, me_id: str | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._me: str | None = me_id
        self._watching = False
        self._seen: set[str] = set()
        self._unseen: set[str] = set()
        model.rowsInserted.connect(self._on_inserted)
        model.rowsAboutToBeRemoved.connect(self._on_removing)
        model.modelReset.connect(self._on_reset)

    @property
    def count(self) -> int:
        return len(self._unseen)

    def set_me(self, user_id: str) -> None:
        self._me = user_id

    def set_watching(self, watching: bool) -> None:
        """The dock is visible (``True``): everything listed counts as seen."""
        self._watching = watching
        if watching:
            self.mark_all_seen()

    def mark_all_seen(self) -> None:
        ledger = self._model.ledger
        self._seen.update(ledger[i].id for i in range(len(ledger)))
        self._set_unseen(set())

    def _consider(self, first: int, last: int) -> set[str]:
        ledger = self._model.ledger
        fresh = set()
        for row in range(first, last + 1):
            res = ledger[row]
            if self._watching or res.uploaded_by.id == self._me:
                self._seen.add(res.id)
            elif res.id not in self._seen:
                fresh.add(res.id)
        return fresh

    def _on_inserted(self, _parent: _Index, first: int, last: int) -> None:
        fresh = self._consider(first, last)
        if fresh:
            self._set_unseen(self._unseen | fresh)

    def _on_removing(self, _parent: _Index, first: int, last: int) -> None:
        ledger = self._model.ledger
        gone = {ledger[row].id for row in range(first, last + 1)}
        if gone & self._unseen:
            self._set_unseen(self._unseen - gone)

    def _on_reset(self) -> None:
        n = len(self._model.ledger)
        self._set_unseen(self._consider(0, n - 1) if n else set())

    def _set_unseen(self, unseen: set[str]) -> None:
        changed = len(unseen) != len(self._unseen)
        self._unseen = unseen
        if changed:
            self.changed.emit(len(unseen))
