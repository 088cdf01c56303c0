"""The convergence rule, without Qt or a network: whatever order, duplication
or loss the events suffer, the ledger ends equal to the server's list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conference_gui.domain.resources import (
    Outcome,
    Person,
    Resource,
    ResourceDeleted,
    ResourceEvent,
    ResourceLedger,
    ResourceUploaded,
    Snapshot,
)
from conference_gui.domain.wire import PayloadError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeServer:
    """A minimal stand-in for the server's revision bookkeeping (pure data)."""

    def __init__(self) -> None:
        self.revision = 0
        self.rows: dict[str, Resource] = {}
        self.events: list[ResourceEvent] = []
        self._n = 0

    def upload(self) -> ResourceEvent:
        self._n += 1
        res = Resource(
            id=f"r{self._n}",
            session_id="s",
            name=f"file{self._n}.txt",
            size=self._n,
            content_type="text/plain",
            uploaded_by=Person("u", "Ann"),
            uploaded_at=T0 + timedelta(seconds=self._n),
        )
        self.revision += 1
        self.rows[res.id] = res
        ev = ResourceUploaded(self.revision, res)
        self.events.append(ev)
        return ev

    def delete(self, rid: str) -> ResourceEvent:
        self.revision += 1
        del self.rows[rid]
        ev = ResourceDeleted(self.revision, rid)
        self.events.append(ev)
        return ev

    def snapshot(self) -> Snapshot:
        return Snapshot(self.revision, tuple(self.rows.values()))

    def listed(self) -> list[str]:
        return [r.id for r in sorted(self.rows.values(), key=lambda r: r.sort_key)]


def ids(ledger: ResourceLedger) -> list[str]:
    return [r.id for r in ledger.resources()]


def test_upload_events_in_order_apply_newest_first() -> None:
    srv = FakeServer()
    ledger = ResourceLedger()
    assert ledger.load_snapshot(srv.snapshot()) is Outcome.APPLIED
    for _ in range(3):
        assert ledger.apply(srv.upload()) is Outcome.APPLIED
    assert ids(ledger) == ["r3", "r2", "r1"]
    assert ledger.revision == 3


def test_duplicate_event_is_ignored_and_adds_no_row() -> None:
    srv = FakeServer()
    ledger = ResourceLedger()
    ledger.load_snapshot(srv.snapshot())
    ev = srv.upload()
    ledger.apply(ev)
    assert ledger.apply(ev) is Outcome.DUPLICATE
    assert ids(ledger) == ["r1"]


def test_gap_asks_for_fetch_and_snapshot_converges() -> None:
    srv = FakeServer()
    ledger = ResourceLedger()
    ledger.load_snapshot(srv.snapshot())
    srv.upload()  # missed
    assert ledger.apply(srv.upload()) is Outcome.NEED_FETCH
    assert ids(ledger) == []
    ledger.fetch_started()
    assert ledger.load_snapshot(srv.snapshot()) is Outcome.APPLIED
    assert ids(ledger) == srv.listed()


def test_out_of_order_events_wait_for_the_missing_one_until_fetched() -> None:
    srv = FakeServer()
    ledger = ResourceLedger()
    ledger.load_snapshot(srv.snapshot())
    e1, e2 = srv.upload(), srv.upload()
    assert ledger.apply(e2) is Outcome.NEED_FETCH
    # The late one arrives before the fetch was even sent: both apply.
    assert ledger.apply(e1) is Outcome.APPLIED
    assert ids(ledger) == ["r2", "r1"]
    assert ledger.pending_count == 0


def test_events_during_fetch_are_replayed_on_the_snapshot() -> None:
    srv = FakeServer()
    srv.upload()
    ledger = ResourceLedger()
    ledger.fetch_started()
    snap = srv.snapshot()  # the server answers at revision 1 ...
    e2 = srv.upload()  # ... but this event overtakes the answer
    e3 = srv.delete("r1")
    assert ledger.apply(e2) is Outcome.BUFFERED
    assert ledger.apply(e3) is Outcome.BUFFERED
    assert ledger.load_snapshot(snap) is Outcome.APPLIED
    assert ids(ledger) == srv.listed() == ["r2"]
    assert ledger.revision == 3


def test_snapshot_overlapping_buffered_events_drops_the_covered_ones() -> None:
    srv = FakeServer()
    ledger = ResourceLedger()
    ledger.fetch_started()
    e1 = srv.upload()
    ledger.apply(e1)
    snap = srv.snapshot()  # already includes e1
    assert ledger.load_snapshot(snap) is Outcome.APPLIED
    assert ids(ledger) == ["r1"]
    assert ledger.pending_count == 0


def test_connect_with_same_revision_needs_no_fetch_else_fetches() -> None:
    srv = FakeServer()
    ledger = ResourceLedger()
    assert ledger.connected(0) is Outcome.NEED_FETCH  # nothing loaded yet
    ledger.fetch_started()
    assert ledger.connected(0) is Outcome.BUFFERED  # already fetching
    ledger.load_snapshot(srv.snapshot())
    assert ledger.connected(0) is Outcome.APPLIED
    srv.upload()  # happened while we were disconnected
    assert ledger.connected(1) is Outcome.NEED_FETCH


