"""Room emits written once per connection (transport.FanoutManager), and what must not change.

The fast path writes one ready websocket frame straight to every idle
connection. These tests hold it to the guarantees of the queue path it
replaces: every connection gets every event exactly once and in order — fast
ones, one whose reader stalls (its packets wait in the bounded queue), one that
compresses, one that long-polls — while acks and pings travel in between; and
the frames it writes are the frames python-socketio would have written.
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conference_gui.server import ServerConfig, ServerThread
from conference_gui.server.app import SIO
from conference_gui.server.auth import Identity, TokenService
from conference_gui.server.bridge import NAMESPACE, session_room
from conference_gui.server.errors import ApiError
from conference_gui.server.transport import WIRE_JSON, BoundedSocket, text_frame
from tests.reliability.rawsocket import RawSocket

from .support import NS, Api, Member, Peer, until

BURST = 300


def run(main: Any) -> None:
    asyncio.run(asyncio.wait_for(main(), 60))


def _socket_of(srv: ServerThread, eio_sid: str) -> BoundedSocket:
    sock = srv.app[SIO].eio.sockets[eio_sid]
    assert isinstance(sock, BoundedSocket)
    return sock


async def _burst(srv: ServerThread, session_id: str, count: int, pad: int = 0,
                 start: int = 0, every: float = 0.0) -> None:
    """``count`` events ``seq {"i": n}`` to the meeting's room on the server's loop (as
    the bridge emits them): back to back, or ``every`` seconds."""
    sio = srv.app[SIO]

    async def emit_all() -> None:
        for i in range(start, start + count):
            await sio.emit("seq", {"i": i, "pad": "x" * pad}, room=session_room(session_id),
                           namespace=NAMESPACE)
            if every:
                await asyncio.sleep(every)

    await asyncio.to_thread(srv.run, emit_all, 30)


class CompressingPeer:
    """A websocket client that asks for per-message deflate (as browsers do), speaking
    engine.io and Socket.IO by hand over aiohttp."""

    def __init__(self, url: str, member: Member) -> None:
        self.url, self.member = url, member
        self.events: list[tuple[str, Any]] = []
        self.eio_sid = ""

    async def __aenter__(self) -> CompressingPeer:
        self.http = aiohttp.ClientSession()
        ws_url = self.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.http.ws_connect(ws_url, compress=15)
        assert self.ws.compress == 15  # the server agreed to compress
        opened = await self.ws.receive_str()
        self.eio_sid = json.loads(opened[1:])["sid"]
        await self.ws.send_str(f"40{NS}," + json.dumps({"token": self.member.token}))
        assert (await self.ws.receive_str()).startswith(f"40{NS},")
        await self.ws.send_str(f"42{NS},1" + json.dumps(
            ["join-session", {"sessionId": self.member.session_id}]))
        while not (await self._next()).startswith(f"43{NS},1"):
            pass
        self.reader = asyncio.ensure_future(self._read())
        return self

    async def _next(self) -> str:
        text = await self.ws.receive_str()
        if text == "2":
            await self.ws.send_str("3")
        return text

    async def _read(self) -> None:
        prefix = f"42{NS},"
        while True:
            text = await self._next()
            if text.startswith(prefix):
                event, *args = json.loads(text[len(prefix):])
                self.events.append((event, args[0] if args else None))

    def received(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    async def __aexit__(self, *exc: object) -> None:
        self.reader.cancel()
        await self.ws.close()
        await self.http.close()


def _in_order(events: list[Any], count: int) -> bool:
    return [e["i"] for e in events] == list(range(count))


def test_every_kind_of_connection_gets_every_event_once_and_in_order(api: Api,
                                                                      srv: ServerThread) -> None:
    host = api.create()
    people = [api.join(host, f"P{i}") for i in range(8)]

    async def main() -> None:
        fast = [Peer(api.url, p) for p in people[:6]]
        for peer in fast:
            await peer.connect()
            await peer.join()
        async with CompressingPeer(api.url, people[7]) as deflating:
            # A reader that stalls: a small receive window, not read during the burst.
            slow = await asyncio.to_thread(RawSocket, api.url, host.token, rcvbuf=4096)
            await asyncio.to_thread(slow.call, "join-session", {"sessionId": host.session_id})

            # Acks travel through the same connections while the burst is written.
            async def chatter(peer: Peer) -> None:
                for _ in range(5):
                    assert "error" not in await peer.call("chat-history", {"limit": 5})

            await asyncio.gather(_burst(srv, host.session_id, BURST, pad=200),
                                 *(chatter(p) for p in fast[:3]))
            for peer in fast:
                await until(lambda p=peer: len(p.received("seq")) >= BURST, what="the burst")
            await until(lambda: len(deflating.received("seq")) >= BURST, what="deflated burst")
            slow_seen: list[Any] = []

            def read_slow() -> None:
                while len(slow_seen) < BURST:
                    text = slow.recv_text()
                    if text.startswith(f"42{NS},"):
                        event, data = json.loads(text[len(f"42{NS},"):])
                        if event == "seq":
                            slow_seen.append(data)

            await asyncio.to_thread(read_slow)
            slow.close()

            # Long polling. (python-engineio's client gives up on a poll answer of
            # more than 16 packets, so these come a few at a time.)
            polling = Peer(api.url, people[6], transports=["polling"])
            await polling.connect()
            await polling.join()
            for i in range(12):
                await _burst(srv, host.session_id, 1, start=BURST + i)
                await asyncio.sleep(0.02)
            await until(lambda: len(polling.received("seq")) >= 12, what="the polling peer")
            await asyncio.sleep(0.2)  # nothing more (no duplicates) arrives

            for peer in fast:
                assert _in_order(peer.received("seq"), BURST + 12), peer.member.name
            assert _in_order(deflating.received("seq"), BURST + 12)
            assert _in_order(slow_seen, BURST)
            assert [e["i"] for e in polling.received("seq")] == list(range(BURST, BURST + 12))

            fast_sockets = [_socket_of(srv, p.sio.eio.sid) for p in fast]
            # The fast path carried the burst to readers that keep up ...
            assert sum(s.direct_writes for s in fast_sockets) > BURST * len(fast) // 2
            # ... and never to a connection that compresses or polls.
            assert _socket_of(srv, deflating.eio_sid).direct_writes == 0
            assert _socket_of(srv, polling.sio.eio.sid).direct_writes == 0
            await polling.close()
        for peer in fast:
            await peer.close()

    run(main)


def test_a_reader_that_stalls_still_overflows_its_bounded_queue(data_dir: Path) -> None:
    """The transport's buffer takes what the kernel does not, up to its high-water mark;
    past it the packets wait in the connection's queue, whose bound still drops the
    connection (docs/RELIABILITY.md, Limits)."""
    srv = ServerThread(ServerConfig(port=0, data_dir=data_dir, max_queue_packets=100))
    srv.start()
    try:
        api = Api(srv.url)
        host = api.create()
        guest = api.join(host)

        async def main() -> None:
            async with Peer(api.url, guest) as reader:
                await reader.join()
                stalled = await asyncio.to_thread(RawSocket, api.url, host.token, rcvbuf=4096)
                await asyncio.to_thread(stalled.call, "join-session",
                                        {"sessionId": host.session_id})
                # 8 MB in 2 s: more than the kernel's buffers and the queue's 100
                # packets hold for the one that does not read, easy for the other.
                await _burst(srv, host.session_id, 400, pad=20_000, every=0.005)
                await until(lambda: len(reader.received("seq")) == 400, what="the reader")
                assert _in_order(reader.received("seq"), 400)
                # The stalled connection was dropped: the server counts one connection.
                await until(lambda: srv.connection_count(host.session_id) == 1,
                            what="the stalled connection dropped")
                stalled.close()

        run(main)
    finally:
        srv.stop()


def test_the_shared_frame_is_the_frame_aiohttp_writes() -> None:
    for size in (0, 1, 125, 126, 65535, 65536, 70000):
        text = "é" * (size // 2) + "x" * (size % 2)
        frame = text_frame(text)
        payload = text.encode()
        assert frame.endswith(payload)
        header = frame[: len(frame) - len(payload)]
        assert header[0] == 0x81  # FIN, text, no RSV bits (not compressed)
        length = header[1] & 0x7F
        assert header[1] & 0x80 == 0  # a server never masks
        if length == 126:
            assert int.from_bytes(header[2:4], "big") == len(payload)
        elif length == 127:
            assert int.from_bytes(header[2:10], "big") == len(payload)
        else:
            assert length == len(payload)


def test_wire_json_is_compact_utf8_and_refuses_what_is_not_json() -> None:
    value = {"name": "Zoë 🎉", "n": [1, 2.5, None, True], "nested": {"q": '"\\\n'}}
    text = WIRE_JSON.dumps(value)
    assert json.loads(text) == value
    assert "🎉" in text and " " not in text.replace("Zoë 🎉", "")
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError):
            WIRE_JSON.dumps({"x": [bad, None]})
        with pytest.raises(ValueError):
            WIRE_JSON.dumps([bad])


def test_a_remembered_token_still_expires() -> None:
    now = [1_000_000.0]
    tokens = TokenService(b"s" * 32, ttl_seconds=60, clock=lambda: now[0])
    import time

    now[0] = time.time()
    who = Identity("u1", "s1", "Ann", "host")
    token = tokens.issue(who)
    assert tokens.verify(token) == who
    assert tokens.verify(token) == who  # remembered
    other = TokenService(b"t" * 32, ttl_seconds=60)
    with pytest.raises(ApiError) as refused:
        other.verify(token)  # another secret never trusts it
    assert refused.value.code == "unauthorized"
    expired_soon = TokenService(b"s" * 32, ttl_seconds=1)
    short = expired_soon.issue(who)
    assert expired_soon.verify(short) == who
    time.sleep(2.1)
    for _ in range(2):  # once remembered, once after it was forgotten
        with pytest.raises(ApiError) as late:
            expired_soon.verify(short)
        assert late.value.code == "token_expired"
