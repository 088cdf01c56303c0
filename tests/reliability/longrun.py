"""Long run in one GUI process: many model operations, then many socket events.

Used by ``tests/reliability/test_longrun.py`` (CI size) and
``bench/reliability_longrun.py`` (100,000 model operations, 10,000 socket events).

Phase 1 drives a :class:`ResourceListModel` with a real ``QListView`` and the
real badge button attached (as the window wires them) through random uploads,
deletes, duplicates, gaps with snapshots, and reads of every role — each one a
Qt call crossing into C++ and back. Phase 2 sends real resource events from
the server (the ``churn`` test hook: uploads and deletes through the resource
service) to a real meeting window over its one socket.

Python object counts (``gc.get_objects``), RSS and ``sys.getrefcount(None)``
are sampled after a warm-up and at the end. ``None``'s count is the canary of
the PySide6 6.12.0 class of bug (a Qt call that returns nothing and lowers
``None``'s reference count): it must not drift downwards.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtWidgets import QListView

from conference_gui.domain.resources import (
    Person,
    Resource,
    ResourceDeleted,
    ResourceUploaded,
    Snapshot,
)
from conference_gui.models.resource_model import ResourceListModel, ResourceRole
from conference_gui.ui.badge_button import BadgeToolButton


def rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@dataclass
class Probe:
    """Objects, RSS and None's refcount now.

    ``parked`` counts cancelled asyncio handles (and their contexts) that qasync
    keeps until their Qt timer fires: engine.io arms a 45 s read timeout per
    message and cancels it when the message arrives, so under a steady event
    rate about ``rate × 45 s`` of them are held at any time. They go when the
    timers expire (the bench waits for that); ``net_objects`` leaves them out.
    """

    objects: int
    parked: int
    rss_kb: int
    none_refs: int

    @property
    def net_objects(self) -> int:
        return self.objects - self.parked

    @classmethod
    async def take(cls) -> Probe:
        # Let pending Qt and loop work run first. Not processEvents(): inside a
        # task it would run another task's step ("Cannot enter into task").
        await asyncio.sleep(0.01)
        gc.collect()
        objects = gc.get_objects()
        handles = sum(1 for o in objects if isinstance(o, asyncio.Handle) and o.cancelled())
        contexts = sum(1 for o in objects if type(o) is contextvars.Context)
        return cls(len(objects), handles + min(handles, contexts), rss_kb(), sys.getrefcount(None))


@dataclass
class PhaseResult:
    operations: int
    seconds: float
    warm: Probe
    end: Probe
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def object_growth(self) -> int:
        """Growth after warm-up, without handles parked in qasync (see :class:`Probe`)."""
        return self.end.net_objects - self.warm.net_objects

    @property
    def rss_growth_kb(self) -> int:
        return self.end.rss_kb - self.warm.rss_kb

    @property
    def none_drift(self) -> int:
        return self.end.none_refs - self.warm.none_refs

    def row(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "seconds": round(self.seconds, 2),
            "object_growth": self.object_growth,
            "rss_growth_kb": self.rss_growth_kb,
            "none_refcount_drift": self.none_drift,
            "objects_end": self.end.objects,
            "parked_handles_end": self.end.parked,
            "rss_end_kb": self.end.rss_kb,
            **self.extra,
        }


def _resource(n: int, t0: datetime, rng: random.Random) -> Resource:
    return Resource(
        id=f"{n:024x}",
        session_id="s",
        name=f"file-{n}-{'x' * rng.randint(0, 40)}.txt",
        size=rng.randint(1, 10**9),
        content_type="text/plain",
        uploaded_by=Person(f"u{n % 7}", f"User {n % 7}"),
        uploaded_at=t0 + timedelta(milliseconds=rng.randint(0, 10**7)),
    )


async def model_phase(operations: int, *, seed: int = 1, max_rows: int = 400) -> PhaseResult:
    """``operations`` model operations with a view and the badge attached."""
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    model = ResourceListModel()
    view = QListView()
    view.setModel(model)
    view.resize(400, 600)
    view.show()
    badge = BadgeToolButton("Resources")
    model.count_changed.connect(badge.setBadgeCount)
    ledger = model.ledger
    ledger.fetch_started()
    ledger.load_snapshot(Snapshot(0, ()))
    revision, serial = 0, 0
    live: list[str] = []
    warm: Probe | None = None
    started = time.monotonic()
    roles = [int(r) for r in ResourceRole] + [0]
    for i in range(operations):
        if i == operations // 10:
            warm = await Probe.take()
        kind = rng.random()
        if kind < 0.02 and live:  # a duplicate of an old revision: ignored
            ledger_event: Any = ResourceDeleted(max(1, revision - 1), live[0])
            model.ledger.apply(ledger_event)
        elif kind < 0.03:  # a gap, then the snapshot that heals it
            revision += 2
            ledger.apply(ResourceDeleted(revision, "nope"))
            ledger.fetch_started()
            ledger.load_snapshot(Snapshot(revision, tuple(ledger.resources())))
        elif live and (len(live) >= max_rows or kind < 0.45):
            revision += 1
            ledger.apply(ResourceDeleted(revision, live.pop(rng.randrange(len(live)))))
        else:
            revision += 1
            serial += 1
            res = _resource(serial, t0, rng)
            live.append(res.id)
            ledger.apply(ResourceUploaded(revision, res))
        if i % 50 == 0:  # read what a view would read, through Qt
            for row in range(min(model.rowCount(), 20)):
                index = model.index(row, 0)
                for role in roles:
                    model.data(index, role)
            assert badge.property("badgeCount") == len(live) == model.rowCount()
        if i % 200 == 0:
            await asyncio.sleep(0)  # let Qt paint and the loop breathe
    end = await Probe.take()
    seconds = time.monotonic() - started
    assert warm is not None
    view.setModel(None)
    view.deleteLater()
    badge.deleteLater()
    model.deleteLater()
    return PhaseResult(
        operations, seconds, warm, end, {"rows_at_end": len(live), "final_revision": revision}
    )


async def socket_phase(
    win: Any, churn: Any, events: int, *, chunk: int = 500, timeout: float = 600
) -> PhaseResult:
    """``events`` resource events from the server to ``win`` in chunks of ``chunk``.

    ``churn(count)`` makes the server produce ``count`` events (blocking; it runs in
    a thread) and returns the server's revision afterwards.
    """
    ledger = win.features["resources"].model.ledger
    warm: Probe | None = None
    started = time.monotonic()
    lags: list[float] = []
    sent = 0
    while sent < events:
        n = min(chunk, events - sent)
        target = await asyncio.to_thread(churn, n)
        produced = time.monotonic()
        deadline = produced + timeout
        while ledger.revision != target:
            if time.monotonic() > deadline:
                raise AssertionError(f"window stuck at {ledger.revision}, server at {target}")
            await asyncio.sleep(0.01)
        lags.append(time.monotonic() - produced)
        sent += n
        if warm is None and sent >= events // 10:
            warm = await Probe.take()
    end = await Probe.take()
    assert warm is not None
    seconds = time.monotonic() - started
    return PhaseResult(
        events,
        seconds,
        warm,
        end,
        {
            "events_per_s": round(events / seconds, 1),
            "max_catch_up_after_chunk_s": round(max(lags), 3),
            "fetches": win.features["resources"].controller.fetch_count,
        },
    )