def test_stale_snapshot_after_newer_ack_fetches_again() -> None:
    srv = FakeServer()
    ledger = ResourceLedger()
    ledger.fetch_started()
    stale = srv.snapshot()
    srv.upload()
    ledger.connected(srv.revision)  # reconnect while the old fetch is in flight
    assert ledger.load_snapshot(stale) is Outcome.NEED_FETCH
    ledger.fetch_started()
    assert ledger.load_snapshot(srv.snapshot()) is Outcome.APPLIED
    assert ids(ledger) == srv.listed()


def test_an_event_the_server_does_not_know_is_dropped_after_one_fetch() -> None:
    """A restored server or a confused node announces a revision its own list
    does not have: one refetch, then trust the list (no endless refetching)."""
    srv = FakeServer()
    ledger = ResourceLedger()
    ledger.load_snapshot(srv.snapshot())
    ghost = FakeServer()
    for _ in range(5):
        ev = ghost.upload()
    assert ledger.apply(ev) is Outcome.NEED_FETCH
    ledger.fetch_started()
    assert ledger.load_snapshot(srv.snapshot()) is Outcome.APPLIED
    assert ledger.pending_count == 0
    assert ids(ledger) == []
    srv.upload()  # life goes on at the server's real revision
    assert ledger.apply(srv.events[-1]) is Outcome.APPLIED


def test_failed_fetch_keeps_buffered_events_for_the_next_one() -> None:
    srv = FakeServer()
    ledger = ResourceLedger()
    ledger.load_snapshot(srv.snapshot())
    srv.upload()
    e2 = srv.upload()
    assert ledger.apply(e2) is Outcome.NEED_FETCH
    ledger.fetch_started()
    ledger.fetch_failed()
    assert ledger.pending_count == 1
    ledger.fetch_started()
    ledger.load_snapshot(srv.snapshot())
    assert ids(ledger) == srv.listed()


def test_upload_of_an_id_already_listed_replaces_it() -> None:
    srv = FakeServer()
    ledger = ResourceLedger()
    ledger.load_snapshot(srv.snapshot())
    ev = srv.upload()
    assert isinstance(ev, ResourceUploaded)
    ledger.apply(ev)
    again = ResourceUploaded(2, ev.resource)
    ledger.apply(again)
    assert ids(ledger) == ["r1"]


def test_delete_of_unknown_id_only_advances_revision() -> None:
    ledger = ResourceLedger()
    ledger.load_snapshot(Snapshot(0, ()))
    assert ledger.apply(ResourceDeleted(1, "ghost")) is Outcome.APPLIED
    assert ledger.revision == 1
    assert len(ledger) == 0


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "x",
        {},
        {"revision": "1", "resource": {}},
        {"revision": True, "resourceId": "a"},
        {"revision": -1, "resourceId": "a"},
        {"revision": 1, "resource": {"id": "a"}},
        {
            "revision": 1,
            "resource": {
                "id": "a",
                "sessionId": "s",
                "name": "n",
                "size": -5,
                "contentType": "t",
                "uploadedBy": {"id": "u", "name": "U"},
                "uploadedAt": "2026-01-01T00:00:00Z",
            },
        },
        {
            "revision": 1,
            "resource": {
                "id": "a",
                "sessionId": "s",
                "name": "n" * 200_000,
                "size": 1,
                "contentType": "t",
                "uploadedBy": {"id": "u", "name": "U"},
                "uploadedAt": "2026-01-01T00:00:00Z",
            },
        },
    ],
)
def test_malformed_upload_payloads_raise_payload_error(payload: object) -> None:
    with pytest.raises(PayloadError):
        ResourceUploaded.from_wire(payload)


def test_wire_round_trip_of_a_valid_resource() -> None:
    ev = ResourceUploaded.from_wire(
        {
            "revision": 4,
            "resource": {
                "id": "a",
                "sessionId": "s",
                "name": "Zürich 東京.pdf",
                "size": 10,
                "contentType": "application/pdf",
                "uploadedBy": {"id": "u", "name": "Ann"},
                "uploadedAt": "2026-01-01T10:00:00Z",
            },
        }
    )
    assert ev.revision == 4
    assert ev.resource.name == "Zürich 東京.pdf"
    assert ev.resource.uploaded_at == datetime(2026, 1, 1, 10, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 50)), min_size=1, max_size=40),
    delivery=st.lists(st.integers(0, 1000), max_size=120),
    fetch_at=st.sets(st.integers(0, 120), max_size=5),
)
def test_any_delivery_order_converges_to_the_server(
    ops: list[tuple[bool, int]], delivery: list[int], fetch_at: set[int]
) -> None:
    """Events delivered duplicated, reordered or lost, with fetches at random
    points: after a final connect + fetch the ledger equals the server."""
    srv = FakeServer()
    for upload, pick in ops:
        if upload or not srv.rows:
            srv.upload()
        else:
            srv.delete(sorted(srv.rows)[pick % len(srv.rows)])
    ledger = ResourceLedger()
    snaps = [Snapshot(0, ())]
    # Rebuild intermediate snapshots so a fetch can answer with an older state.
    replay = FakeServer()
    for ev in srv.events:
        if isinstance(ev, ResourceUploaded):
            replay.upload()
        else:
            replay.delete(ev.resource_id)
        snaps.append(replay.snapshot())
    needs_fetch = True
    for step, pick in enumerate(delivery):
        if step in fetch_at or needs_fetch:
            ledger.fetch_started()
            out = ledger.load_snapshot(snaps[min(pick % len(snaps), len(snaps) - 1)])
            needs_fetch = out is Outcome.NEED_FETCH
            continue
        out = ledger.apply(srv.events[pick % len(srv.events)])
        needs_fetch = needs_fetch or out is Outcome.NEED_FETCH
        rows = ids(ledger)
        assert len(rows) == len(set(rows)), "a row is listed twice"
    # Reconnect: the ack carries the server's revision.
    if ledger.connected(srv.revision) is Outcome.NEED_FETCH:
        ledger.fetch_started()
        ledger.load_snapshot(srv.snapshot())
    assert ids(ledger) == srv.listed()
    assert ledger.revision == srv.revision


