"""Shared files of a meeting and the ledger that keeps a client's copy true.

The ledger implements SPEC's convergence rule in plain Python so it can be
tested without Qt or a network: a snapshot sets revision ``R``; an event at
``R+1`` applies; ``<= R`` is a duplicate; ``> R+1`` is a gap that asks for a
refetch. Events that arrive while a fetch is in flight are kept and replayed on
top of the snapshot, so nothing is lost.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from conference_gui import protocol as wire
from conference_gui.domain.wire import decode, parse_time


@dataclass(frozen=True, slots=True)
class Person:
    """Who did something: enough to show a name next to it."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Resource:
    """One shared file, as the server lists it."""

    id: str
    session_id: str
    name: str
    size: int
    content_type: str
    uploaded_by: Person
    uploaded_at: datetime

    @classmethod
    def from_wire(cls, data: object) -> Resource:
        """Parse SPEC's ``Resource`` object; raise PayloadError on anything malformed."""
        return cls.of(decode(data, wire.Resource))

    @classmethod
    def of(cls, r: wire.Resource) -> Resource:
        """The domain's resource for a checked wire resource."""
        return cls(
            id=r.id,
            session_id=r.session_id,
            name=r.name,
            size=r.size,
            content_type=r.content_type or "application/octet-stream",
            uploaded_by=Person(r.uploaded_by.id, r.uploaded_by.name),
            uploaded_at=parse_time(r.uploaded_at),
        )

    @property
    def sort_key(self) -> tuple[float, str]:
        """Newest first; the id breaks ties so the order is total and stable."""
        return (-self.uploaded_at.timestamp(), self.id)


@dataclass(frozen=True, slots=True)
class ResourceUploaded:
    revision: int
    resource: Resource

    @classmethod
    def from_wire(cls, data: object) -> ResourceUploaded:
        event = decode(data, wire.ResourceUploaded)
        return cls(revision=event.revision, resource=Resource.of(event.resource))


@dataclass(frozen=True, slots=True)
class ResourceDeleted:
    revision: int
    resource_id: str
    #: who deleted it, when the server says (an addition to the wire contract)
    deleted_by: Person | None = None

    @classmethod
    def from_wire(cls, data: object) -> ResourceDeleted:
        event = decode(data, wire.ResourceDeleted)
        by = event.deleted_by
        return cls(
            revision=event.revision,
            resource_id=event.resource_id,
            deleted_by=Person(by.id, by.name) if by is not None else None,
        )


ResourceEvent = ResourceUploaded | ResourceDeleted


@dataclass(frozen=True, slots=True)
class Snapshot:
    revision: int
    resources: tuple[Resource, ...]

    @classmethod
    def from_wire(cls, data: object) -> Snapshot:
        """Parse the list answer; malformed rows are a malformed answer, not skipped."""
        listing = decode(data, wire.ResourceList)
        return cls(revision=listing.revision,
                   resources=tuple(Resource.of(r) for r in listing.resources))


class LedgerObserver(Protocol):
    """Told about every row change, in the shape a Qt list model needs."""

    def rows_about_to_be_inserted(self, first: int, last: int) -> None: ...
    def rows_inserted(self) -> None: ...
    def rows_about_to_be_removed(self, first: int, last: int) -> None: ...
    def rows_removed(self) -> None: ...
    def about_to_reset(self) -> None: ...
    def reset_done(self) -> None: ...


class Outcome(enum.Enum):
    """What the caller should do after handing the ledger something."""

    APPLIED = "applied"  # state changed (or the event was consistent and harmless)
    DUPLICATE = "duplicate"  # revision already covered: ignored
    BUFFERED = "buffered"  # kept for later (a fetch is in flight or will be)
    NEED_FETCH = "need_fetch"  # the caller must fetch a snapshot now


