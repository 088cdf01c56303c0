"""The Socket.IO server's transport, with the limits a participant cannot talk past.

- :class:`BoundedSocket`: what waits to be sent to one connection is bounded in
  packets and bytes. A connection that does not read fast enough (a stalled
  or hostile client while others flood the meeting) is disconnected — its TCP
  connection aborted at once — instead of having its backlog buffered in the
  server's memory without end. Its client reconnects and resyncs, as after any
  network drop.
- :data:`WIRE_JSON`: the JSON python-socketio uses for its packets. A message
  that cannot be decoded (a 100,000-deep list, ``NaN``) becomes the event
  :data:`UNDECODABLE`, which the namespace answers with an error ack instead
  of python-socketio logging a traceback and leaving it unanswered. It also
  writes UTF-8 instead of ``\\uXXXX`` escapes (an emoji is 4 bytes, not 12).

Both hook into engine.io 4 / python-socketio 5 internals (as ``drop_connections``
in realtime.py does); tests/server/test_server_limits.py shows they work.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar

import socketio
from engineio.async_socket import AsyncSocket

log = logging.getLogger(__name__)

#: The event name an undecodable message becomes.
UNDECODABLE = "\x00undecodable"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _WireJson:
    """The ``json`` module interface python-socketio's packets use."""

    @staticmethod
    def dumps(obj: Any, **_kwargs: Any) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    @staticmethod
    def loads(text: str | bytes, **_kwargs: Any) -> Any:
        try:
            return json.loads(text, parse_constant=_no_constants)
        except (ValueError, RecursionError):
            # The event name is inside what failed; answer "undecodable" instead.
            return [UNDECODABLE]


WIRE_JSON = _WireJson()


class WirePacket(socketio.packet.Packet):
    """Socket.IO packets of this server, with :data:`WIRE_JSON` (not a global switch:
    a client in the same process keeps python-socketio's own)."""

    json = WIRE_JSON


def _size(pkt: Any) -> int:
    data = getattr(pkt, "data", None)
    return len(data) if isinstance(data, str | bytes) else 64


class BoundedSocket(AsyncSocket):
    """An engine.io socket whose outgoing queue is bounded (see module docstring)."""

    max_packets = 2000
    max_bytes = 4 * 1024 * 1024
    _closing: ClassVar[set[asyncio.Task[None]]] = set()

    def bound(self, max_packets: int, max_bytes: int) -> None:
        self.max_packets, self.max_bytes = max_packets, max_bytes
        self.queued_bytes = 0
        self.overflowed = False
        self.websocket: Any = None

    async def send(self, pkt: Any) -> None:
        if self.overflowed:
            return
        size = _size(pkt)
        if self.queue.qsize() >= self.max_packets or self.queued_bytes + size > self.max_bytes:
            self._overflow()
            return
        self.queued_bytes += size
        await super().send(pkt)

    async def poll(self) -> Any:
        packets = await super().poll()
        self.queued_bytes = max(0, self.queued_bytes - sum(_size(p) for p in packets))
        return packets

    async def _websocket_handler(self, ws: Any) -> Any:
        self.websocket = ws
        return await super()._websocket_handler(ws)

    def _overflow(self) -> None:
        self.overflowed = True
        log.warning("connection %s reads too slowly (%d packets, %d bytes waiting): "
                    "disconnecting it", self.sid, self.queue.qsize(), self.queued_bytes)
        request = getattr(self.websocket, "environ", {}).get("aiohttp.request")
        transport = getattr(request, "transport", None)
        if transport is not None:
            transport.abort()  # frees the blocked writer at once
        task = asyncio.ensure_future(self.close(wait=False, abort=True,
                                                reason=self.server.reason.TRANSPORT_ERROR))
        BoundedSocket._closing.add(task)
        task.add_done_callback(BoundedSocket._closing.discard)
        # What waits for this connection will never be read: let it go now.
        while not self.queue.empty():
            self.queue.get_nowait()
            self.queue.task_done()
        self.queued_bytes = 0
        self.queue.put_nowait(None)  # ends the writer (or the pending poll)


class VideoServer(socketio.AsyncServer):
    """``socketio.AsyncServer`` whose connections are :class:`BoundedSocket`."""

    def __init__(self, *, max_queue_packets: int, max_queue_bytes: int, **kwargs: Any) -> None:
        super().__init__(serializer=WirePacket, **kwargs)
        self._queue_limits = (max_queue_packets, max_queue_bytes)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        sock = self.eio.sockets.get(eio_sid)
        if type(sock) is AsyncSocket:
            sock.__class__ = BoundedSocket
            sock.bound(*self._queue_limits)
        return await super()._handle_eio_connect(eio_sid, environ)
