"""The call's stage: which tiles there are, in what order, and how they fit a window.

One tile per participant (yourself included) and a second tile for each
participant who shares a screen (SPEC section 3). The tile list changes by
single inserts, removals and replacements, so the widgets showing it (and the
video they paint) stay put when someone else comes or goes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from conference_gui.domain.call import MediaState
from conference_gui.domain.meeting import Participant
from conference_gui.domain.rows import ObservableRows

CAMERA = "camera"
SCREEN = "screen"


@dataclass(frozen=True, slots=True)
class Tile:
    """What one tile shows, apart from its picture and its sound level."""

    participant_id: str
    source: str  # CAMERA or SCREEN
    name: str
    is_self: bool
    mic_on: bool
    camera_on: bool
    hand_raised: bool
    is_host: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.participant_id, self.source)

    @property
    def initials(self) -> str:
        return initials(self.name)


def initials(name: str) -> str:
    """Up to two letters for a tile whose camera is off: "Ann Lee" → "AL", "bob" → "B"."""
    words = [w for w in name.replace("_", " ").replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def tiles_for(
    participants: Iterable[Participant], me_id: str, me_media: MediaState | None = None
) -> list[Tile]:
    """The tiles in stage order: you first, then the others as listed; a shared
    screen right after its sharer's camera tile.

    ``me_media`` is what this window sends right now: for our own tile it is
    the truth before the server has echoed it back.
    """
    people = list(participants)
    people.sort(key=lambda p: p.id != me_id)  # stable: keeps the roster's order otherwise
    out: list[Tile] = []
    for p in people:
        is_self = p.id == me_id
        media = me_media if is_self and me_media is not None else p.media
        base = Tile(p.id, CAMERA, p.name, is_self, media.audio, media.video, p.hand_raised,
                    p.is_host)
        out.append(base)
        if media.screen:
            out.append(
                Tile(p.id, SCREEN, p.name, is_self, media.audio, True, p.hand_raised, p.is_host)
            )
    return out


class Stage(ObservableRows[Tile]):
    """The tiles on the stage; :meth:`show` changes them by the fewest row changes."""

    def show(self, wanted: list[Tile]) -> None:
        wanted_keys = [t.key for t in wanted]
        keep = set(wanted_keys)
        # Remove tiles that are gone (from the end, so indexes stay valid).
        for row in range(len(self) - 1, -1, -1):
            if self[row].key not in keep:
                self._remove_row(row)
        # Insert, move or update the rest into place, front to back.
        for target, tile in enumerate(wanted):
            current = [t.key for t in self]
            if target < len(current) and current[target] == tile.key:
                if self[target] != tile:
                    self._replace_row(target, tile)
                continue
            if tile.key in current:
                self._move_row(current.index(tile.key), target, tile)
            else:
                self._insert_rows(target, [tile])

    def find(self, key: tuple[str, str]) -> int:
        for row, tile in enumerate(self):
            if tile.key == key:
                return row
        return -1


@dataclass(frozen=True, slots=True)
class Cell:
    x: int
    y: int
    width: int
    height: int


def grid_cells(
    count: int, width: int, height: int, *, aspect: float = 16 / 9, gap: int = 8
) -> list[Cell]:
    """Lay ``count`` tiles of the given aspect ratio out in ``width`` × ``height``.

    Picks the number of columns that makes the tiles largest, then centres the
    grid (the last row centred too, as meeting apps do).
    """
    if count <= 0 or width <= 0 or height <= 0:
        return []
    best: tuple[float, int, int, float, float] | None = None
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        cell_w = (width - gap * (cols + 1)) / cols
        cell_h = (height - gap * (rows + 1)) / rows
        if cell_w <= 0 or cell_h <= 0:
            continue
        tile_w = min(cell_w, cell_h * aspect)
        tile_h = tile_w / aspect
        if best is None or tile_w > best[0] + 0.5:
            best = (tile_w, cols, rows, tile_w, tile_h)
    if best is None:
        return [Cell(0, 0, max(1, width), max(1, height)) for _ in range(count)]
    _, cols, rows, tile_w, tile_h = best
    grid_h = rows * tile_h + (rows - 1) * gap
    top = (height - grid_h) / 2
    cells = []
    for i in range(count):
        row, col = divmod(i, cols)
        in_row = min(cols, count - row * cols)
        row_w = in_row * tile_w + (in_row - 1) * gap
        left = (width - row_w) / 2
        cells.append(
            Cell(
                round(left + col * (tile_w + gap)),
                round(top + row * (tile_h + gap)),
                round(tile_w),
                round(tile_h),
            )
        )
    return cells
