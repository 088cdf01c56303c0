"""A client of one Janus Gateway (1.x) over its WebSocket API, for the VideoRoom plugin.

One :class:`JanusLink` per Janus instance and server node: one WebSocket
(subprotocol ``janus-protocol``), one Janus *session* kept alive with a
``keepalive`` every :data:`KEEPALIVE_SECONDS` (Janus drops a silent session
after its ``session_timeout``, 60 s by default), and any number of plugin
*handles* on it (one per publisher or subscription a client has).

Requests are matched to their answers by ``transaction``. Janus answers a
plugin message either at once (``success`` with ``plugindata``: create,
listparticipants, ...) or with an ``ack`` followed by an ``event`` with the
same transaction (join, publish, start, ...); :meth:`JanusHandle.send`
waits for whichever comes. Events without a transaction of ours (``hangup``,
``webrtcup``, ``detached``, publisher lists) go to the handle's listener.

When the socket closes, every pending request fails with :class:`JanusGone`,
:attr:`JanusLink.on_lost` is called, and the link connects again in the
background (every :data:`RECONNECT_SECONDS`) with a new session; handles of
the old one are gone (so are its rooms, if Janus itself restarted).

Nothing of Janus's API reaches clients: the broker (``broker.py``) speaks to
Janus through this module and to clients through its own events.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import aiohttp

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
RECONNECT_SECONDS = 2.0
REQUEST_TIMEOUT = 10.0
VIDEOROOM = "janus.plugin.videoroom"

#: VideoRoom error codes the broker branches on (janus_videoroom.c).
ROOM_EXISTS = 427
NO_SUCH_ROOM = 426
NO_SUCH_FEED = 428

EventListener = Callable[[dict[str, Any]], None]


class JanusError(Exception):
    """Janus (or the plugin) refused a request."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusGone(JanusError):
    """The connection to Janus is down (or went down while waiting)."""

    def __init__(self, reason: str = "the media server is unreachable") -> None:
        super().__init__(0, reason)


@dataclass(frozen=True, slots=True)
class JanusTarget:
    """Where one Janus is and the secrets it wants (parsed from ``--janus-url``).

    ``ws://HOST:PORT[/PATH][?apisecret=S&adminkey=K]``: ``apisecret`` goes with
    every request (Janus's ``api_secret``), ``adminkey`` with every room
    creation (the VideoRoom's ``admin_key``). The URL shown in logs and stored
    in the database is :attr:`url` (without the secrets).
    """

    url: str
    api_secret: str | None = None
    admin_key: str | None = None

    @classmethod
    def parse(cls, text: str) -> JanusTarget:
        parts = urlsplit(text.strip())
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"--janus-url must be ws://HOST:PORT or wss://HOST:PORT, not {text!r}")
        query = parse_qs(parts.query)
        secret = query.get("apisecret", [None])[0]
        key = query.get("adminkey", [None])[0]
        url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))
        return cls(url=url, api_secret=secret or None, admin_key=key or None)