class ResourceLedger:
    """The client's copy of a session's resources, ordered newest first."""

    def __init__(self, observer: LedgerObserver | None = None) -> None:
        self._observer = observer
        self._rows: list[Resource] = []
        self._keys: list[tuple[float, str]] = []
        self._by_id: dict[str, Resource] = {}
        self._revision: int | None = None
        self._pending: dict[int, ResourceEvent] = {}
        self._fetching = False
        self._target = -1  # highest revision the server is known to have
        # Fetch generation: a snapshot requested after something was heard
        # supersedes it. What was heard *during* the fetch may be newer.
        self._gen = 0
        self._heard_at: dict[int, int] = {}  # pending revision -> generation it arrived in
        self._target_gen = 0

    def set_observer(self, observer: LedgerObserver | None) -> None:
        self._observer = observer

    # -- reading ----------------------------------------------------------
    @property
    def revision(self) -> int | None:
        """Revision of the state held, ``None`` before the first snapshot."""
        return self._revision

    @property
    def fetching(self) -> bool:
        return self._fetching

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, row: int) -> Resource:
        return self._rows[row]

    def __contains__(self, resource_id: object) -> bool:
        return resource_id in self._by_id

    def get(self, resource_id: str) -> Resource | None:
        return self._by_id.get(resource_id)

    def row_of(self, resource_id: str) -> int | None:
        res = self._by_id.get(resource_id)
        if res is None:
            return None
        return bisect.bisect_left(self._keys, res.sort_key)

    def resources(self) -> Sequence[Resource]:
        return tuple(self._rows)

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    # -- fetch protocol ---------------------------------------------------
    def fetch_started(self) -> None:
        """The caller has sent a list request; events now wait for its answer."""
        self._fetching = True
        self._gen += 1

    def fetch_failed(self) -> None:
        """The list request failed; buffered events stay until the next fetch."""
        self._fetching = False

    def connected(self, server_revision: int) -> Outcome:
        """After every (re)connect: refetch unless we already hold that revision.

        The ack's revision is the server's truth now, even if it went *down*
        (a server restored from an older backup), so it replaces the target.
        """
        self._raise_target(server_revision, replace=True)
        if self._revision == server_revision and not self._pending:
            return Outcome.APPLIED
        return self._ask_fetch()

    def load_snapshot(self, snapshot: Snapshot) -> Outcome:
        """Replace the state with the server's list and replay newer buffered events."""
        self._fetching = False
        self._reset(snapshot.resources)
        self._revision = snapshot.revision
        # The server committed every event it sent before emitting it, so an
        # event heard before this fetch began and still above the list's
        # revision is one the server does not know (a restored server, a
        # confused node): drop it, or we would refetch forever.
        stale = [
            rev
            for rev in self._pending
            if rev <= snapshot.revision or self._heard_at.get(rev, 0) < self._gen
        ]
        for rev in stale:
            del self._pending[rev]
            self._heard_at.pop(rev, None)
        if self._target_gen < self._gen:
            self._target = snapshot.revision
        self._target = max(self._target, snapshot.revision, *self._pending, -1)
        ready: list[ResourceEvent] = []
        self._drain(ready)
        self._commit(ready)
        if self._pending or self._revision < self._target:
            # A hole remains between the snapshot and what we buffered.
            return self._ask_fetch()
        return Outcome.APPLIED

    # -- events -----------------------------------------------------------
    def apply(self, event: ResourceEvent) -> Outcome:
        """Apply one server event under the revision rule."""
        return self.apply_many((event,))

    def apply_many(self, events: Iterable[ResourceEvent]) -> Outcome:
        """Apply a batch (say, all events of one frame) under the revision rule.

        Rows change once per run of neighbouring rows rather than once per
        event, so a burst of uploads costs a view one insert, not thousands.
        The outcome asks for a fetch if any event revealed a gap.
        """
        ready: list[ResourceEvent] = []
        outcomes = {self._accept(ev, ready) for ev in events}
        self._commit(ready)
        for out in (Outcome.NEED_FETCH, Outcome.BUFFERED, Outcome.APPLIED):
            if out in outcomes:
                return out
        return Outcome.DUPLICATE

    # -- internals --------------------------------------------------------
    def _raise_target(self, revision: int, *, replace: bool = False) -> None:
        if replace or revision > self._target:
            self._target = revision
            self._target_gen = self._gen

    def _hold(self, event: ResourceEvent) -> None:
        self._pending[event.revision] = event
        self._heard_at[event.revision] = self._gen

    def _accept(self, event: ResourceEvent, ready: list[ResourceEvent]) -> Outcome:
        """Decide by revision; accepted events (and what they unblock) go to ``ready``."""
        self._raise_target(event.revision)
        if self._revision is None or self._fetching:
            if self._revision is not None and event.revision <= self._revision:
                return Outcome.DUPLICATE
            self._hold(event)
            return Outcome.BUFFERED if self._fetching else self._ask_fetch()
        if event.revision <= self._revision:
            return Outcome.DUPLICATE
        if event.revision > self._revision + 1:
            self._hold(event)
            return self._ask_fetch()
        ready.append(event)
        self._revision = event.revision
        self._drain(ready)
        return Outcome.APPLIED

    def _ask_fetch(self) -> Outcome:
        return Outcome.BUFFERED if self._fetching else Outcome.NEED_FETCH

    def _drain(self, ready: list[ResourceEvent]) -> None:
        assert self._revision is not None
        while (nxt := self._pending.pop(self._revision + 1, None)) is not None:
            self._heard_at.pop(nxt.revision, None)
            ready.append(nxt)
            self._revision = nxt.revision

    def _commit(self, ready: list[ResourceEvent]) -> None:
        """Apply accepted events to the rows, grouping neighbours of one kind."""
        i = 0
        while i < len(ready):
            j = i
            kind = type(ready[i])
            while j < len(ready) and type(ready[j]) is kind:
                j += 1
            group = ready[i:j]
            if kind is ResourceUploaded:
                self._insert_many([e.resource for e in group if isinstance(e, ResourceUploaded)])
            else:
                self._remove_many([e.resource_id for e in group if isinstance(e, ResourceDeleted)])
            i = j

    def _insert_many(self, resources: list[Resource]) -> None:
        latest = {r.id: r for r in resources}  # the same id twice: the later copy wins
        # Keyed by id: a resource is never listed twice; a changed copy replaces it.
        self._remove_many([rid for rid in latest if rid in self._by_id])
        new = sorted(latest.values(), key=lambda r: r.sort_key)
        # Final row of each new resource = its place among old rows + new ones before it.
        finals = [bisect.bisect_left(self._keys, r.sort_key) + k for k, r in enumerate(new)]
        obs = self._observer
        k = 0
        while k < len(new):
            m = k
            while m + 1 < len(new) and finals[m + 1] == finals[m] + 1:
                m += 1
            first, last = finals[k], finals[m]
            run = new[k : m + 1]
            if obs:
                obs.rows_about_to_be_inserted(first, last)
            self._rows[first:first] = run
            self._keys[first:first] = [r.sort_key for r in run]
            for r in run:
                self._by_id[r.id] = r
            if obs:
                obs.rows_inserted()
            k = m + 1

    def _remove_many(self, resource_ids: list[str]) -> None:
        rows = sorted({row for rid in resource_ids if (row := self.row_of(rid)) is not None})
        obs = self._observer
        # Bottom-up, so the rows above keep their numbers while we cut.
        k = len(rows) - 1
        while k >= 0:
            m = k
            while m - 1 >= 0 and rows[m - 1] == rows[m] - 1:
                m -= 1
            first, last = rows[m], rows[k]
            if obs:
                obs.rows_about_to_be_removed(first, last)
            for res in self._rows[first : last + 1]:
                del self._by_id[res.id]
            del self._rows[first : last + 1]
            del self._keys[first : last + 1]
            if obs:
                obs.rows_removed()
            k = m - 1

    def _reset(self, resources: Iterable[Resource]) -> None:
        by_id = {r.id: r for r in resources}
        rows = sorted(by_id.values(), key=lambda r: r.sort_key)
        obs = self._observer
        if obs:
            obs.about_to_reset()
        self._rows = rows
        self._keys = [r.sort_key for r in rows]
        self._by_id = by_id
        if obs:
            obs.reset_done()
