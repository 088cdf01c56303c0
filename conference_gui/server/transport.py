"""The Socket.IO server's transport, with the limits a participant cannot talk past.

- :class:`BoundedSocket`: what waits to be sent to one connection is bounded in
  packets and bytes. A connection that does not read fast enough (a stalled
  or hostile client while others flood the meeting) is disconnected — its TCP
  connection aborted at once — instead of having its backlog buffered in the
  server's memory without end. Its client reconnects and resyncs, as after any
  network drop.
- :class:`FanoutManager`: a room emit is encoded once, as one websocket frame,
  and written to every idle websocket connection of the room in one pass:
  no task, queue hop or writer wake-up per connection (python-socketio makes
  one task per recipient, and each connection's writer task then encodes and
  frames the same text again). A connection that is not idle — something
  already waits in its queue or is being written, its transport is paused
  (the peer reads slowly), it compresses, it is still polling, upgrading or
  closing — gets the packet through its queue as before, so per-connection
  order and the bound above hold unchanged. See :meth:`BoundedSocket.write_now`.
- :data:`WIRE_JSON`: the JSON python-socketio uses for its packets. A message
  that cannot be decoded (a 100,000-deep list, ``NaN``) becomes the event
  :data:`UNDECODABLE`, which the namespace answers with an error ack instead
  of python-socketio logging a traceback and leaving it unanswered. It also
  writes UTF-8 instead of ``\\uXXXX`` escapes (an emoji is 4 bytes, not 12),
  with msgspec's encoder (20× the standard library's); a value that is not
  JSON (``NaN``, infinities) is refused as before.

Both hook into engine.io 4 / python-socketio 5 internals (as ``drop_connections``
in realtime.py does); tests/server/test_server_limits.py shows they work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import time
from typing import Any, ClassVar

import msgspec
import socketio
from engineio import packet as eio_packet
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


_ENCODE = msgspec.json.Encoder().encode
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
        self._ws_response: Any = None
        self._ws_writer: Any = None
        #: the websocket writer task waits in poll() with nothing taken from the queue
        self.writer_waiting = False
        #: frames written by write_now (for tests and the bench)
        self.direct_writes = 0

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
        # Only the websocket writer task and a long-polling GET call poll(); while
        # it waits here, everything handed to this connection before was written.
        self.writer_waiting = True
        try:
            packets = await super().poll()
        finally:
            self.writer_waiting = False
        self.queued_bytes = max(0, self.queued_bytes - sum(_size(p) for p in packets))
        return packets

    def write_now(self, frame: bytes, now: float) -> bool:
        """Write a ready websocket frame straight to the transport, if that keeps order.

        True when written. False (the caller queues the packet with :meth:`send`)
        unless this is an open websocket connection whose writer waits with an
        empty queue and nothing taken from it (so no earlier packet is still on
        its way), whose transport is not paused (the peer keeps up: what the
        kernel does not take stays below the transport's high-water mark, then
        the queue and its bound take over) and which does not compress (a
        compressed connection's frames are not the shared frame). A connection
        whose heartbeat timed out (``now``: ``time.time()``) goes the queue's way
        too, which closes it. Runs once per connection and emit: kept lean.
        """
        if not self.writer_waiting or self.overflowed or self.closing or self.closed:
            return False
        if not self.upgraded or self.upgrading:
            return False
        response, writer = self._ws_response, self._ws_writer
        if writer is None or response._closed or writer._closing or writer.compress:
            return False
        if writer.protocol._paused:
            return False
        queue = self.queue
        if queue.qsize() or queue._unfinished_tasks:
            return False
        last_ping = self.last_ping
        if last_ping and now - last_ping > self.server.ping_timeout:
            return False
        transport = writer.transport
        if transport is None or transport.is_closing():
            return False
        transport.write(frame)
        self.direct_writes += 1
        return True

    async def _websocket_handler(self, ws: Any) -> Any:
        self.websocket = ws
        # The aiohttp response and its frame writer, looked up once (write_now). If
        # this engine.io or aiohttp keeps them elsewhere, nothing is written directly.
        response: Any = getattr(ws, "_sock", None)
        writer: Any = getattr(response, "_writer", None)
        usable = (
            all(hasattr(writer, name) for name in ("transport", "protocol", "compress", "_closing"))
            and hasattr(response, "_closed")
            and hasattr(getattr(writer, "protocol", None), "_paused")
            and hasattr(self.queue, "_unfinished_tasks")
        )
        if usable:
            self._ws_response, self._ws_writer = response, writer
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


def text_frame(text: str) -> bytes:
    """An unmasked, uncompressed, final websocket text frame (RFC 6455 §5.2): what a
    server sends, the same bytes for every connection."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


class FanoutManager(socketio.AsyncManager):
    """Room emits in one pass (see the module docstring).

    Also the local delivery of :class:`socketio.AsyncRedisManager` (the one
    python-socketio's pub/sub manager calls for a message from Redis), when it
    is mixed in after it: ``class M(socketio.AsyncRedisManager, FanoutManager)``.
    """

    async def emit(self, event: str, data: Any, namespace: str, room: Any = None,
                   skip_sid: Any = None, callback: Any = None, to: Any = None,
                   **kwargs: Any) -> None:
        room = to or room
        if callback is not None or namespace not in self.rooms:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                               callback=callback, **kwargs)
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        pkt = self.server.packet_class(socketio.packet.EVENT, namespace=namespace,
                                       data=[event, *args])
        encoded = pkt.encode()
        if isinstance(encoded, list):  # binary attachments travel as several packets
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, **kwargs)
            return
        message = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        frame = text_frame(message.encode())
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        sockets = self.server.eio.sockets
        queued: list[str] = []
        now = time.time()
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            sock = sockets.get(eio_sid)
            if isinstance(sock, BoundedSocket) and sock.write_now(frame, now):
                continue
            queued.append(eio_sid)
        for eio_sid in queued:
            try:
                await self.server._send_eio_packet(eio_sid, message)
            except Exception:  # a connection going away never stops the others
                log.debug("emit to %s failed", eio_sid, exc_info=True)


class VideoServer(socketio.AsyncServer):
    """``socketio.AsyncServer`` whose connections are :class:`BoundedSocket` and whose
    room emits go through :class:`FanoutManager` (unless a manager is given)."""

    def __init__(self, *, max_queue_packets: int, max_queue_bytes: int, **kwargs: Any) -> None:
        if kwargs.get("client_manager") is None:
            kwargs["client_manager"] = FanoutManager()
        super().__init__(serializer=WirePacket, **kwargs)
        self._queue_limits = (max_queue_packets, max_queue_bytes)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        sock = self.eio.sockets.get(eio_sid)
        if type(sock) is AsyncSocket:
            sock.__class__ = BoundedSocket
            sock.bound(*self._queue_limits)
        return await super()._handle_eio_connect(eio_sid, environ)