class ShadowView:
    """Replays the ledger's row notifications on its own list, like a view would."""

    def __init__(self, ledger_rows: Callable[[], list[str]]) -> None:
        self.rows: list[str] = []
        self._ledger_rows = ledger_rows
        self.notifications = 0
        self._pending: tuple[str, int, int] | None = None

    def rows_about_to_be_inserted(self, first: int, last: int) -> None:
        self._pending = ("ins", first, last)

    def rows_inserted(self) -> None:
        assert self._pending and self._pending[0] == "ins"
        _, first, last = self._pending
        now = self._ledger_rows()
        self.rows[first:first] = now[first : last + 1]
        self.notifications += 1

    def rows_about_to_be_removed(self, first: int, last: int) -> None:
        self._pending = ("rem", first, last)

    def rows_removed(self) -> None:
        assert self._pending and self._pending[0] == "rem"
        _, first, last = self._pending
        del self.rows[first : last + 1]
        self.notifications += 1

    def about_to_reset(self) -> None:
        pass

    def reset_done(self) -> None:
        self.rows = list(self._ledger_rows())
        self.notifications += 1


def shadowed() -> tuple[ResourceLedger, ShadowView]:
    holder: list[ResourceLedger] = []
    view = ShadowView(lambda: ids(holder[0]))
    ledger = ResourceLedger(observer=view)
    holder.append(ledger)
    return ledger, view


def test_a_burst_of_uploads_is_one_row_insert() -> None:
    srv = FakeServer()
    ledger, view = shadowed()
    ledger.load_snapshot(srv.snapshot())
    burst = [srv.upload() for _ in range(1000)]
    before = view.notifications
    assert ledger.apply_many(burst) is Outcome.APPLIED
    assert view.notifications - before == 1
    assert view.rows == ids(ledger) == srv.listed()


def test_a_burst_of_deletes_of_neighbours_is_one_row_removal() -> None:
    srv = FakeServer()
    for _ in range(10):
        srv.upload()
    ledger, view = shadowed()
    ledger.load_snapshot(srv.snapshot())
    before = view.notifications
    ledger.apply_many([srv.delete(f"r{n}") for n in (4, 5, 6, 9)])  # rows 4..6 are neighbours
    assert view.notifications - before == 2
    assert view.rows == ids(ledger) == srv.listed()


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 50)), min_size=1, max_size=60),
    cuts=st.lists(st.integers(1, 8), max_size=30),
    old_times=st.lists(st.integers(-100, 100), max_size=60),
)
def test_batched_notifications_always_describe_the_ledger(
    ops: list[tuple[bool, int]], cuts: list[int], old_times: list[int]
) -> None:
    """Whatever the batch boundaries and upload times (out-of-order clocks included),
    a view replaying the notifications holds exactly the ledger's rows."""
    srv = FakeServer()
    times = iter(old_times)
    events: list[ResourceEvent] = []
    for upload, pick in ops:
        if upload or not srv.rows:
            ev = srv.upload()
            assert isinstance(ev, ResourceUploaded)
            skew = next(times, 0)
            res = ev.resource
            moved = Resource(
                res.id,
                res.session_id,
                res.name,
                res.size,
                res.content_type,
                res.uploaded_by,
                T0 + timedelta(seconds=skew),
            )
            srv.rows[res.id] = moved
            ev = ResourceUploaded(ev.revision, moved)
            srv.events[-1] = ev
            events.append(ev)
        else:
            events.append(srv.delete(sorted(srv.rows)[pick % len(srv.rows)]))
    ledger, view = shadowed()
    ledger.load_snapshot(Snapshot(0, ()))
    i = 0
    for size in [*cuts, len(events)]:
        ledger.apply_many(events[i : i + size])
        i += size
        assert view.rows == ids(ledger)
    assert ids(ledger) == srv.listed()
