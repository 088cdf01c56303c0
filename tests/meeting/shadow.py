"""A RowObserver that replays every reported change on a plain list, so a test can
check that the reports alone rebuild exactly the rows (what a Qt view relies on)."""

from __future__ import annotations

from typing import Any


class ShadowObserver:
    def __init__(self, rows: Any) -> None:
        self.rows = rows  # the ObservableRows under test
        self.shadow: list[Any] = []
        self.pending: tuple[Any, ...] | None = None
        self.log: list[str] = []

    def _begin(self, *what: Any) -> None:
        assert self.pending is None, f"nested change {what} inside {self.pending}"
        self.pending = what

    def _end(self, kind: str) -> tuple[Any, ...]:
        assert self.pending is not None and self.pending[0] == kind, (kind, self.pending)
        what, self.pending = self.pending, None
        return what

    def rows_about_to_be_inserted(self, first: int, last: int) -> None:
        assert 0 <= first <= len(self.shadow) and last >= first
        self._begin("insert", first, last)

    def rows_inserted(self) -> None:
        _, first, last = self._end("insert")
        self.shadow[first:first] = [self.rows[i] for i in range(first, last + 1)]
        self.log.append(f"insert {first}-{last}")

    def rows_about_to_be_removed(self, first: int, last: int) -> None:
        assert 0 <= first <= last < len(self.shadow)
        self._begin("remove", first, last)

    def rows_removed(self) -> None:
        _, first, last = self._end("remove")
        del self.shadow[first : last + 1]
        self.log.append(f"remove {first}-{last}")

    def row_about_to_be_moved(self, row: int, destination: int) -> None:
        # Qt's rule: destination is not row or row + 1 (that would be no move).
        assert 0 <= row < len(self.shadow) and 0 <= destination <= len(self.shadow)
        assert destination not in (row, row + 1), (row, destination)
        self._begin("move", row, destination)

    def row_moved(self) -> None:
        _, row, destination = self._end("move")
        item = self.shadow.pop(row)
        self.shadow.insert(destination - 1 if destination > row else destination, item)
        self.log.append(f"move {row}->{destination}")

    def rows_changed(self, first: int, last: int) -> None:
        assert self.pending is None
        for i in range(first, last + 1):
            self.shadow[i] = self.rows[i]
        self.log.append(f"change {first}-{last}")

    def about_to_reset(self) -> None:
        self._begin("reset")

    def reset_done(self) -> None:
        self._end("reset")
        self.shadow = list(self.rows)
        self.log.append("reset")

    def check(self) -> None:
        assert self.pending is None
        assert self.shadow == list(self.rows)
