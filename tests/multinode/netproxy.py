"""Small TCP middlemen for the multi-node tests, each on its own asyncio loop in a thread.

- :class:`Balancer`: what a load balancer with sticky sessions does for a
  websocket client: each TCP connection goes to the first backend that accepts
  it and stays there; when that node dies, the connection breaks and the
  client's reconnect lands on a live node.
- :class:`RedisDropProxy`: sits between one node and Redis and can drop the next
  pub/sub message whose payload contains a marker - one inter-node message
  lost in the network, which Redis pub/sub (at-most-once) never redelivers.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class _LoopThread:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def serve(self, handler: Handler) -> int:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            try:
                await handler(reader, writer)
            except asyncio.CancelledError:
                pass  # closing the proxy; asyncio would log a cancelled handler as an error
            finally:
                self._tasks.discard(task)

        async def start() -> int:
            self._server = await asyncio.start_server(tracked, "127.0.0.1", 0)
            return int(self._server.sockets[0].getsockname()[1])

        self.port = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        return self.port

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.sleep(0)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _splice(client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                  upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                  down: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
                  = _pipe) -> None:
    (c_reader, c_writer), (u_reader, u_writer) = client, upstream
    tasks = [asyncio.ensure_future(_pipe(c_reader, u_writer)),
             asyncio.ensure_future(down(u_reader, c_writer))]
    try:
        # When either side ends, end both: a dead node must look dead to the client.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for writer in (c_writer, u_writer):
            with contextlib.suppress(Exception):
                writer.close()


class Balancer:
    """Forwards each connection to the first backend (in order) that accepts it."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = list(backends)
        self.routed: list[int] = []  # backend port of each accepted connection
        self._loop = _LoopThread("balancer")
        self.port = self._loop.serve(self._handle)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for port in list(self.backends):
            try:
                upstream = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue
            self.routed.append(port)
            await _splice((reader, writer), upstream)
            return
        writer.close()

    def close(self) -> None:
        self._loop.close()


def resp_frame_end(buf: bytes | bytearray, pos: int = 0) -> int | None:
    """End offset of the complete RESP2/RESP3 value starting at ``pos``, or ``None``."""
    line_end = buf.find(b"\r\n", pos)
    if line_end < 0:
        return None
    kind, head = buf[pos:pos + 1], buf[pos + 1:line_end]
    after = line_end + 2
    if kind in (b"$", b"=", b"!"):  # bulk: length, bytes, CRLF
        size = int(head)
        if size < 0:
            return after
        end = after + size + 2
        return end if len(buf) >= end else None
    if kind in (b"*", b">", b"~", b"%", b"|"):  # aggregates
        count = int(head)
        if kind in (b"%", b"|"):
            count *= 2
        for _ in range(max(count, 0)):
            found = resp_frame_end(buf, after)
            if found is None:
                return None
            after = found
        return after
    return after  # simple string, error, integer, null, double, boolean, big number


class RedisDropProxy:
    """Redis in the middle: passes everything, except one armed pub/sub message it drops."""

    def __init__(self, redis_port: int) -> None:
        self.redis_port = redis_port
        self.dropped: list[bytes] = []
        self.forwarded_messages = 0
        self._armed: bytes | None = None
        self._lock = threading.Lock()
        self._loop = _LoopThread("redis-drop-proxy")
        self.port = self._loop.serve(self._handle)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def drop_next(self, marker: bytes) -> None:
        """Drop the next pub/sub message whose payload contains ``marker``."""
        with self._lock:
            self._armed = marker

    @property
    def armed(self) -> bool:
        with self._lock:
            return self._armed is not None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await asyncio.open_connection("127.0.0.1", self.redis_port)
        await _splice((reader, writer), upstream, self._filter)

    def _should_drop(self, frame: bytes) -> bool:
        is_message = frame.startswith((b"*3\r\n$7\r\nmessage\r\n", b">3\r\n$7\r\nmessage\r\n"))
        if not is_message:
            return False
        with self._lock:
            if self._armed is not None and self._armed in frame:
                self._armed = None
                self.dropped.append(frame)
                return True
        self.forwarded_messages += 1
        return False

    async def _filter(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buf = bytearray()
        try:
            while chunk := await reader.read(65536):
                buf += chunk
                out = bytearray()
                while (end := resp_frame_end(buf)) is not None:
                    frame = bytes(buf[:end])
                    del buf[:end]
                    if not self._should_drop(frame):
                        out += frame
                if out:
                    writer.write(bytes(out))
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def close(self) -> None:
        self._loop.close()
