"""The SFU broker: decides how each call carries media and speaks Janus for the clients.

Mode (docs/WIRE.md, "The SFU"), as Jitsi Meet does it: a call of two is peer
to peer (``mesh``); when a third person is in it, the server says ``sfu``
(join ack ``call.mode`` and the ``call-mode`` event to everyone); once the
call is back to two for :attr:`SfuSettings.mesh_delay` seconds it says
``mesh`` again. Without a reachable Janus the call stays (or goes back to)
mesh, with ``reason: "media-server-lost"`` when it had been on the SFU.

Brokering: a client never sees Janus. It sends its offer with
``sfu-publish`` and gets Janus's answer; it asks for a participant's media
with ``sfu-subscribe {participantId}`` and gets Janus's offer, answers with
``sfu-answer``. Feeds are found by the participant id the server wrote as the
publisher's ``display`` in *this meeting's* room, so nobody can name a feed
of another meeting. The Janus handles of a connection live on the node that
holds the connection and go with it (``sfu-leave``, disconnect, call moved).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from conference_gui import protocol as wire

from ..bridge import session_room
from ..errors import ApiError
from ..meeting import MeetingRegistry
from .janus import NO_SUCH_ROOM, ROOM_EXISTS, JanusError, JanusGone, JanusHandle, JanusLink
from .janus import JanusTarget as JanusTarget
from .rooms import RoomDirectory, RoomRecord

log = logging.getLogger(__name__)

#: People in a call from which it goes through the SFU (Jitsi's P2P is for two only).
SFU_FROM_PEOPLE = 3
#: Seconds a call must be back to two before it leaves the SFU (flapping guard).
MESH_DELAY = 3.0
#: Most publishers a room takes (Janus refuses the next).
ROOM_PUBLISHERS = 100
#: The room's bitrate cap per publisher, bit/s (Janus sends REMB with it).
ROOM_BITRATE = 1_500_000
#: Seconds between the room's keyframe requests to publishers.
ROOM_FIR_SECONDS = 3
LOST = "media-server-lost"

Emit = Callable[[str, dict[str, Any], str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SfuSettings:
    targets: tuple[JanusTarget, ...] = ()
    sfu_from: int = SFU_FROM_PEOPLE
    mesh_delay: float = MESH_DELAY


@dataclass(eq=False)
class _Subscription:
    handle: JanusHandle
    participant_id: str


@dataclass(eq=False)
class _Client:
    """What one connection has on Janus (on this node)."""

    session_id: str
    user_id: str
    link: JanusLink | None = None
    publisher: JanusHandle | None = None
    subscriptions: dict[str, _Subscription] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _sections_of(sdp: str) -> dict[str, str]:
    """mid -> what it carries, for an offer of audio, camera, screen (in that order)."""
    found: dict[str, str] = {}
    kind: str | None = None
    videos = 0
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif line.startswith("a=mid:") and kind is not None:
            mid = line[6:].strip()
            if kind == "audio" and "audio" not in found.values():
                found[mid] = "audio"
            elif kind == "video":
                found[mid] = "camera" if videos == 0 else "screen"
                videos += 1
            kind = None
    return found


_MLINE = re.compile(r"^m=(\w+) ", re.MULTILINE)


class SfuBroker:
    """One per server node. See the module docstring."""

    def __init__(self, settings: SfuSettings, meetings: MeetingRegistry,
                 rooms: RoomDirectory) -> None:
        self.settings = settings
        self._meetings = meetings
        self._rooms = rooms
        self._links = {t.url: JanusLink(t, on_lost=self._janus_lost, on_up=self._janus_up)
                       for t in settings.targets}
        self._clients: dict[str, _Client] = {}
        self._back_to_mesh: dict[str, asyncio.Task[None]] = {}
        self._known_rooms: set[tuple[str, int, int]] = set()
        self._emit: Emit | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return bool(self._links)

    def attach(self, emit: Emit) -> None:
        """``emit(event, payload, room)``: a Socket.IO emit (across nodes with Redis)."""
        self._emit = emit

    async def start(self) -> None:
        if not self.enabled:
            return
        await self._rooms.open()
        for link in self._links.values():
            link.start()
        # Give the first connection a moment, so the first big call finds Janus up.
        await asyncio.gather(*(link.wait_up(3.0) for link in self._links.values()))

    async def stop(self) -> None:
        for task in [*self._back_to_mesh.values(), *self._tasks]:
            task.cancel()
        self._back_to_mesh.clear()
        for link in self._links.values():
            await link.close()

    def link_of(self, url: str) -> JanusLink | None:
        return self._links.get(url)

    # --- the mode -------------------------------------------------------------------
    async def mode(self, session_id: str) -> str:
        if not self.enabled:
            return "mesh"
        record = await self._rooms.get(session_id)
        return record.mode if record is not None else "mesh"

    async def _people(self, session_id: str) -> int:
        async with self._meetings.view(session_id) as meeting:
            return sum(1 for p in meeting.participants.values() if p.call_connection)

    async def review(self, session_id: str) -> None:
        """After someone came or went: move the call to the SFU, or plan its way back."""
        if not self.enabled:
            return
        people = await self._people(session_id)
        record = await self._rooms.get(session_id)
        if people >= self.settings.sfu_from:
            self._cancel_back(session_id)
            if record is not None and record.mode == "sfu":
                return
            record = await self._place(session_id, record)
            if record is None:
                log.warning("session %s: %d people but no media server is up; mesh",
                            session_id, people)
                return
            if await self._rooms.set_mode(session_id, "sfu"):
                log.info("session %s: %d people, the call goes through %s",
                         session_id, people, record.janus_url)
                await self._announce(session_id, "sfu")
        elif record is not None and record.mode == "sfu":
            if people == 0:
                await self._to_mesh(session_id, "")
            elif session_id not in self._back_to_mesh:
                self._back_to_mesh[session_id] = asyncio.get_running_loop().create_task(
                    self._later_to_mesh(session_id), name=f"sfu-back-{session_id}")
        if people == 0 and record is not None:
            self._tasks_spawn(self._destroy_room(record))

    async def _place(self, session_id: str, record: RoomRecord | None) -> RoomRecord | None:
        """The meeting's room on a Janus that is up (a new one if its own is down)."""
        if record is not None:
            link = self._links.get(record.janus_url)
            if link is not None and link.up:
                return record
        up = [url for url, link in self._links.items() if link.up]
        if not up:
            return None
        load = await self._rooms.load()
        # Fewest meetings first; meetings placed at the same moment (on two nodes)
        # spread by a hash of their id rather than all taking the first URL.
        best = min(up, key=lambda url: (load.get(url, 0), _spread(session_id, url)))
        if record is None:
            return await self._rooms.assign(session_id, best)
        return await self._rooms.move(session_id, best)

    def _cancel_back(self, session_id: str) -> None:
        task = self._back_to_mesh.pop(session_id, None)
        if task is not None:
            task.cancel()

    async def _later_to_mesh(self, session_id: str) -> None:
        try:
            await asyncio.sleep(self.settings.mesh_delay)
            self._back_to_mesh.pop(session_id, None)
            if await self._people(session_id) < self.settings.sfu_from:
                await self._to_mesh(session_id, "")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("session %s: going back to mesh failed", session_id)

    async def _to_mesh(self, session_id: str, reason: str) -> None:
        if await self._rooms.set_mode(session_id, "mesh", reason):
            log.info("session %s: the call goes peer to peer%s", session_id,
                     f" ({reason})" if reason else "")
            await self._announce(session_id, "mesh", reason or None)

    async def _announce(self, session_id: str, mode: str, reason: str | None = None) -> None:
        if self._emit is None:
            return
        payload = wire.to_json(wire.CallModeEvent(mode=mode, reason=reason))  # type: ignore[arg-type]
        await self._emit("call-mode", payload, session_room(session_id))

    async def _janus_lost(self, link: JanusLink) -> None:
        """Every call on that Janus goes back to the mesh at once; its handles are gone."""
        for key, client in list(self._clients.items()):
            if client.link is link:
                self._clients.pop(key, None)
        self._known_rooms = {k for k in self._known_rooms if k[0] != link.url}
        for session_id in await self._rooms.sessions_on(link.url):
            self._cancel_back(session_id)
            await self._to_mesh(session_id, LOST)

    async def _janus_up(self, link: JanusLink) -> None:
        """Big calls that fell back to the mesh may go through the SFU again."""
        for session_id in await self._rooms.sessions_on(link.url):
            await self.review(session_id)

    def _tasks_spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- rooms ----------------------------------------------------------------------
    async def _ensure_room(self, link: JanusLink, record: RoomRecord) -> None:
        key = (link.url, link.epoch, record.room)
        if key in self._known_rooms:
            return
        body: dict[str, Any] = {
            "request": "create", "room": record.room, "secret": record.secret,
            "pin": record.pin, "is_private": True, "publishers": ROOM_PUBLISHERS,
            "bitrate": ROOM_BITRATE, "audiocodec": "opus", "videocodec": "vp8",
            "notify_joining": False, "permanent": False,
            # A keyframe request to every publisher this often (seconds): a subscriber
            # whose decoder lost its footing recovers within it even if its own
            # PLI got lost.
            "fir_freq": ROOM_FIR_SECONDS,
            "description": f"conference {record.session_id[:12]}",
        }
        if link.target.admin_key:
            body["admin_key"] = link.target.admin_key
        try:
            await link.room_request(body)
        except JanusError as exc:
            if exc.code != ROOM_EXISTS:
                raise
        self._known_rooms.add(key)

    async def _destroy_room(self, record: RoomRecord) -> None:
        """The meeting is empty: its room goes (a later big call makes a new one)."""
        link = self._links.get(record.janus_url)
        try:
            if link is not None and link.up:
                with contextlib.suppress(JanusError):
                    await link.room_request({"request": "destroy", "room": record.room,
                                             "secret": record.secret})
                self._known_rooms.discard((link.url, link.epoch, record.room))
            await self._rooms.forget(record.session_id)
        except Exception:
            log.exception("could not destroy the room of %s", record.session_id)

    async def _publishers(self, link: JanusLink, record: RoomRecord) -> dict[str, int]:
        """participant id -> feed id of everyone publishing in the meeting's room."""
        try:
            data = await link.room_request({"request": "listparticipants", "room": record.room})
        except JanusError as exc:
            if exc.code == NO_SUCH_ROOM:
                return {}
            raise
        found: dict[str, int] = {}
        for p in data.get("participants") or []:
            if isinstance(p, dict) and p.get("publisher") and isinstance(p.get("id"), int):
                display = p.get("display")
                if isinstance(display, str):
                    found[display] = p["id"]
        return found

    # --- client requests --------------------------------------------------------------
    async def _live_room(self, session_id: str) -> tuple[JanusLink, RoomRecord]:
        record = await self._rooms.get(session_id)
        if record is None:
            raise ApiError(409, "not_sfu", "This call does not go through the media server")
        link = self._links.get(record.janus_url)
        if link is None or not link.up:
            raise ApiError(503, "media_server_unavailable",
                           "The media server is unreachable; the call goes peer to peer")
        return link, record

    def _client(self, key: str, session_id: str, user_id: str) -> _Client:
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = _Client(session_id, user_id)
        return client

    async def publish(self, key: str, session_id: str, user_id: str,
                      body: wire.SfuPublish) -> wire.SfuPublishAck:
        link, record = await self._live_room(session_id)
        if record.mode != "sfu":
            raise ApiError(409, "not_sfu", "This call goes peer to peer now")
        client = self._client(key, session_id, user_id)
        async with client.lock:
            try:
                await self._ensure_room(link, record)
                old, client.publisher = client.publisher, None
                if old is not None:
                    await old.detach()
                publishers = await self._publishers(link, record)
                stale = publishers.pop(user_id, None)
                if stale is not None:  # an older connection of this user still publishes
                    with contextlib.suppress(JanusError):
                        await link.room_request({"request": "kick", "room": record.room,
                                                 "secret": record.secret, "id": stale})
                handle = await link.attach(
                    lambda event: self._publisher_event(client, handle, event))
                client.link = link
                client.publisher = handle
                await handle.send({
                    "request": "join", "ptype": "publisher", "room": record.room,
                    "pin": record.pin, "id": _feed_id(), "display": user_id,
                })
                descriptions = [{"mid": mid, "description": what}
                                for mid, what in _sections_of(body.sdp).items()]
                _, jsep = await handle.send(
                    {"request": "publish", "descriptions": descriptions},
                    {"type": "offer", "sdp": body.sdp})
            except JanusGone as exc:
                raise ApiError(503, "media_server_unavailable", exc.reason) from None
            except JanusError as exc:
                log.warning("publish of %s refused by janus: %s", user_id, exc)
                raise ApiError(502, "media_server_error",
                               f"The media server refused: {exc.reason}") from None
        if jsep is None or not isinstance(jsep.get("sdp"), str):
            raise ApiError(502, "media_server_error", "The media server sent no answer")
        # "sfu-published" follows when Janus says the publisher's media is up (webrtcup).
        return wire.SfuPublishAck(sdp=jsep["sdp"], publishers=sorted(publishers))

    async def subscribe(self, key: str, session_id: str, user_id: str,
                        body: wire.SfuSubscribe) -> wire.SfuSubscribeAck:
        target = body.participant_id
        if target == user_id:
            raise ApiError(422, "invalid", "Your own media does not come back from the server")
        async with self._meetings.view(session_id) as meeting:
            present = target in meeting.participants
        if not present:
            raise ApiError(404, "not_found", "The participant is not in this session")
        link, record = await self._live_room(session_id)
        client = self._client(key, session_id, user_id)
        try:
            feed = (await self._publishers(link, record)).get(target)
            if feed is None:
                raise ApiError(404, "not_found", "The participant does not publish (yet)")
            handle = await link.attach()
            try:
                data, jsep = await handle.send({
                    "request": "join", "ptype": "subscriber", "room": record.room,
                    "pin": record.pin, "streams": [{"feed": feed}],
                })
            except BaseException:
                await handle.detach()
                raise
        except JanusGone as exc:
            raise ApiError(503, "media_server_unavailable", exc.reason) from None
        except JanusError as exc:
            raise ApiError(502, "media_server_error",
                           f"The media server refused: {exc.reason}") from None
        if jsep is None or not isinstance(jsep.get("sdp"), str):
            await handle.detach()
            raise ApiError(502, "media_server_error", "The media server sent no offer")
        subscription = secrets.token_hex(12)
        client.link = link
        client.subscriptions[subscription] = _Subscription(handle, target)
        return wire.SfuSubscribeAck(subscription=subscription, participant_id=target,
                                    sdp=jsep["sdp"], sections=_subscribed(data, jsep["sdp"]))

    async def answer(self, key: str, body: wire.SfuAnswer) -> wire.Ok:
        subscription = self._subscription(key, body.subscription)
        try:
            await subscription.handle.send({"request": "start"},
                                           {"type": "answer", "sdp": body.sdp})
        except JanusGone as exc:
            raise ApiError(503, "media_server_unavailable", exc.reason) from None
        except JanusError as exc:
            raise ApiError(502, "media_server_error",
                           f"The media server refused: {exc.reason}") from None
        return wire.Ok()

    async def unsubscribe(self, key: str, body: wire.SfuUnsubscribe) -> wire.Ok:
        client = self._clients.get(key)
        subscription = client.subscriptions.pop(body.subscription, None) if client else None
        if subscription is not None:
            await subscription.handle.detach()
        return wire.Ok()

    def _publisher_event(self, client: _Client, handle: JanusHandle,
                         event: dict[str, Any]) -> None:
        """Janus's own news of a publisher: media up (tell everyone), or hung up."""
        kind = event.get("janus")
        if client.publisher is not handle:
            return
        if kind == "webrtcup":
            self._tasks_spawn(
                self._emit_publisher("sfu-published", client.session_id, client.user_id))
        elif kind == "hangup":
            log.info("janus hung up the publisher of %s: %s", client.user_id,
                     event.get("reason"))
            self._tasks_spawn(
                self._emit_publisher("sfu-unpublished", client.session_id, client.user_id))

    def _subscription(self, key: str, subscription_id: str) -> _Subscription:
        client = self._clients.get(key)
        subscription = client.subscriptions.get(subscription_id) if client else None
        if subscription is None:
            raise ApiError(404, "not_found", "No such subscription on this connection")
        return subscription

    async def leave(self, key: str) -> wire.Ok:
        """Unpublish and drop every subscription of this connection (also on disconnect)."""
        client = self._clients.pop(key, None)
        if client is None:
            return wire.Ok()
        handles = [s.handle for s in client.subscriptions.values()]
        client.subscriptions.clear()
        publisher, client.publisher = client.publisher, None
        if publisher is not None:
            handles.append(publisher)
        await asyncio.gather(*(h.detach() for h in handles), return_exceptions=True)
        if publisher is not None:
            await self._emit_publisher("sfu-unpublished", client.session_id, client.user_id)
        return wire.Ok()

    async def _emit_publisher(self, event: str, session_id: str, user_id: str) -> None:
        if self._emit is None:
            return
        await self._emit(event, wire.to_json(wire.SfuPublisherEvent(participant_id=user_id)),
                         session_room(session_id))


def _spread(session_id: str, url: str) -> str:
    return hashlib.sha256(f"{session_id} {url}".encode()).hexdigest()


def _feed_id() -> int:
    return secrets.randbelow(2**52 - 1) + 1


def _subscribed(data: dict[str, Any], sdp: str) -> list[wire.SfuSection]:
    """What each m-line of a subscription's offer carries, from the ``attached`` event."""
    kinds = _MLINE.findall(sdp)
    sections: list[wire.SfuSection] = []
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    by_mindex = {s.get("mindex"): s for s in streams}
    videos = 0
    for index, kind in enumerate(kinds):
        if kind not in ("audio", "video"):
            continue
        stream = by_mindex.get(index, {})
        described = stream.get("feed_description")
        if kind == "audio":
            sections.append("audio")
        elif described == "camera" or described == "screen":
            sections.append(described)
        else:
            sections.append("camera" if videos == 0 else "screen")
        if kind == "video":
            videos += 1
    return sections
