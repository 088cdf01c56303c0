"""The call through the SFU: one publisher connection, one subscription per other person.

Runs on the call engine's loop (``engine.py``), next to the mesh, and reuses
what the mesh uses: the local relayed tracks (``LocalMedia.subscribe()``)
feed the publisher connection, and every subscription writes into the same
:class:`~conference_gui.media.receive.RemotePeer` (FrameSlots, level meter,
sound ring) as the mesh connection to that person would. Tiles, levels and
the mix do not know which path a picture or a sound took.

The server decides the mode (``call-mode``) and brokers the media server's
signaling (docs/WIRE.md, "The SFU"): this module never talks to Janus. It
sends ``sfu-publish`` / ``sfu-subscribe`` / ``sfu-answer`` /
``sfu-unsubscribe`` / ``sfu-leave`` through :attr:`SfuSession.ask` (the
window's one socket, marshalled by the Qt side) and hears ``sfu-published``
and ``sfu-unpublished``.

Make before break, both ways (nobody's media stops across a switch):

* mesh -> SFU: publish, subscribe to whoever publishes. When the
  subscription to a person is connected, that person's mesh connection stops
  feeding the mix (its sound would double) and is closed
  :data:`HANDOVER_GRACE` seconds later (quietly, no ``bye``: the other side
  does the same on its own schedule, and its SFU mode keeps it from
  re-offering).
* SFU -> mesh: the mesh offers again. When the mesh connection to a person is
  connected, the subscription's sound is silenced, and after the grace it is
  unsubscribed; once no subscription is left, the publisher goes too
  (``sfu-leave``).

Only the pure bookkeeping is here; the mesh's side of it (offers allowed or
not, closing a pair quietly) is the engine's, through :class:`SfuHost`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack, VideoStreamTrack

from conference_gui.media.ice import IcePolicy
from conference_gui.media.peer import PeerLink, Role
from conference_gui.media.receive import RemotePeer, Source
from conference_gui.media.stats import PeerStats
from conference_gui.media.tasks import OwnedTasks

log = logging.getLogger(__name__)

#: Seconds both paths to a person run side by side, once the new one brings pictures,
#: before the old one closes. Closing a pair's connection ends it for both sides, and
#: the other side's new path may be a little behind ours: this covers that.
HANDOVER_GRACE = 2.5
#: Seconds the publisher stays after our last subscription went: the others may still
#: be waiting for their mesh pictures of us.
LEAVE_GRACE = 10.0
#: Seconds after the new path connected to wait for its pictures (a camera may be
#: off) before counting on sound alone.
PICTURE_WAIT = 4.0
#: Pictures the new path must have brought before the old one may go: the first one
#: only says the path works, these that it keeps up.
STEADY_PICTURES = 15
#: The longest the old path is kept waiting for the new one's pictures.
HANDOVER_MAX_WAIT = 15.0
#: Seconds before a failed publisher or subscription is tried again.
RETRY_DELAY = 2.0
#: A person announced as publishing may not be listed by Janus at once: tries, interval.
SUBSCRIBE_TRIES = 10
SUBSCRIBE_RETRY = 0.5
#: The id the publisher connection goes by in logs and stats.
PUBLISHER = "sfu-publisher"

#: ``ask(event, payload)`` -> a future of the ack's payload; raises :class:`SfuRefused`.
Ask = Callable[[str, dict[str, Any]], "concurrent.futures.Future[dict[str, Any]]"]


class SfuRefused(Exception):
    """The server (or the media server behind it) said no, or could not be asked."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class SfuHost(Protocol):
    """What the SFU session needs of the engine (``engine._Core``)."""

    @property
    def me(self) -> str | None: ...
    def in_call(self, pid: str) -> bool: ...
    def peers(self) -> list[str]: ...
    def local_tracks(self) -> list[MediaStreamTrack]: ...
    def remote_of(self, pid: str) -> RemotePeer: ...
    def mesh_link(self, pid: str) -> PeerLink | None: ...
    def close_mesh_quietly(self, pid: str, link: PeerLink) -> None: ...
    def picture_arrived(self, pid: str, source: Source) -> None: ...
    def audience_changed(self) -> None: ...
    def problem(self, pid: str | None, message: str) -> None: ...


