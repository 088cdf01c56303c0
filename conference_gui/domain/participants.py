"""Who is in the meeting, in the order a participants list shows them.

Raised hands come first, in the order they were raised (first raised, first
asked); then the host; then everyone else by name. The roster is keyed by id,
so a repeated ``participant-joined`` never lists anyone twice, and an
``update`` of someone not yet listed adds them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime

from conference_gui.domain.meeting import Participant
from conference_gui.domain.rows import ObservableRows, RowObserver

SortKey = tuple[int, float, int, str, str, str]


def utc_now() -> datetime:
    return datetime.now(UTC)


def sort_key(p: Participant) -> SortKey:
    """Raised hands by raise time, then the host, then names (case-insensitive)."""
    raised_at = p.hand_raised_at.timestamp() if p.hand_raised and p.hand_raised_at else 0.0
    return (
        0 if p.hand_raised else 1,
        raised_at,
        0 if p.is_host else 1,
        p.name.casefold(),
        p.name,
        p.id,
    )


class ParticipantRoster(ObservableRows[Participant]):
    """The client's list of participants, always in :func:`sort_key` order.

    ``clock`` stamps a raised hand whose event carries no ``handRaisedAt``
    (an older server), so ordering by raise time still works.
    """

    def __init__(
        self, observer: RowObserver | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(observer)
        self._by_id: dict[str, Participant] = {}
        self._clock = clock

    # -- reading ------------------------------------------------------------
    def __contains__(self, participant_id: object) -> bool:
        return participant_id in self._by_id

    def get(self, participant_id: str) -> Participant | None:
        return self._by_id.get(participant_id)

    def row_of(self, participant_id: str) -> int | None:
        p = self._by_id.get(participant_id)
        if p is None:
            return None
        return bisect.bisect_left(self._rows, sort_key(p), key=sort_key)

    def raised_hands(self) -> list[Participant]:
        """Raised hands, first raised first."""
        return [p for p in self._rows if p.hand_raised]

    # -- changes ------------------------------------------------------------
    def reset(self, participants: Iterable[Participant]) -> None:
        """Replace everyone (from a ``join-session`` ack): no ghosts survive a reconnect."""
        by_id: dict[str, Participant] = {}
        for p in participants:
            by_id[p.id] = self._normalize(p, self._by_id.get(p.id))
        self._by_id = by_id
        self._reset_rows(sorted(by_id.values(), key=sort_key))

    def upsert(self, participant: Participant) -> Participant | None:
        """Add or update someone; returns who they were before (``None`` if new)."""
        previous = self._by_id.get(participant.id)
        p = self._normalize(participant, previous)
        if previous is None:
            row = bisect.bisect_left(self._rows, sort_key(p), key=sort_key)
            self._by_id[p.id] = p
            self._insert_rows(row, [p])
            return None
        if p == previous:
            return previous
        source = bisect.bisect_left(self._rows, sort_key(previous), key=sort_key)
        # Where it lands once taken out of its old place.
        rest = self._rows[:source] + self._rows[source + 1 :]
        target = bisect.bisect_left(rest, sort_key(p), key=sort_key)
        self._by_id[p.id] = p
        self._move_row(source, target, p)
        return previous

    def remove(self, participant_id: str) -> Participant | None:
        """Take someone off the list; returns who it was (``None`` if unknown)."""
        row = self.row_of(participant_id)
        if row is None:
            return None
        del self._by_id[participant_id]
        return self._remove_row(row)

    def _normalize(self, p: Participant, previous: Participant | None) -> Participant:
        if not p.hand_raised:
            return replace(p, hand_raised_at=None) if p.hand_raised_at is not None else p
        if p.hand_raised_at is not None:
            return p
        if previous is not None and previous.hand_raised and previous.hand_raised_at:
            return replace(p, hand_raised_at=previous.hand_raised_at)
        return replace(p, hand_raised_at=self._clock())
