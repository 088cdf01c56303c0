"""The real reference server in its own process, with bench-only routes.

``python -m bench._server --data-dir D`` prints ``listening on URL`` like
``conference-server``. On top of the unchanged app it:

* records ``time.perf_counter()`` right before every ``resource-uploaded`` /
  ``resource-deleted`` emit (``GET /bench/emits?sessionId=…``), by wrapping the
  Socket.IO server's ``emit`` that the bridge calls, and how long each emit took
  (``GET /bench/emit-spans``);
* ``POST /bench/seed`` inserts N resources into SQLite in one transaction
  (the revision moves by N, no events), for initial-load and big-list runs;
* ``POST /bench/drive`` produces upload events in the background, either
  ``paced`` (every ``intervalMs``, each through the real ``ResourceService.add``
  with a one-byte blob) or ``burst`` (N rows committed at once, then N events
  published on the bus back to back, as fast as the server can emit them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from conference_gui.server.app import CONTEXT, SIO, build_app
from conference_gui.server.auth import Identity
from conference_gui.server.config import ServerConfig
from conference_gui.server.events import ResourceUploaded
from conference_gui.server.ids import new_id
from conference_gui.server.runner import loop_factory, tune_gc
from conference_gui.server.storage import ResourceRecord, SqliteStorage
from conference_gui.server.uploads import ReceivedUpload

EMITS = web.AppKey("bench_emits", dict)
SPANS = web.AppKey("bench_emit_spans", list)
TASKS = web.AppKey("bench_tasks", set)


def instrument(app: web.Application) -> None:
    sio = app[SIO]
    real_emit = sio.emit
    emits: dict[str, list[tuple[int, float]]] = {}
    app[EMITS] = emits
    spans: list[float] = []
    app[SPANS] = spans
    app[TASKS] = set()

    async def timed_emit(event: str, data: Any = None, **kwargs: Any) -> Any:
        if event not in ("resource-uploaded", "resource-deleted"):
            return await real_emit(event, data, **kwargs)
        room = str(kwargs.get("room", ""))
        start = time.perf_counter()
        emits.setdefault(room.removeprefix("session:"), []).append((int(data["revision"]), start))
        try:
            return await real_emit(event, data, **kwargs)
        finally:
            spans.append(time.perf_counter() - start)

    sio.emit = timed_emit
    app.router.add_get("/bench/emits", _emits)
    app.router.add_get("/bench/emit-spans", _spans)
    app.router.add_post("/bench/seed", _seed)
    app.router.add_post("/bench/drive", _drive)


async def _emits(request: web.Request) -> web.Response:
    sid = request.query["sessionId"]
    return web.json_response(request.app[EMITS].get(sid, []))


async def _spans(request: web.Request) -> web.Response:
    """How long each resource emit took (seconds), from its start to its return."""
    return web.json_response(request.app[SPANS])


def _records(session_id: str, count: int, who: Identity, stamp: str) -> list[ResourceRecord]:
    return [
        ResourceRecord(
            id=new_id(),
            session_id=session_id,
            name=f"file-{i:06d}.txt",
            size=1000 + i,
            content_type="text/plain",
            uploader_id=who.user_id,
            uploader_name=who.name,
            uploaded_at=stamp,
        )
        for i in range(count)
    ]


async def _insert(storage: SqliteStorage, records: list[ResourceRecord]) -> list[int]:
    """Commit ``records`` in one transaction; the revision moves by one per record."""

    def run(conn: sqlite3.Connection) -> list[int]:
        session_id = records[0].session_id
        conn.execute("BEGIN IMMEDIATE")
        (start,) = conn.execute(
            "SELECT revision FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        revisions = list(range(start + 1, start + 1 + len(records)))
        conn.executemany(
            "INSERT INTO resources (id, session_id, name, size, content_type, uploader_id, "
            "uploader_name, uploaded_at, added_revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.id,
                    r.session_id,
                    r.name,
                    r.size,
                    r.content_type,
                    r.uploader_id,
                    r.uploader_name,
                    r.uploaded_at,
                    rev,
                )
                for r, rev in zip(records, revisions, strict=True)
            ],
        )
        conn.execute("UPDATE sessions SET revision = ? WHERE id = ?", (revisions[-1], session_id))
        conn.execute("COMMIT")
        return revisions

    return await storage._call(run)


def _identity(body: dict[str, Any]) -> Identity:
    return Identity(
        body.get("userId", "bench"), body["sessionId"], body.get("userName", "Bench"), "participant"
    )


async def _seed(request: web.Request) -> web.Response:
    body = await request.json()
    ctx = request.app[CONTEXT]
    storage = ctx.storage
    assert isinstance(storage, SqliteStorage)
    who = _identity(body)
    # Distinct, increasing upload times so "newest first" is a real order.
    base = time.time() - 86400
    records = _records(who.session_id, int(body["count"]), who, "")
    records = [
        ResourceRecord(**{**_fields(r), "uploaded_at": _iso(base + i * 0.001)})
        for i, r in enumerate(records)
    ]
    revisions = await _insert(storage, records)
    return web.json_response({"revision": revisions[-1]})


def _fields(r: ResourceRecord) -> dict[str, Any]:
    return {f: getattr(r, f) for f in ResourceRecord.__dataclass_fields__}


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


async def _drive(request: web.Request) -> web.Response:
    body = await request.json()
    app = request.app
    task = asyncio.get_running_loop().create_task(_run_drive(app, body))
    app[TASKS].add(task)
    task.add_done_callback(app[TASKS].discard)
    return web.json_response({"started": True})


async def _run_drive(app: web.Application, body: dict[str, Any]) -> None:
    ctx = app[CONTEXT]
    who = _identity(body)
    count = int(body["count"])
    await asyncio.sleep(float(body.get("delayMs", 0)) / 1000.0)
    if body.get("mode", "paced") == "paced":
        interval = float(body.get("intervalMs", 20)) / 1000.0
        for _ in range(count):
            blob = await ctx.blobs.open_temp()
            await blob.write(b"x")
            await ctx.resources.add(who, ReceivedUpload(blob, "sample.txt", 1, "text/plain"))
            await asyncio.sleep(interval)
        return
    storage = ctx.storage
    assert isinstance(storage, SqliteStorage)
    # Each newer than the one before, as real uploads are: every one lands on top.
    now = time.time()
    records = [
        ResourceRecord(**{**_fields(r), "uploaded_at": _iso(now + i * 0.001)})
        for i, r in enumerate(_records(who.session_id, count, who, ""))
    ]
    revisions = await _insert(storage, records)
    for record, revision in zip(records, revisions, strict=True):
        await ctx.bus.publish(ResourceUploaded(who.session_id, record, revision))


async def amain(args: argparse.Namespace) -> None:
    config = ServerConfig(
        host="127.0.0.1",
        port=0,
        data_dir=Path(args.data_dir),
        max_upload_mb=args.max_upload_mb,
        test_hooks=True,
    )
    app = build_app(config)
    instrument(app)  # before the router freezes at start-up
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    port = int(runner.addresses[0][1])
    tune_gc()  # as conference-server does
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", required=True)
    p.add_argument("--max-upload-mb", type=int, default=2048)
    args = p.parse_args()
    # The event loop conference-server runs on (uvloop where installed;
    # CONFERENCE_SERVER_LOOP=asyncio for asyncio's own).
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(
        loop_factory=loop_factory()
    ) as runner:
        runner.run(amain(args))


if __name__ == "__main__":
    main()
