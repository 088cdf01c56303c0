"""Load: a crowd of Socket.IO clients in a few processes while uploaders churn resources.

Used by ``tests/reliability/test_load.py`` (small, in CI) and
``bench/reliability_load.py`` (200 clients, 1,000 operations). No Qt here:
crowd processes are started with ``spawn`` and import only this module.

Each crowd client is what the desktop client is minus the widgets: one
``socketio.AsyncClient`` on ``/video`` that joins, feeds the real
:class:`~conference_gui.domain.resources.ResourceLedger` (the convergence rule)
from the join ack, a REST snapshot and the events, and refetches when the
ledger asks. It also records every event revision it receives, so gaps and
duplicates on the wire are counted, not only in the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import random
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
import socketio

from conference_gui.domain.resources import (
    Outcome,
    ResourceDeleted,
    ResourceLedger,
    ResourceUploaded,
    Snapshot,
)

NS = "/video"
TIMEOUT = 30


def _post(url: str, **kw: Any) -> dict[str, Any]:
    r = requests.post(url, timeout=TIMEOUT, **kw)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def create_meeting(url: str) -> dict[str, Any]:
    return _post(f"{url}/api/sessions", json={"title": "Load", "name": "Host"})


def join(url: str, session_id: str, invite: str, name: str) -> dict[str, Any]:
    return _post(f"{url}/api/sessions/{session_id}/join", json={"name": name, "invite": invite})


def server_list(url: str, session_id: str, token: str) -> tuple[int, list[str]]:
    r = requests.get(
        f"{url}/api/sessions/{session_id}/resources",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    r.raise_for_status()
    body = r.json()
    return int(body["revision"]), [res["id"] for res in body["resources"]]


# --- one crowd client --------------------------------------------------------------------


@dataclass
class ClientResult:
    revision: int | None
    ids: list[str]
    events: int
    duplicate_events: int
    gaps: int
    fetches: int
    wire_gapless: bool


class LedgerClient:
    def __init__(
        self, url: str, session_id: str, user_id: str, token: str, pool: ThreadPoolExecutor
    ) -> None:
        self.url, self.session_id, self.token = url, session_id, token
        self.user_id = user_id
        self.pool = pool
        self.ledger = ResourceLedger()
        self.revisions: list[int] = []
        self.fetches = 0
        self._fetch: asyncio.Task[None] | None = None
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.sio.on("resource-uploaded", self._uploaded, namespace=NS)
        self.sio.on("resource-deleted", self._deleted, namespace=NS)

    async def start(self) -> None:
        await self.sio.connect(
            f"{self.url}?sessionId={self.session_id}&userId={self.user_id}",
            auth={"token": self.token},
            transports=["websocket"],
            namespaces=[NS],
            wait_timeout=TIMEOUT,
        )
        ack = await self.sio.call(
            "join-session", {"sessionId": self.session_id}, namespace=NS, timeout=TIMEOUT
        )
        if self.ledger.connected(int(ack["resourceRevision"])) is Outcome.NEED_FETCH:
            self.refetch()

    def _uploaded(self, data: Any) -> None:
        self._apply(ResourceUploaded.from_wire(data))

    def _deleted(self, data: Any) -> None:
        self._apply(ResourceDeleted.from_wire(data))

    def _apply(self, event: ResourceUploaded | ResourceDeleted) -> None:
        self.revisions.append(event.revision)
        if self.ledger.apply(event) is Outcome.NEED_FETCH:
            self.refetch()

    def refetch(self) -> None:
        if self._fetch is None or self._fetch.done():
            self._fetch = asyncio.get_running_loop().create_task(self._fetch_loop())

    async def _fetch_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self.ledger.fetch_started()
            self.fetches += 1
            r = await loop.run_in_executor(
                self.pool,
                lambda: requests.get(
                    f"{self.url}/api/sessions/{self.session_id}/resources",
                    headers={"Authorization": f"Bearer {self.token}"},
                    timeout=TIMEOUT,
                ),
            )
            if self.ledger.load_snapshot(Snapshot.from_wire(r.json())) is not Outcome.NEED_FETCH:
                return
            await asyncio.sleep(0.05)

    def result(self) -> ClientResult:
        revs = self.revisions
        dups = len(revs) - len(set(revs))
        ordered = sorted(set(revs))
        gaps = sum(b - a - 1 for a, b in itertools.pairwise(ordered))
        return ClientResult(
            revision=self.ledger.revision,
            ids=sorted(r.id for r in self.ledger.resources()),
            events=len(revs),
            duplicate_events=dups,
            gaps=gaps,
            fetches=self.fetches,
            wire_gapless=revs == list(range(revs[0], revs[0] + len(revs))) if revs else True,
        )

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        with contextlib.suppress(Exception):
            await self.sio.shutdown()


# --- a crowd process ------------------------------------------------------------------


def crowd_main(
    url: str, session_id: str, invite: str, count: int, index: int, out: Any, commands: Any
) -> None:
    """Process body: ``count`` clients; reports ``ready``, then results at ``final``."""
    asyncio.run(_crowd(url, session_id, invite, count, index, out, commands))


async def _crowd(
    url: str, session_id: str, invite: str, count: int, index: int, out: Any, commands: Any
) -> None:
    pool = ThreadPoolExecutor(max_workers=8)
    loop = asyncio.get_running_loop()
    members = await asyncio.gather(
        *[
            loop.run_in_executor(pool, join, url, session_id, invite, f"crowd-{index}-{i}")
            for i in range(count)
        ]
    )
    clients = [LedgerClient(url, session_id, m["userId"], m["token"], pool) for m in members]
    for k in range(0, len(clients), 20):  # connect in waves, not 100 handshakes at once
        await asyncio.gather(*(c.start() for c in clients[k : k + 20]))
    out.put(("ready", index, count))
    final = await loop.run_in_executor(None, commands.get)
    started = time.monotonic()
    deadline = started + 120
    while time.monotonic() < deadline and not all(
        c.ledger.revision == final and not c.ledger.fetching for c in clients
    ):
        await asyncio.sleep(0.05)
    drained = time.monotonic() - started
    results = [asdict(c.result()) for c in clients]
    for c in clients:
        await c.close()
    pool.shutdown()
    out.put(
        (
            "result",
            index,
            {"drain_s": drained, "clients": results, "pid": os.getpid(), "rss_kb": _rss_kb()},
        )
    )


def _rss_kb() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- uploaders ----------------------------------------------------------------------------


@dataclass
class ChurnResult:
    uploads: int = 0
    deletes: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def churn(
    url: str, session_id: str, invite: str, uploaders: int, operations: int, seed: int = 5
) -> ChurnResult:
    """``operations`` uploads and deletes from ``uploaders`` concurrent participants."""
    result = ChurnResult()
    lock = threading.Lock()
    per = [
        operations // uploaders + (1 if i < operations % uploaders else 0) for i in range(uploaders)
    ]

    def work(i: int) -> None:
        rnd = random.Random(seed + i)
        me = join(url, session_id, invite, f"uploader-{i}")
        auth = {"Authorization": f"Bearer {me['token']}"}
        mine: list[str] = []
        with requests.Session() as http:
            for n in range(per[i]):
                try:
                    if mine and rnd.random() < 0.4:
                        rid = mine.pop(rnd.randrange(len(mine)))
                        r = http.delete(
                            f"{url}/api/sessions/{session_id}/resources/{rid}",
                            headers=auth,
                            timeout=TIMEOUT,
                        )
                        r.raise_for_status()
                        with lock:
                            result.deletes += 1
                    else:
                        body = os.urandom(rnd.randint(1, 4096))
                        r = http.post(
                            f"{url}/api/sessions/{session_id}/resources",
                            files={"file": (f"u{i}-{n}.bin", body)},
                            headers=auth,
                            timeout=TIMEOUT,
                        )
                        r.raise_for_status()
                        mine.append(r.json()["resource"]["id"])
                        with lock:
                            result.uploads += 1
                except requests.RequestException as exc:
                    with lock:
                        result.failures.append(f"uploader {i} op {n}: {exc}")

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(uploaders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - started
    return result


# --- the whole run ------------------------------------------------------------------------


@dataclass
class LoadReport:
    clients: int
    processes: int
    operations: int
    uploads: int
    deletes: int
    failures: list[str]
    churn_s: float
    final_revision: int
    final_count: int
    drifted_clients: int
    duplicate_rows: int
    wire_duplicates: int
    wire_gaps: int
    not_gapless_clients: int
    refetches_beyond_first: int
    max_drain_s: float
    crowd_rss_kb: list[int]

    def ok(self) -> bool:
        return (
            not self.failures
            and self.drifted_clients == 0
            and self.duplicate_rows == 0
            and self.wire_duplicates == 0
            and self.wire_gaps == 0
            and self.not_gapless_clients == 0
        )


def run_load(
    url: str,
    *,
    clients: int,
    processes: int,
    operations: int,
    uploaders: int,
    meeting: dict[str, Any] | None = None,
) -> LoadReport:
    """Crowd up, churn, settle, compare: in a meeting of its own, or in ``meeting``
    (``{"session": {"id"}, "invite", "token"}``) where others (GUI windows) also are."""
    meeting = meeting or create_meeting(url)
    sid, invite, host_token = meeting["session"]["id"], meeting["invite"], meeting["token"]
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    commands = [ctx.Queue() for _ in range(processes)]
    sizes = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    procs = [
        ctx.Process(target=crowd_main, args=(url, sid, invite, n, i, out, commands[i]), daemon=True)
        for i, n in enumerate(sizes)
    ]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            kind, _index, _n = out.get(timeout=180)
            assert kind == "ready"
        # The uploaders get a process of their own too, so that their threads do not
        # compete for the GIL with whatever else runs in this one (GUI windows).
        with ProcessPoolExecutor(1, mp_context=ctx) as pool:
            churned = pool.submit(churn, url, sid, invite, uploaders, operations).result()
        truth = server_list(url, sid, host_token)
        for q in commands:
            q.put(truth[0])
        crowd = [out.get(timeout=180)[2] for _ in procs]
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join(5)
    every = [c for part in crowd for c in part["clients"]]
    expected = sorted(truth[1])
    return LoadReport(
        clients=len(every),
        processes=processes,
        operations=operations,
        uploads=churned.uploads,
        deletes=churned.deletes,
        failures=churned.failures,
        churn_s=round(churned.seconds, 2),
        final_revision=truth[0],
        final_count=len(truth[1]),
        drifted_clients=sum(1 for c in every if c["ids"] != expected or c["revision"] != truth[0]),
        duplicate_rows=sum(len(c["ids"]) - len(set(c["ids"])) for c in every),
        wire_duplicates=sum(c["duplicate_events"] for c in every),
        wire_gaps=sum(c["gaps"] for c in every),
        not_gapless_clients=sum(1 for c in every if not c["wire_gapless"]),
        refetches_beyond_first=sum(max(0, c["fetches"] - 1) for c in every),
        max_drain_s=round(max(part["drain_s"] for part in crowd), 3),
        crowd_rss_kb=[part["rss_kb"] for part in crowd],
    )
