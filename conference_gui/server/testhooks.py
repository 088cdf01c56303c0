"""HTTP routes for tests that run the server in another process (``test_hooks=True`` only).

Not part of the wire contract; never enabled by the command line.
"""

from __future__ import annotations

from aiohttp import web

from .realtime import VideoNamespace


class TestHooks:
    __test__ = False  # not a pytest class

    def __init__(self, sockets: VideoNamespace) -> None:
        self._sockets = sockets

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/_test/connections", self.connections),
            web.post("/api/_test/drop-connections", self.drop),
        ]

    async def connections(self, request: web.Request) -> web.Response:
        count = await self._sockets.connection_count(request.query.get("sessionId"))
        return web.json_response({"count": count})

    async def drop(self, request: web.Request) -> web.Response:
        await self._sockets.drop_connections(request.query.get("sessionId"))
        return web.json_response({"ok": True})