class JanusHandle:
    """One VideoRoom plugin handle on a :class:`JanusLink`'s session."""

    def __init__(self, link: JanusLink, handle_id: int, epoch: int) -> None:
        self.link = link
        self.id = handle_id
        self.epoch = epoch
        self.listener: EventListener | None = None
        self.detached = False

    async def send(
        self, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A plugin message; returns the plugin's data and its jsep (if any).

        Raises :class:`JanusError` when Janus or the plugin says no.
        """
        message: dict[str, Any] = {"janus": "message", "handle_id": self.id, "body": body}
        if jsep is not None:
            message["jsep"] = jsep
        reply = await self.link.request(message, epoch=self.epoch)
        plugindata = reply.get("plugindata") or {}
        data = plugindata.get("data") or {}
        if not isinstance(data, dict):
            raise JanusError(0, "malformed plugin answer")
        if "error_code" in data or (data.get("videoroom") == "event" and "error" in data):
            raise JanusError(int(data.get("error_code", 0)), str(data.get("error", "refused")))
        answer = reply.get("jsep")
        return data, answer if isinstance(answer, dict) else None

    async def detach(self) -> None:
        """Let go of the handle (Janus hangs its PeerConnection up). Never raises."""
        if self.detached:
            return
        self.detached = True
        self.link.forget(self)
        if self.link.epoch != self.epoch:
            return  # its session is gone already
        with contextlib.suppress(JanusError, TimeoutError):
            await self.link.request({"janus": "detach", "handle_id": self.id}, epoch=self.epoch)


class JanusLink:
    """One WebSocket and one Janus session to one Janus instance (see the module doc)."""

    def __init__(
        self,
        target: JanusTarget,
        *,
        on_lost: Callable[[JanusLink], Awaitable[None]] | None = None,
        on_up: Callable[[JanusLink], Awaitable[None]] | None = None,
    ) -> None:
        self.target = target
        self.on_lost = on_lost
        self.on_up = on_up
        #: grows with every new Janus session (a handle of an older one is void)
        self.epoch = 0
        self._session_id: int | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._plugin_requests: set[str] = set()
        self._handles: dict[int, JanusHandle] = {}
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._up = asyncio.Event()
        self._closing = False
        self._reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return self.target.url

    @property
    def up(self) -> bool:
        return self._up.is_set()

    def __repr__(self) -> str:
        return f"JanusLink({self.target.url!r}, {'up' if self.up else 'down'})"

    # --- life -------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="janus-link")

    async def wait_up(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), timeout)
        return self.up

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop("closing")
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _run(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=5))
        first = True
        while not self._closing:
            try:
                await self._connect()
            except (OSError, aiohttp.ClientError, JanusError, TimeoutError) as exc:
                if first:
                    log.warning("janus %s: cannot connect: %s", self.url, exc)
                first = False
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            first = True
            log.info("janus %s: session %s up", self.url, self._session_id)
            if self.on_up is not None:
                await _quietly(self.on_up(self))
            await self._serve()
            if self._closing:
                return
            log.warning("janus %s: connection lost", self.url)
            if self.on_lost is not None:
                await _quietly(self.on_lost(self))
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _connect(self) -> None:
        assert self._http is not None
        ws = await self._http.ws_connect(
            self.url, protocols=("janus-protocol",), heartbeat=None, max_msg_size=4 * 2**20)
        self._ws = ws
        reader = asyncio.get_running_loop().create_task(self._read(ws), name="janus-read")
        try:
            reply = await self.request({"janus": "create"}, epoch=None)
            data = reply.get("data") or {}
            session_id = data.get("id")
            if not isinstance(session_id, int):
                raise JanusError(0, "no session id in the create answer")
        except BaseException:
            reader.cancel()
            await ws.close()
            self._ws = None
            raise
        self._session_id = session_id
        self.epoch += 1
        self._reader = reader
        self._up.set()

    async def _serve(self) -> None:
        """Keep the session alive until the socket closes."""
        reader = self._reader
        assert reader is not None
        while not reader.done():
            done, _ = await asyncio.wait({reader}, timeout=KEEPALIVE_SECONDS)
            if done:
                break
            try:
                await self.request({"janus": "keepalive"}, epoch=self.epoch)
            except JanusError as exc:
                log.warning("janus %s: keepalive failed: %s", self.url, exc)
                break
        await self._drop("connection lost")

    async def _drop(self, why: str) -> None:
        self._up.clear()
        self._session_id = None
        ws, self._ws = self._ws, None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(JanusGone(f"the media server connection closed ({why})"))
        handles, self._handles = self._handles, {}
        for handle in handles.values():
            handle.detached = True
            _tell(handle, {"janus": "detached", "reason": why})

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                    break
                continue
            try:
                message = json.loads(msg.data)
            except ValueError:
                log.warning("janus %s: unreadable message dropped", self.url)
                continue
            if isinstance(message, dict):
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("janus")
        transaction = message.get("transaction")
        future = self._pending.get(transaction) if isinstance(transaction, str) else None
        if kind == "ack" and transaction in self._plugin_requests:
            return  # an async plugin request: its answer is the "event" with this transaction
        if future is not None and kind in ("success", "error", "ack", "event"):
            self._pending.pop(transaction, None)  # type: ignore[arg-type]
            if not future.done():
                if kind == "error":
                    error = message.get("error") or {}
                    future.set_exception(
                        JanusError(int(error.get("code", 0)), str(error.get("reason", "error"))))
                else:
                    future.set_result(message)
            return
        sender = message.get("sender")
        handle = self._handles.get(sender) if isinstance(sender, int) else None
        if handle is not None:
            _tell(handle, message)
        elif kind not in ("ack", "keepalive"):
            log.debug("janus %s: unrouted %s", self.url, kind)

    # --- requests ---------------------------------------------------------------
    async def request(self, message: dict[str, Any], *, epoch: int | None) -> dict[str, Any]:
        """Send one Janus API message and wait for its answer (see :meth:`JanusHandle.send`)."""
        ws = self._ws
        if ws is None or ws.closed or (epoch is not None and epoch != self.epoch):
            raise JanusGone()
        transaction = secrets.token_hex(8)
        payload = dict(message, transaction=transaction)
        if self._session_id is not None and message.get("janus") != "create":
            payload["session_id"] = self._session_id
        if self.target.api_secret:
            payload["apisecret"] = self.target.api_secret
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        # "message" to a plugin may be answered by ack + event: wait for the event.
        if message.get("janus") == "message":
            self._plugin_requests.add(transaction)
        self._pending[transaction] = future
        try:
            await ws.send_str(json.dumps(payload))
            return await asyncio.wait_for(future, REQUEST_TIMEOUT)
        except TimeoutError:
            raise JanusError(0, f"no answer to {message.get('janus')} within "
                                f"{REQUEST_TIMEOUT:.0f} s") from None
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise JanusGone(str(exc)) from exc
        finally:
            self._pending.pop(transaction, None)
            self._plugin_requests.discard(transaction)

    async def attach(self, listener: EventListener | None = None) -> JanusHandle:
        """A new VideoRoom handle on the current session."""
        epoch = self.epoch
        reply = await self.request({"janus": "attach", "plugin": VIDEOROOM}, epoch=epoch)
        handle_id = (reply.get("data") or {}).get("id")
        if not isinstance(handle_id, int):
            raise JanusError(0, "no handle id in the attach answer")
        handle = JanusHandle(self, handle_id, epoch)
        handle.listener = listener
        self._handles[handle_id] = handle
        return handle

    def forget(self, handle: JanusHandle) -> None:
        self._handles.pop(handle.id, None)

    async def room_request(self, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous VideoRoom request (create, destroy, listparticipants, exists)
        on a short-lived handle."""
        handle = await self.attach()
        try:
            data, _ = await handle.send(body)
            return data
        finally:
            await handle.detach()


def _tell(handle: JanusHandle, message: dict[str, Any]) -> None:
    listener = handle.listener
    if listener is None:
        return
    try:
        listener(message)
    except Exception:
        log.exception("janus event listener failed")


async def _quietly(awaitable: Awaitable[None]) -> None:
    try:
        await awaitable
    except Exception:
        log.exception("janus link callback failed")
