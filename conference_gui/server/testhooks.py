"""HTTP routes for tests that run the server in another process (``test_hooks=True`` only).

Not part of the wire contract. They are registered only when
``ServerConfig.test_hooks`` is true: ``ServerThread(ServerConfig(test_hooks=True))``
in a test, or ``CONFERENCE_TEST_HOOKS=1 conference-server ...`` for a test
that needs a server process it can kill. The command line has no flag for it.

The hooks let fault tests do what a healthy server never does:

- ``GET  /api/_test/connections?sessionId=`` — live ``/video`` connections.
- ``POST /api/_test/drop-connections?sessionId=&sid=`` — close transports as a
  network drop would (all, one session's, or one Socket.IO ``sid``).
- ``POST /api/_test/sessions/{sid}/silent-upload`` ``{"name", "size"}`` — add a
  resource and bump the revision *without* emitting an event (a missed event).
- ``POST /api/_test/sessions/{sid}/silent-delete`` ``{"resourceId"}`` — likewise.
- ``POST /api/_test/sessions/{sid}/emit`` ``{"event", "args": [...]}`` — emit any
  raw event to the session's room (duplicates, stale revisions, garbage).
- ``POST /api/_test/sessions/{sid}/churn`` ``{"count"}`` — that many real uploads
  and deletes through the resource service, back to back (long-run tests).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .auth import Identity
from .bridge import NAMESPACE, session_room
from .context import ServerContext
from .errors import ApiError
from .ids import new_id, utc_now_iso
from .realtime import VideoNamespace
from .storage import ResourceRecord
from .uploads import ReceivedUpload
from .wire import resource_json

#: The environment switch read by the command line (test use only).
ENV_SWITCH = "CONFERENCE_TEST_HOOKS"


class TestHooks:
    __test__ = False  # not a pytest class

    def __init__(self, sockets: VideoNamespace, ctx: ServerContext | None = None) -> None:
        self._sockets = sockets
        self._ctx = ctx

    def routes(self) -> list[web.RouteDef]:
        base = "/api/_test/sessions/{sid}"
        routes = [
            web.get("/api/_test/connections", self.connections),
            web.post("/api/_test/drop-connections", self.drop),
        ]
        if self._ctx is not None:
            routes += [
                web.post(f"{base}/silent-upload", self.silent_upload),
                web.post(f"{base}/silent-delete", self.silent_delete),
                web.post(f"{base}/emit", self.emit),
                web.post(f"{base}/churn", self.churn),
            ]
        return routes

    async def connections(self, request: web.Request) -> web.Response:
        count = await self._sockets.connection_count(request.query.get("sessionId"))
        return web.json_response({"count": count})

    async def drop(self, request: web.Request) -> web.Response:
        only = request.query.get("sid")
        if only is None:
            await self._sockets.drop_connections(request.query.get("sessionId"))
            return web.json_response({"ok": True})
        return web.json_response({"ok": await drop_socket(self._sockets, only)})

    # --- state changes nobody hears about -------------------------------------
    @property
    def ctx(self) -> ServerContext:
        assert self._ctx is not None
        return self._ctx

    async def silent_upload(self, request: web.Request) -> web.Response:
        session_id = request.match_info["sid"]
        body = await _json(request)
        name = str(body.get("name") or "silent.txt")
        size = int(body.get("size") or 1)
        resource = ResourceRecord(
            id=new_id(),
            session_id=session_id,
            name=name,
            size=size,
            content_type="text/plain",
            uploader_id="test-hook",
            uploader_name="Test hook",
            uploaded_at=utc_now_iso(),
        )
        self.ctx.blobs.path(resource.id).write_bytes(b"x" * size)
        revision = await self.ctx.storage.add_resource(resource)
        return web.json_response({"resource": resource_json(resource), "revision": revision})

    async def silent_delete(self, request: web.Request) -> web.Response:
        body = await _json(request)
        revision = await self.ctx.storage.delete_resource(
            request.match_info["sid"], str(body.get("resourceId"))
        )
        if revision is None:
            raise ApiError(404, "not_found", "No such resource in this session")
        return web.json_response({"revision": revision})

    async def churn(self, request: web.Request) -> web.Response:
        """``{"count": N}`` real uploads and deletes (alternating) through the
        resource service: N events, as fast as the server can make them."""
        body = await _json(request)
        count = int(body.get("count") or 0)
        actor = Identity("test-hook", request.match_info["sid"], "Test hook", "host")
        live: list[str] = []
        for i in range(count):
            if live and i % 2:
                await self.ctx.resources.delete(actor, live.pop(0))
                continue
            blob = await self.ctx.blobs.open_temp()
            await blob.write(b"x")
            upload = ReceivedUpload(blob, f"churn-{i}.txt", 1, "text/plain")
            resource, _revision = await self.ctx.resources.add(actor, upload)
            live.append(resource.id)
        revision = await self.ctx.storage.revision(actor.session_id)
        return web.json_response({"revision": revision, "live": len(live)})

    async def emit(self, request: web.Request) -> web.Response:
        body = await _json(request)
        args = body.get("args", [])
        if not isinstance(args, list):
            raise ApiError(422, "invalid", "'args' must be a list")
        await self._sockets.server.emit(
            str(body["event"]),
            tuple(args),
            room=session_room(request.match_info["sid"]),
            namespace=NAMESPACE,
        )
        return web.json_response({"ok": True})


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        raise ApiError(400, "bad_request", "The body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object")
    return body


async def drop_socket(sockets: VideoNamespace, sid: str) -> bool:
    """Close one ``/video`` connection (by Socket.IO sid) at the transport."""
    eio = sockets.server.eio
    eio_sid = sockets.server.manager.eio_sid_from_sid(sid, NAMESPACE)
    socket = eio.sockets.get(eio_sid) if eio_sid else None
    if socket is None:
        return False
    await socket.close(wait=False, abort=True, reason=eio.reason.TRANSPORT_CLOSE)
    eio.sockets.pop(eio_sid, None)
    await socket.queue.put(None)
    return True
