"""Ordered rows that tell an observer about every change, in a list model's terms.

The participants roster, the chat history and the poll book keep their rows in
plain Python and report each change through :class:`RowObserver`; the Qt
models translate those calls into ``beginInsertRows`` & co. No Qt here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")


class RowObserver(Protocol):
    """Told about every row change, before and after, like a Qt list model needs."""

    def rows_about_to_be_inserted(self, first: int, last: int) -> None: ...
    def rows_inserted(self) -> None: ...
    def rows_about_to_be_removed(self, first: int, last: int) -> None: ...
    def rows_removed(self) -> None: ...
    def row_about_to_be_moved(self, row: int, destination: int) -> None: ...
    def row_moved(self) -> None: ...
    def rows_changed(self, first: int, last: int) -> None: ...
    def about_to_reset(self) -> None: ...
    def reset_done(self) -> None: ...


class ObservableRows(Generic[T]):
    """A list of rows whose every mutation goes through the observer.

    ``destination`` of a move follows Qt's ``beginMoveRows`` convention: the
    row *before which* the moved row lands, counted before the move.
    """

    def __init__(self, observer: RowObserver | None = None) -> None:
        self._rows: list[T] = []
        self._observer = observer

    def set_observer(self, observer: RowObserver | None) -> None:
        self._observer = observer

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, row: int) -> T:
        return self._rows[row]

    def __iter__(self) -> Iterator[T]:
        return iter(self._rows)

    # -- mutations, each reported ---------------------------------------------
    def _insert_rows(self, row: int, items: list[T]) -> None:
        if not items:
            return
        obs = self._observer
        if obs:
            obs.rows_about_to_be_inserted(row, row + len(items) - 1)
        self._rows[row:row] = items
        if obs:
            obs.rows_inserted()

    def _remove_row(self, row: int) -> T:
        obs = self._observer
        if obs:
            obs.rows_about_to_be_removed(row, row)
        item = self._rows.pop(row)
        if obs:
            obs.rows_removed()
        return item

    def _replace_row(self, row: int, item: T) -> None:
        self._rows[row] = item
        if self._observer:
            self._observer.rows_changed(row, row)

    def _move_row(self, source: int, target: int, item: T) -> None:
        """Replace the row at ``source`` with ``item`` and move it to final index ``target``."""
        if source == target:
            self._replace_row(source, item)
            return
        obs = self._observer
        destination = target + 1 if target > source else target
        if obs:
            obs.row_about_to_be_moved(source, destination)
        del self._rows[source]
        self._rows.insert(target, item)
        if obs:
            obs.row_moved()
            obs.rows_changed(target, target)

    def _reset_rows(self, rows: list[T]) -> None:
        obs = self._observer
        if obs:
            obs.about_to_reset()
        self._rows = rows
        if obs:
            obs.reset_done()