class SilencedPeer(RemotePeer):
    """The same remote participant, whose sound from one path is dropped.

    It shares every field of the real :class:`RemotePeer` (its ``__dict__``):
    pictures, picture times and counts still land where the tiles and the
    picture watch read them; only :meth:`heard` does nothing.
    """

    def __init__(self, real: RemotePeer) -> None:  # no super().__init__: it shares real's
        self.__dict__ = real.__dict__

    def heard(self, pcm: Any, now: float) -> None:
        return None


def silence(link: PeerLink) -> None:
    """Stop ``link``'s sound from reaching the mix; its pictures still reach the tile.

    The link's receive loops read ``link.remote`` for every sound frame and
    every picture; while both paths to a person run, only the new one is heard.
    """
    if not isinstance(link.remote, SilencedPeer):
        link.remote = SilencedPeer(link.remote)


@dataclass(eq=False)
class _Subscription:
    pid: str
    link: PeerLink | None = None
    subscription: str | None = None
    connected_at: float | None = None
    #: when the first picture came through this subscription, and how many came
    pictured_at: float | None = None
    pictures: int = 0
    #: back to the mesh: when the first mesh picture came from this person, how many
    mesh_pictured_at: float | None = None
    mesh_pictures: int = 0
    #: subscriptions refused so far (not publishing yet)
    attempts: int = 0
    retiring: asyncio.Task[None] | None = None
    pending: asyncio.Task[None] | None = None


@dataclass
class SfuSummary:
    """What the SFU session has now (for tests, benches and diagnostics)."""

    mode: str = "mesh"
    publishing: bool = False
    publisher_state: str = "none"
    subscriptions: dict[str, str] = field(default_factory=dict)


class SfuSession:
    """The engine's SFU side (on the engine loop). See the module docstring."""

    def __init__(self, host: SfuHost, policy: IcePolicy, connect_timeout: float) -> None:
        self._host = host
        self._policy = policy
        self._connect_timeout = connect_timeout
        self.ask: Ask | None = None
        self.mode = "mesh"
        self._tasks = OwnedTasks("sfu")
        self._publisher: PeerLink | None = None
        self._publishing: asyncio.Task[None] | None = None
        self._leaving: asyncio.Task[None] | None = None
        self._subs: dict[str, _Subscription] = {}
        #: who publishes on the SFU now (server events and the publish ack)
        self._published: set[str] = set()
        self._links: set[PeerLink] = set()
        self.publisher_stats: PeerStats | None = None
        #: :meth:`summary` as of the last change, for other threads (one reference: no lock)
        self.latest = SfuSummary()
        #: cheap test for the engine's per-picture hook: are mesh pictures of interest?
        self.watching_mesh = False

    def _changed(self) -> None:
        """Something of :meth:`summary` changed (or may have)."""
        self.latest = self.summary()
        self.watching_mesh = self.mode == "mesh" and bool(self._subs)

    # --- what the engine tells it -------------------------------------------------
    @property
    def active(self) -> bool:
        """Publishing (or about to): local media has an audience."""
        return self._publisher is not None or self._publishing is not None

    def summary(self) -> SfuSummary:
        return SfuSummary(
            mode=self.mode,
            publishing=self._publisher is not None and self._publisher.state == "connected",
            publisher_state=self._publisher.state if self._publisher is not None else "none",
            subscriptions={pid: (s.link.state if s.link is not None else "asking")
                           for pid, s in self._subs.items()},
        )

    def set_mode(self, mode: str) -> None:
        if mode not in ("mesh", "sfu"):
            log.warning("sfu: unknown call mode %r ignored (mesh kept)", mode)
            mode = "mesh"
        if mode == self.mode:
            return
        self.mode = mode
        log.info("sfu: call mode %s", mode)
        self._changed()
        if mode == "sfu":
            self._cancel_leave()
            self._start_publishing()
            for pid in list(self._subs):
                self._keep(pid)
        else:
            # Mesh connections that were on their way out are heard again (their close
            # is called off: it only happens in SFU mode).
            for pid in self._host.peers():
                link = self._host.mesh_link(pid)
                if link is not None and isinstance(link.remote, SilencedPeer):
                    link.remote = self._host.remote_of(pid)
            # Back to the mesh: subscriptions go once the mesh to each person flows;
            # people without a mesh connection yet keep theirs meanwhile.
            for pid, sub in list(self._subs.items()):
                link = self._host.mesh_link(pid)
                if link is not None and link.state == "connected":
                    self._retire_subscription(sub)
            self._leave_when_done()

    def joined(self) -> None:
        """A join ack (first or after a reconnect): the server dropped whatever this
        connection had on the SFU, so in SFU mode everything is made anew."""
        if self.mode != "sfu":
            return
        if self._publisher is not None or self._subs:
            self._tasks.spawn(self._restart(), "sfu-restart")
        else:
            self._start_publishing()

    def published(self, pid: str) -> None:
        if pid == self._host.me:
            return
        self._published.add(pid)
        if self.mode == "sfu" and self._publisher is not None:
            self._subscribe_soon(pid)

    def unpublished(self, pid: str) -> None:
        self._published.discard(pid)
        sub = self._subs.pop(pid, None)
        self._changed()
        if sub is not None:
            self._tasks.spawn(self._close_subscription(sub, tell=True), f"unsub {pid}")

    def peer_left(self, pid: str) -> None:
        self.unpublished(pid)

    def mesh_connected(self, pid: str) -> None:
        """The mesh connection to ``pid`` is up: in mesh mode, its subscription can go;
        in SFU mode (a late offer answered), the mesh link goes once the SFU flows."""
        sub = self._subs.get(pid)
        if self.mode == "mesh":
            if sub is not None:
                self._retire_subscription(sub)
        elif sub is not None and sub.link is not None and sub.link.state == "connected":
            self._retire_mesh(pid)

    def mesh_allowed(self) -> bool:
        return self.mode == "mesh"

    # --- publishing ---------------------------------------------------------------------
    def _start_publishing(self) -> None:
        if self._publishing is None and (self._publisher is None
                                         or self._publisher.state in ("failed", "closed")):
            self._publishing = self._tasks.spawn(self._publish(), "publish")
            self._host.audience_changed()

    async def _publish(self) -> None:
        try:
            old, self._publisher = self._publisher, None
            if old is not None:
                await old.close()
            link = self._new_link(PUBLISHER, "publish", self._host.local_tracks(),
                                  RemotePeer(PUBLISHER), self._publisher_state)
            try:
                offer = await link.create_offer()
                ack = await self._ask("sfu-publish", {"sdp": offer})
                await link.accept_answer(str(ack.get("sdp", "")))
            except BaseException:
                await link.close()
                raise
            if self.mode != "sfu":
                await link.close()
                return
            self._publisher = link
            publishers = ack.get("publishers")
            for pid in publishers if isinstance(publishers, list) else []:
                if isinstance(pid, str):
                    self._published.add(pid)
            for pid in sorted(self._published):
                self._subscribe_soon(pid)
        except SfuRefused as exc:
            self._host.problem(None, f"could not send through the media server: {exc.message}")
            if self.mode == "sfu" and exc.code not in ("not_sfu", "not_in_call"):
                self._tasks.spawn(self._retry_publish(), "republish")
        except Exception as exc:
            self._host.problem(None, f"could not send through the media server: {exc}")
        finally:
            self._publishing = None
            self._host.audience_changed()
            self._changed()

    async def _retry_publish(self) -> None:
        await asyncio.sleep(RETRY_DELAY)
        if self.mode == "sfu":
            self._start_publishing()

    def _publisher_state(self, link: PeerLink) -> None:
        if link is not self._publisher:
            return
        self._changed()
        if link.state in ("failed", "closed") and self.mode == "sfu":
            log.info("sfu: the publisher connection %s; publishing again", link.state)
            self._publisher = None
            self._tasks.spawn(self._retire_link(link), "publisher-down")
            self._tasks.spawn(self._retry_publish(), "republish")

    # --- subscriptions ------------------------------------------------------------------
    def _subscribe_soon(self, pid: str) -> None:
        if pid == self._host.me or not self._host.in_call(pid):
            return
        sub = self._subs.get(pid)
        if sub is None:
            sub = self._subs[pid] = _Subscription(pid)
            self._changed()
        elif sub.link is not None and sub.link.state not in ("failed", "closed"):
            self._keep(pid)
            return
        if sub.pending is None:
            sub.pending = self._tasks.spawn(self._subscribe(sub), f"subscribe {pid}")

    def _keep(self, pid: str) -> None:
        """SFU mode again while a subscription was on its way out: keep it."""
        sub = self._subs.get(pid)
        if sub is not None and sub.retiring is not None:
            sub.retiring.cancel()
            sub.retiring = None
            if sub.link is not None:
                sub.link.remote = self._host.remote_of(pid)

    async def _subscribe(self, sub: _Subscription) -> None:
        try:
            ack = await self._ask("sfu-subscribe", {"participantId": sub.pid})
            subscription = str(ack.get("subscription", ""))
            link = self._new_link(sub.pid, subscription, _placeholder_tracks(),
                                  self._host.remote_of(sub.pid),
                                  lambda link: self._subscription_state(sub, link),
                                  on_picture=lambda pid, source: self._sfu_picture(sub, source))
            try:
                answer = await link.accept_offer(str(ack.get("sdp", "")))
                await self._ask("sfu-answer", {"subscription": subscription, "sdp": answer})
            except BaseException:
                await link.close()
                raise
            if self._subs.get(sub.pid) is not sub:  # gone meanwhile
                await link.close()
                await self._tell_unsubscribe(subscription)
                return
            old, sub.link, sub.subscription = sub.link, link, subscription
            sub.connected_at = sub.pictured_at = None
            sub.pictures = 0
            if old is not None:
                await old.close()
        except SfuRefused as exc:
            # not_found: not publishing (yet: Janus may list a publisher a moment after
            # it said its media is up). Try again a few times; "sfu-published" also
            # brings it back.
            log.info("sfu: no subscription to %s: %s", sub.pid, exc)
            if exc.code == "not_found" and self._subs.get(sub.pid) is sub and sub.link is None:
                sub.attempts += 1
                if (sub.attempts <= SUBSCRIBE_TRIES and self.mode == "sfu"
                        and self._host.in_call(sub.pid)):
                    self._tasks.spawn(self._subscribe_again(sub), f"resubscribe {sub.pid}")
                else:
                    self._published.discard(sub.pid)
                    del self._subs[sub.pid]
                    self._changed()
        except Exception as exc:
            self._host.problem(sub.pid, f"could not receive through the media server: {exc}")
        finally:
            sub.pending = None
            self._changed()

    def _sfu_picture(self, sub: _Subscription, source: Source) -> None:
        sub.pictures += 1
        if sub.pictured_at is None:
            sub.pictured_at = time.monotonic()
            log.info("sfu: first picture from %s through the SFU", sub.pid)
        self._host.picture_arrived(sub.pid, source)

    def mesh_picture(self, pid: str) -> None:
        """A picture came over the mesh from ``pid`` (called for every one: cheap)."""
        if self._subs and self.mode == "mesh":
            sub = self._subs.get(pid)
            if sub is not None:
                sub.mesh_pictures += 1
                if sub.mesh_pictured_at is None:
                    sub.mesh_pictured_at = time.monotonic()

    def _subscription_state(self, sub: _Subscription, link: PeerLink) -> None:
        if sub.link is not link:
            return
        self._changed()
        state = link.state
        if state == "connected" and sub.connected_at is None:
            sub.connected_at = time.monotonic()
            log.info("sfu: subscription to %s connected", sub.pid)
            if self.mode == "sfu":
                self._retire_mesh(sub.pid)
            else:
                mesh = self._host.mesh_link(sub.pid)
                if mesh is not None and mesh.state == "connected":
                    self._retire_subscription(sub)
        elif state in ("failed", "closed") and self._subs.get(sub.pid) is sub:
            log.info("sfu: subscription to %s %s", sub.pid, state)
            sub.link = None
            self._tasks.spawn(self._retire_link(link), f"sub-down {sub.pid}")
            if self.mode == "sfu" and sub.pid in self._published:
                self._tasks.spawn(self._resubscribe_later(sub.pid), f"resubscribe {sub.pid}")
            elif sub.pending is None:
                del self._subs[sub.pid]
                self._changed()
                self._leave_when_done()

    async def _subscribe_again(self, sub: _Subscription) -> None:
        await asyncio.sleep(SUBSCRIBE_RETRY)
        if (self._subs.get(sub.pid) is sub and sub.link is None and sub.pending is None
                and self.mode == "sfu"):
            sub.pending = self._tasks.spawn(self._subscribe(sub), f"subscribe {sub.pid}")

    async def _resubscribe_later(self, pid: str) -> None:
        await asyncio.sleep(RETRY_DELAY)
        if self.mode == "sfu" and pid in self._published:
            self._subscribe_soon(pid)

    # --- handover -------------------------------------------------------------------------
    def _retire_mesh(self, pid: str) -> None:
        """The SFU brings ``pid`` now: its mesh connection leaves the mix at once, and
        closes once the SFU's pictures have come for a while."""
        link = self._host.mesh_link(pid)
        sub = self._subs.get(pid)
        if link is None or link.closed or sub is None:
            return
        silence(link)
        self._tasks.spawn(self._close_mesh_later(sub, link), f"retire-mesh {pid}")

    async def _close_mesh_later(self, sub: _Subscription, link: PeerLink) -> None:
        await self._new_path_ready(sub.pid, lambda: sub.pictures)
        await asyncio.sleep(HANDOVER_GRACE)
        if self.mode == "sfu" and self._subs.get(sub.pid) is sub:
            log.info("sfu: closing the mesh connection to %s", sub.pid)
            self._host.close_mesh_quietly(sub.pid, link)

    async def _new_path_ready(self, pid: str, pictures: Callable[[], int]) -> None:
        """Until the new path to ``pid`` brought :data:`STEADY_PICTURES` pictures; after
        :data:`PICTURE_WAIT` s, one is enough, and none when no path brings any (camera
        off); never longer than :data:`HANDOVER_MAX_WAIT` s."""
        start = time.monotonic()
        remote = self._host.remote_of(pid)
        while True:
            count = pictures()
            waited = time.monotonic() - start
            if count >= STEADY_PICTURES or waited >= HANDOVER_MAX_WAIT:
                return
            if waited >= PICTURE_WAIT and (count > 0 or not remote.receiving["camera"]):
                return
            await asyncio.sleep(0.05)

    def _retire_subscription(self, sub: _Subscription) -> None:
        if sub.retiring is not None:
            return
        if sub.link is not None:
            silence(sub.link)
        sub.retiring = self._tasks.spawn(self._end_subscription_later(sub), f"retire {sub.pid}")

    async def _end_subscription_later(self, sub: _Subscription) -> None:
        sub.mesh_pictures = 0
        await self._new_path_ready(sub.pid, lambda: sub.mesh_pictures)
        await asyncio.sleep(HANDOVER_GRACE)
        if self.mode != "mesh" or self._subs.get(sub.pid) is not sub:
            return
        del self._subs[sub.pid]
        log.info("sfu: the mesh brings %s now; subscription closed", sub.pid)
        await self._close_subscription(sub, tell=True)
        self._changed()
        self._leave_when_done()

    async def _close_subscription(self, sub: _Subscription, *, tell: bool) -> None:
        for task in (sub.pending, sub.retiring):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        link, sub.link = sub.link, None
        if link is not None:
            await link.close()
        self._changed()
        if tell and sub.subscription is not None:
            await self._tell_unsubscribe(sub.subscription)

    async def _tell_unsubscribe(self, subscription: str) -> None:
        try:
            await self._ask("sfu-unsubscribe", {"subscription": subscription})
        except SfuRefused as exc:
            log.debug("sfu: unsubscribe not delivered: %s", exc)

    def _leave_when_done(self) -> None:
        """In mesh mode, with no subscription left, the publisher goes too (after the
        grace, so that the others' handover from our publisher can finish)."""
        if self.mode != "mesh" or self._subs or self._leaving is not None:
            return
        if self._publisher is None and self._publishing is None:
            return
        self._leaving = self._tasks.spawn(self._leave_later(), "sfu-leave")

    def _cancel_leave(self) -> None:
        if self._leaving is not None:
            self._leaving.cancel()
            self._leaving = None

    async def _leave_later(self) -> None:
        try:
            await asyncio.sleep(LEAVE_GRACE)
            if self.mode == "mesh" and not self._subs:
                await self.leave()
        finally:
            self._leaving = None

    # --- the end --------------------------------------------------------------------------
    async def leave(self) -> None:
        """Unpublish and drop every subscription (``sfu-leave``)."""
        had = self._publisher is not None or self._publishing is not None or bool(self._subs)
        await self._close_all()
        if had:
            try:
                await self._ask("sfu-leave", {})
            except SfuRefused as exc:
                log.debug("sfu: leave not delivered: %s", exc)

    async def _restart(self) -> None:
        await self._close_all()
        if self.mode == "sfu":
            self._start_publishing()

    async def _close_all(self) -> None:
        if self._publishing is not None and self._publishing is not asyncio.current_task():
            self._publishing.cancel()
            self._publishing = None
        subs = list(self._subs.values())
        self._subs.clear()
        for sub in subs:
            await self._close_subscription(sub, tell=False)
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            await publisher.close()
        self._host.audience_changed()
        self._changed()

    async def close(self) -> None:
        """Engine stop: close every connection, end every task (nothing is told)."""
        self.mode = "mesh"
        await self._close_all()
        await self._tasks.close()
        while self._links:
            links = list(self._links)
            await asyncio.gather(*(link.close() for link in links), return_exceptions=True)
            self._links.difference_update(links)

    # --- helpers ---------------------------------------------------------------------------
    def _new_link(self, pid: str, offer_id: str, tracks: list[MediaStreamTrack],
                  remote: RemotePeer, on_state: Callable[[PeerLink], None],
                  on_picture: Callable[[str, Source], None] | None = None) -> PeerLink:
        role: Role = "offerer" if pid == PUBLISHER else "answerer"
        link = PeerLink(pid, offer_id or "sfu", role, policy=self._policy, tracks=tracks,
                        remote=remote, on_state=on_state,
                        on_picture=on_picture or self._host.picture_arrived,
                        on_closed=self._links.discard, connect_timeout=self._connect_timeout)
        self._links.add(link)
        return link

    async def _retire_link(self, link: PeerLink) -> None:
        await link.close()

    async def take_stats(self) -> None:
        link = self._publisher
        if link is not None and link.ever_connected and not link.closed:
            self.publisher_stats = await link.take_stats()

    async def _ask(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        ask = self.ask
        if ask is None:
            raise SfuRefused("offline", "no connection to the server")
        try:
            return await asyncio.wrap_future(ask(event, payload))
        except SfuRefused:
            raise
        except Exception as exc:
            raise SfuRefused(getattr(exc, "code", "error"), str(exc)) from exc



def _placeholder_tracks() -> list[MediaStreamTrack]:
    """A subscription only receives; its transceivers still need a track of each kind
    (never read: the answer is ``recvonly``, so nothing is ever encoded)."""
    return [AudioStreamTrack(), VideoStreamTrack(), VideoStreamTrack()]
