"""The call engine: every WebRTC peer connection of one meeting window, on its
own asyncio loop in its own thread ("call-engine"), with no Qt.

DTLS, SRTP, RTP, jitter buffers and the pacing of outgoing frames all run on
an event loop; on the GUI thread they would stutter with every repaint, and
a long paint would starve them. So the engine owns a thread and a loop, and
the rest of the app talks to it only through :class:`CallEngine`'s methods.

Threading rules
---------------
* Every public method of :class:`CallEngine` may be called from any thread and
  returns at once: it posts a command to the engine loop (commands run in the
  order they were posted). :meth:`remote_slot`, :meth:`levels` and
  :meth:`stats` read thread-safe state and return its current value.
* :class:`EngineListener` methods are called **on the engine thread**. The Qt
  side re-emits them as queued signals; they must not block.
* The engine opens no connection to the server: signaling goes out through
  :meth:`EngineListener.send_signal` and comes in through :meth:`CallEngine.handle_signal`.
* Threads: ``call-engine`` (the loop; ``name=`` changes it), ``call-engine-codec_N``
  (aiortc's encoders, the loop's default executor) and aiortc's own
  ``audio-decoder`` / ``video-decoder`` (one per receiving section). All of them
  end in :meth:`CallEngine.stop`.

The mesh rules (SPEC section 2, *Calls*) are applied here; the pure parts of
them (who offers, parsing, offer-id staleness, backoff) are in
``conference_gui.domain.call``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from conference_gui.domain.call import (
    AnswerSignal,
    Backoff,
    BadSignal,
    ByeSignal,
    CallRoster,
    CandidateSignal,
    OfferBook,
    OfferSignal,
    answer_wire,
    bye_wire,
    check_sections,
    offer_wire,
    parse_signal,
)
from conference_gui.media.exchange import FrameSlot, PcmRing, PcmSource
from conference_gui.media.ice import IcePolicy, use_policy
from conference_gui.media.peer import PeerLink, Role
from conference_gui.media.receive import SOURCES, RemotePeer, RemotePeers, Source, mix
from conference_gui.media.sfu import Ask, SfuSession, SfuSummary
from conference_gui.media.stats import PeerStats
from conference_gui.media.tasks import OwnedTasks
from conference_gui.media.tracks import FRAME_SAMPLES, MicrophoneTrack, PictureTrack

log = logging.getLogger(__name__)

MAX_PEER_ID_CHARS = 200


class EngineListener(Protocol):
    """What the engine tells the app. Called ON THE ENGINE THREAD; must not block.

    An exception raised here is logged and otherwise ignored.
    """

    def send_signal(self, to: str, data: dict[str, object]) -> None:
        """Send ``signal {"to": to, "data": data}`` over the window's socket."""

    def peer_state(self, pid: str, state: str) -> None:
        """The connection to ``pid`` is new / connecting / connected / failed / closed."""

    def remote_media(self, pid: str, source: str, receiving: bool) -> None:
        """Pictures from ``pid``'s ``source`` ("camera" / "screen") started or
        stopped arriving (stopped: none for :attr:`EngineOptions.picture_timeout`)."""

    def problem(self, pid: str | None, message: str) -> None:
        """Something went wrong that a person may want to know (already logged)."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Tunables; the defaults are what the app uses."""

    camera_fps: float = 30.0
    #: Screens keep their resolution; the frame rate is what gives way.
    screen_fps: float = 10.0
    #: Seconds without a picture before ``remote_media(..., False)``.
    picture_timeout: float = 1.0
    #: Seconds for a new connection to connect before it counts as failed.
    connect_timeout: float = 15.0
    #: Seconds between connection-quality snapshots.
    stats_interval: float = 2.0
    backoff: Backoff = field(default_factory=Backoff)
    #: Threads for aiortc's encoders (its loop's default executor).
    codec_threads: int = 4


Command = Callable[["_Core"], None]
_STOP = object()


class CallEngine:
    """The call's media engine. See the module docstring for the threading rules.

    Typical use by the Qt side::

        engine = CallEngine(listener)                   # loopback allowed, no STUN
        engine.start()
        engine.set_microphone(mic_ring); engine.set_camera(camera_slot)
        engine.set_playback(speaker_ring); engine.set_sending(True, True, False)
        engine.join(me, [p.id for p in ack.participants])    # every join ack
        engine.peer_joined(pid) / engine.peer_left(pid)        # socket events
        engine.handle_signal(from_id, data)                    # socket "signal"
        slot = engine.remote_slot(pid, "camera")               # tiles
        engine.leave(); engine.stop()
    """

    def __init__(
        self,
        listener: EngineListener,
        *,
        ice: IcePolicy | None = None,
        options: EngineOptions | None = None,
        name: str = "call-engine",
    ) -> None:
        self._listener = listener
        #: Loopback included, every interface aioice finds, no STUN server.
        self._ice = ice if ice is not None else IcePolicy()
        self._options = options or EngineOptions()
        self._name = name
        self._remotes = RemotePeers()
        self._stats_lock = threading.Lock()
        self._stats: dict[str, PeerStats] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: asyncio.Queue[Command | object] | None = None
        self._state_lock = threading.Lock()
        self._stopping = False
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._sfu: SfuSession | None = None
        #: After :meth:`stop`: tasks still running once everything was closed
        #: (aiortc's own), cancelled then. 0 is a clean stop; for diagnostics.
        self.leftover_tasks = 0

    # --- life -----------------------------------------------------------------
    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stopping

    @property
    def thread(self) -> threading.Thread | None:
        """The engine's thread (for leak checks and diagnostics)."""
        return self._thread

    def start(self) -> None:
        """Start the engine's thread and loop; returns once it accepts commands."""
        with self._state_lock:
            if self._thread is not None or self._stopping:
                raise RuntimeError("a CallEngine starts once (and not after stop)")
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        if not self._ready.wait(10.0):
            raise RuntimeError("the call engine did not start")
        if self._failure is not None:
            raise RuntimeError("the call engine failed to start") from self._failure

    def stop(self, timeout: float = 10.0) -> bool:
        """Close every peer connection (no ``bye``: call :meth:`leave` first for
        that), end every task and thread of the engine, and join its thread.
        Blocks until then (typically well under 100 ms); returns True when the
        thread ended within ``timeout`` seconds. Idempotent. Not from a
        listener callback (that is the engine's own thread)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("CallEngine.stop() called on the engine's own thread")
        with self._state_lock:
            thread, loop, inbox = self._thread, self._loop, self._inbox
            already = self._stopping
            self._stopping = True
        if thread is None:
            return True
        if not already and loop is not None and inbox is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(inbox.put_nowait, _STOP)
        thread.join(timeout)
        if thread.is_alive():
            log.error("the call engine did not stop within %.1f s", timeout)
            return False
        return True

    # --- the call -------------------------------------------------------------
    def join(self, me: str, others: list[str]) -> None:
        """A join ack (the first, and the one after every socket reconnect):
        ``me`` is my id, ``others`` the participants listed (mine may be among
        them). Offers to listed peers I offer to that have no healthy
        connection; drops connections to peers no longer listed."""
        listed = [p for p in others if isinstance(p, str)]
        self._post(lambda core: core.join(me, listed))

    def peer_joined(self, pid: str) -> None:
        """``participant-joined`` (ignored before the first :meth:`join`)."""
        self._post(lambda core: core.peer_joined(pid))

    def peer_left(self, pid: str) -> None:
        """``participant-left``: closes the pair's connection."""
        self._post(lambda core: core.peer_left(pid))

    def handle_signal(self, from_id: object, data: object) -> None:
        """A ``signal`` event's ``from`` and ``data``, as received (untrusted)."""
        self._post(lambda core: core.signal(from_id, data))

    def leave(self) -> None:
        """Leave the call: ``{"type": "bye"}`` to each peer, every connection
        closed. A later :meth:`join` starts again."""
        self._post(lambda core: core.leave())

    # --- the SFU (media/sfu.py; docs/WIRE.md, "The SFU") -------------------------
    def set_sfu_ask(self, ask: Ask | None) -> None:
        """How the SFU session asks the server (``sfu-*`` events with their acks)."""
        self._post(lambda core: setattr(core.sfu, "ask", ask))

    def set_mode(self, mode: str) -> None:
        """The server's ``call.mode`` / ``call-mode``: "mesh" or "sfu" (make before break)."""
        self._post(lambda core: core.set_mode(mode))

    def sfu_published(self, pid: str) -> None:
        self._post(lambda core: core.sfu.published(pid))

    def sfu_unpublished(self, pid: str) -> None:
        self._post(lambda core: core.sfu.unpublished(pid))

    def sfu_summary(self) -> SfuSummary | None:
        """What the SFU session has (as of its last change; for tests, benches, diagnostics)."""
        sfu = self._sfu
        return sfu.latest if sfu is not None else None

    def sfu_publisher_stats(self) -> PeerStats | None:
        """The publisher connection's newest quality snapshot (None when not publishing)."""
        sfu = self._sfu
        return sfu.publisher_stats if sfu is not None else None

    # --- what to send ---------------------------------------------------------
    def set_sending(self, audio: bool, video: bool, screen: bool) -> None:
        """Which sections send RTP. Off sends nothing (no silence, no black);
        never renegotiates. Announcing it (``media-state``) is the caller's job."""
        self._post(lambda core: core.set_sending(audio, video, screen))

    def set_microphone(self, source: PcmSource | None) -> None:
        """Where microphone samples come from (48 kHz mono int16); may change mid-call."""
        self._post(lambda core: core.media.mic.set_source(source))

    def set_camera(self, slot: FrameSlot | None) -> None:
        """The camera's pictures (BGRA); may change mid-call."""
        self._post(lambda core: core.media.camera.set_slot(slot))

    def set_screen(self, slot: FrameSlot | None) -> None:
        """The shared screen's pictures (BGRA); may change mid-call."""
        self._post(lambda core: core.media.screen.set_slot(slot))

    def set_playback(self, ring: PcmRing | None) -> None:
        """Where the mix of all remote audio goes (48 kHz mono int16, 20 ms steps)."""
        self._post(lambda core: core.set_playback(ring))

    # --- what arrives (thread-safe reads) -------------------------------------
    def remote_slot(self, pid: str, source: Source) -> FrameSlot:
        """The slot ``pid``'s ``source`` pictures go to: the same object for the
        engine's whole life (also across reconnects and rejoins); cleared when
        the peer leaves. Set its ``wanted_size`` to the tile's size in device
        pixels to get pictures scaled (aspect kept) on the engine side; a size
        with a zero side means "hidden": nothing is converted. ``captured`` of
        a received picture is the :func:`time.monotonic` of its decoding."""
        for known in SOURCES:
            if source == known:
                return self._remotes.get(pid).slots[known]
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")

    def levels(self) -> dict[str, float]:
        """Per remote peer: the RMS of its last ~100 ms of decoded audio, 0..1
        of full scale; falls to 0 within ~100 ms once its audio stops."""
        now = time.monotonic()
        return {peer.pid: peer.meter.level(now) for peer in self._remotes.all()}

    def stats(self, pid: str) -> PeerStats | None:
        """The newest connection-quality snapshot for ``pid`` (None before the first)."""
        with self._stats_lock:
            return self._stats.get(pid)

    def all_stats(self) -> dict[str, PeerStats]:
        with self._stats_lock:
            return dict(self._stats)

    # --- internals ------------------------------------------------------------
    def _post(self, command: Command) -> None:
        loop, inbox = self._loop, self._inbox
        if self._stopping:
            log.debug("call engine stopped: command dropped")
            return
        if loop is None or inbox is None:
            log.warning("call engine not running: command dropped")
            return
        try:
            loop.call_soon_threadsafe(inbox.put_nowait, command)
        except RuntimeError:
            log.warning("call engine stopped: command dropped")

    def _put_stats(self, pid: str, stats: PeerStats | None) -> None:
        with self._stats_lock:
            if stats is None:
                self._stats.pop(pid, None)
            else:
                self._stats[pid] = stats

    def _run(self) -> None:
        # The ICE policy lives in this thread's context; the loop's tasks (and
        # aiortc's, created from them) copy it, so ICE gathering sees it.
        use_policy(self._ice)
        # A plain asyncio loop, whatever policy the host process installed:
        # qasync.run() installs one that would hand this thread a Qt loop.
        loop = asyncio.DefaultEventLoopPolicy().new_event_loop()
        executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=self._options.codec_threads, thread_name_prefix=f"{self._name}-codec"
        )
        loop.set_default_executor(executor)
        loop.set_exception_handler(_log_loop_exception)
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main(loop))
        except BaseException as exc:  # pragma: no cover - a bug in the engine itself
            log.exception("the call engine crashed")
            self._failure = exc
            self._ready.set()
        finally:
            try:
                self.leftover_tasks = _cancel_leftovers(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()
                self._loop = None

    async def _main(self, loop: asyncio.AbstractEventLoop) -> None:
        inbox: asyncio.Queue[Command | object] = asyncio.Queue()
        core = _Core(self._listener, self._ice, self._options, self._remotes, self._put_stats)
        self._sfu = core.sfu
        self._inbox, self._loop = inbox, loop
        self._ready.set()
        core.start()
        try:
            while True:
                command = await inbox.get()
                if command is _STOP:
                    break
                assert callable(command)
                try:
                    command(core)
                except Exception:
                    log.exception("call engine command failed")
        finally:
            self._inbox = None
            await core.close()


def _log_loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """One line per unhandled loop error (aiortc leaves a few tasks unowned)."""
    exc = context.get("exception")
    message = context.get("message", "")
    if exc is not None:
        log.warning("call engine loop: %s: %s: %s", message, type(exc).__name__, exc)
        log.debug("call engine loop traceback", exc_info=exc)
    else:
        log.warning("call engine loop: %s", message)


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> int:
    """Cancel and await tasks nobody owns (aiortc starts some with ``ensure_future``);
    returns how many there were (0 when every connection closed cleanly)."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not tasks:
        return 0
    log.info("cancelling %d leftover task(s): %s", len(tasks), [t.get_coro() for t in tasks])
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.wait(tasks, timeout=5.0))
    return len(tasks)


# ============================================================================ on the loop


class LocalMedia:
    """The three local tracks and the relay that hands them to every peer."""

    def __init__(self, options: EngineOptions) -> None:
        self.mic = MicrophoneTrack()
        self.camera = PictureTrack(options.camera_fps)
        self.screen = PictureTrack(options.screen_fps)
        self._relay = MediaRelay()
        self._sending = (False, False, False)
        self._audience = False

    def subscribe(self) -> list[MediaStreamTrack]:
        """Fresh relay proxies of the three tracks, in section order, for one link.

        Sound is buffered per peer (no frame lost to a busy encoder); pictures
        are not (a late picture is replaced by the newest one).
        """
        return [
            self._relay.subscribe(self.mic, buffered=True),
            self._relay.subscribe(self.camera, buffered=False),
            self._relay.subscribe(self.screen, buffered=False),
        ]

    def set_sending(self, audio: bool, video: bool, screen: bool) -> None:
        self._sending = (audio, video, screen)
        self._apply()

    def set_audience(self, anyone: bool) -> None:
        """With no peer connected, nothing is captured or converted at all."""
        self._audience = anyone
        self._apply()

    def _apply(self) -> None:
        audio, video, screen = self._sending
        self.mic.set_on(audio and self._audience)
        self.camera.set_on(video and self._audience)
        self.screen.set_on(screen and self._audience)

    def stop(self) -> None:
        for track in (self.mic, self.camera, self.screen):
            track.stop()


@dataclass(eq=False)
class _Peer:
    """The engine's record of one remote participant (its current link, its jobs)."""

    pid: str
    remote: RemotePeer
    jobs: asyncio.Queue[Callable[[], Awaitable[None]]]
    link: PeerLink | None = None
    runner: asyncio.Task[None] | None = None
    restart: asyncio.Task[None] | None = None
    attempts: int = 0
    said_bye: bool = False
    #: The id of the newest offer received: an older one still queued behind a
    #: slow job is skipped (a flood of offers costs one connection, not many).
    latest_offer: str | None = None
    reported: str | None = None


class _Core:
    """Everything the engine does, on its loop. Sync methods are commands (from
    :class:`CallEngine`); per-peer work runs as jobs, one at a time per peer."""

    def __init__(
        self,
        listener: EngineListener,
        policy: IcePolicy,
        options: EngineOptions,
        remotes: RemotePeers,
        put_stats: Callable[[str, PeerStats | None], None],
    ) -> None:
        self._listener = listener
        self._policy = policy
        self._options = options
        self._remotes = remotes
        self._put_stats = put_stats
        self.roster = CallRoster()
        self.offers = OfferBook()
        self.media = LocalMedia(options)
        self._peers: dict[str, _Peer] = {}
        self._tasks = OwnedTasks("call-engine")
        self._playback: PcmRing | None = None
        self._left = False
        self._warned_glare: set[str] = set()
        #: Every link not yet closed, so that stopping closes even one a
        #: cancelled job made and never installed.
        self._links: set[PeerLink] = set()
        self.sfu = SfuSession(self, policy, options.connect_timeout)

    def start(self) -> None:
        self._tasks.spawn(self._mix_forever(), "mixer")
        self._tasks.spawn(self._watch_pictures(), "picture-watch")
        self._tasks.spawn(self._stats_forever(), "stats")

    # --- listener (never let it break the engine) ----------------------------
    def _tell(self, name: str, *args: object) -> None:
        try:
            getattr(self._listener, name)(*args)
        except Exception:
            log.exception("call engine listener %s failed", name)

    def _send(self, pid: str, data: dict[str, object]) -> None:
        self._tell("send_signal", pid, data)

    def _problem(self, pid: str | None, message: str) -> None:
        log.warning("call: %s%s", f"{pid}: " if pid else "", message)
        self._tell("problem", pid, message)

    def _report(self, peer: _Peer, state: str) -> None:
        if peer.reported != state:
            peer.reported = state
            self._tell("peer_state", peer.pid, state)

    # --- peers and their jobs -------------------------------------------------
    def _peer(self, pid: str) -> _Peer:
        peer = self._peers.get(pid)
        if peer is None:
            peer = _Peer(pid, self._remotes.get(pid), asyncio.Queue())
            peer.runner = self._tasks.spawn(self._run_jobs(peer), f"peer {pid}")
            self._peers[pid] = peer
        return peer

    async def _run_jobs(self, peer: _Peer) -> None:
        while True:
            job = await peer.jobs.get()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("job for %s failed", peer.pid, exc_info=exc)
                self._problem(peer.pid, f"call connection problem: {_short(exc)}")

    def _queue(self, peer: _Peer, job: Callable[[], Awaitable[None]]) -> None:
        peer.jobs.put_nowait(job)

    def _offerer_of(self, pid: str) -> bool:
        return self.roster.offers_to(pid)

    # --- commands ---------------------------------------------------------------
    def join(self, me: str, others: list[str]) -> None:
        if self.roster.me not in (None, me):
            for pid in list(self._peers):
                self._drop(pid, send_bye=False)
        self._left = False
        plan = self.roster.join(me, others)
        for pid in plan.gone:
            self._drop(pid, send_bye=False)
        for pid in plan.listed:
            peer = self._peer(pid)
            peer.said_bye = False
            if self._offerer_of(pid):
                self._queue(peer, functools.partial(self._offer_unless_healthy, peer, "join"))
        self.sfu.joined()

    def peer_joined(self, pid: str) -> None:
        if not isinstance(pid, str) or not self.roster.add(pid):
            log.debug("participant-joined %r ignored (not joined yet, or me)", pid)
            return
        peer = self._peer(pid)
        peer.said_bye = False
        if self._offerer_of(pid):
            self._queue(peer, lambda: self._offer_unless_busy(peer))

    def peer_left(self, pid: str) -> None:
        if not isinstance(pid, str):
            return
        self.roster.remove(pid)
        self.sfu.peer_left(pid)
        if pid in self._peers:
            self._drop(pid, send_bye=False)

    def leave(self) -> None:
        listed = set(self.roster.leave())
        self._left = True
        self._tasks.spawn(self.sfu.leave(), "sfu-leave")
        for pid in sorted(listed | set(self._peers)):
            if pid in self._peers:
                self._drop(pid, send_bye=True)
            else:
                self._send(pid, bye_wire())

    def set_sending(self, audio: bool, video: bool, screen: bool) -> None:
        self.media.set_sending(bool(audio), bool(video), bool(screen))

    def set_playback(self, ring: PcmRing | None) -> None:
        self._playback = ring

    def set_mode(self, mode: str) -> None:
        """Mesh or SFU (the server's word). Back to the mesh, the offerer of each pair
        offers again; the SFU's connections go once the mesh flows (media/sfu.py)."""
        was = self.sfu.mode
        self.sfu.set_mode(mode)
        if self.sfu.mode == "mesh" and was != "mesh" and not self._left:
            for pid, peer in list(self._peers.items()):
                peer.said_bye = False
                if pid in self.roster and self._offerer_of(pid):
                    self._queue(peer, functools.partial(self._offer_unless_healthy, peer, "mesh"))

    # --- for the SFU session (media/sfu.py's SfuHost) ---------------------------
    @property
    def me(self) -> str | None:
        return self.roster.me

    def in_call(self, pid: str) -> bool:
        return pid in self.roster and not self._left

    def peers(self) -> list[str]:
        return list(self._peers)

    def local_tracks(self) -> list[MediaStreamTrack]:
        return self.media.subscribe()

    def remote_of(self, pid: str) -> RemotePeer:
        return self._remotes.get(pid)

    def mesh_link(self, pid: str) -> PeerLink | None:
        peer = self._peers.get(pid)
        return peer.link if peer is not None else None

    def close_mesh_quietly(self, pid: str, link: PeerLink) -> None:
        """Close the pair's connection without ``bye`` and without a restart (the SFU
        carries the pair now); a later mesh mode offers again."""
        peer = self._peers.get(pid)
        if peer is not None and peer.link is link:
            self._queue(peer, lambda: self._bye(peer))

    def picture_arrived(self, pid: str, source: Source) -> None:
        peer = self._peers.get(pid)
        if peer is not None:
            self._set_receiving(peer.remote, source, True)

    def audience_changed(self) -> None:
        self._update_audience()

    def problem(self, pid: str | None, message: str) -> None:
        self._problem(pid, message)

    def signal(self, from_id: object, data: object) -> None:
        if (
            not isinstance(from_id, str) or not from_id or len(from_id) > MAX_PEER_ID_CHARS
        ):
            log.warning("call: signal from an invalid sender id ignored")
            return
        if from_id == self.roster.me:
            log.warning("call: signal from myself ignored")
            return
        try:
            message = parse_signal(data)
            if isinstance(message, OfferSignal | AnswerSignal):
                check_sections(message.sdp, _kind(message))
        except BadSignal as exc:
            self._problem(from_id, f"ignored a bad call message: {exc}")
            return
        if isinstance(message, OfferSignal):
            if self._left:
                log.info("call: offer from %s ignored (I left the call)", from_id)
                return
            peer = self._peer(from_id)
            peer.said_bye = False
            peer.latest_offer = message.id
            self._queue(peer, lambda: self._answer(peer, message))
            return
        peer_or_none = self._peers.get(from_id)
        if peer_or_none is None:
            log.info("call: %s from %s ignored: no connection with it", _kind(message), from_id)
            return
        peer = peer_or_none
        if isinstance(message, AnswerSignal):
            self._queue(peer, lambda: self._accept_answer(peer, message))
        elif isinstance(message, CandidateSignal):
            self._queue(peer, lambda: self._add_candidate(peer, message))
        elif isinstance(message, ByeSignal):
            self._queue(peer, lambda: self._bye(peer))

    def _drop(self, pid: str, *, send_bye: bool) -> None:
        """Forget a peer: close its link, end its jobs, blank its tiles."""
        peer = self._peers.pop(pid, None)
        if peer is None:
            return
        self.offers.forget(pid)
        if send_bye:
            self._send(pid, bye_wire())
        self._tasks.spawn(self._retire(peer), f"retire {pid}")

    async def _retire(self, peer: _Peer) -> None:
        if peer.restart is not None:
            peer.restart.cancel()
        if peer.runner is not None:
            peer.runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await peer.runner
        link, peer.link = peer.link, None
        if link is not None:
            await link.close()
        self._update_audience()
        if peer.pid not in self._peers:  # not back meanwhile (then its news is newer)
            # Its media end first: whoever hears "closed" has heard all of its news.
            self._put_stats(peer.pid, None)
            peer.remote.clear()
            for source in SOURCES:
                self._set_receiving(peer.remote, source, False)
            if link is not None:
                self._report(peer, "closed")

    # --- jobs: offering ---------------------------------------------------------
    async def _offer_unless_healthy(self, peer: _Peer, why: str) -> None:
        link = peer.link
        if link is not None and link.healthy():
            log.debug("%s: connection healthy, no new offer (%s)", peer.pid, why)
            return
        await self._offer(peer)

    async def _offer_unless_busy(self, peer: _Peer) -> None:
        link = peer.link
        if link is not None and link.state not in ("failed", "closed"):
            return  # already offered (the ack listed it) or connected
        await self._offer(peer)

    async def _offer(self, peer: _Peer) -> None:
        if peer.pid not in self.roster or not self._offerer_of(peer.pid) or self._left:
            return
        if not self.sfu.mesh_allowed():
            return  # the call goes through the SFU
        if peer.restart is not None:
            peer.restart.cancel()
            peer.restart = None
        offer_id = self.offers.start(peer.pid)
        link = self._new_link(peer, offer_id, "offerer")
        try:
            sdp = await link.create_offer()
        except BaseException:
            await link.close()
            raise
        await self._install(peer, link)
        self._send(peer.pid, offer_wire(sdp, offer_id))

    async def _accept_answer(self, peer: _Peer, message: AnswerSignal) -> None:
        link = peer.link
        if link is None or not self.offers.is_current(peer.pid, message.id):
            log.info("call: stale answer from %s ignored", peer.pid)
            return
        if not link.awaiting_answer:
            log.info("call: answer from %s ignored: not waiting for one", peer.pid)
            return
        try:
            await link.accept_answer(message.sdp)
        except Exception as exc:
            self._problem(peer.pid, f"could not use the answer: {_short(exc)}")
            self._link_down(peer, link)

    # --- jobs: answering --------------------------------------------------------
    async def _answer(self, peer: _Peer, message: OfferSignal) -> None:
        if message.id != peer.latest_offer:
            log.info("call: offer from %s skipped: a newer one came", peer.pid)
            return
        if self._offerer_of(peer.pid) and peer.pid not in self._warned_glare:
            self._warned_glare.add(peer.pid)
            log.warning("call: %s offered although I offer to it; answering", peer.pid)
        link = self._new_link(peer, message.id, "answerer")
        try:
            sdp = await link.accept_offer(message.sdp)
        except Exception as exc:
            await link.close()
            self._problem(peer.pid, f"could not use the offer: {_short(exc)}")
            return
        except BaseException:
            await link.close()
            raise
        self.offers.adopt(peer.pid, message.id)
        await self._install(peer, link)
        self._send(peer.pid, answer_wire(sdp, message.id))

    async def _add_candidate(self, peer: _Peer, message: CandidateSignal) -> None:
        link = peer.link
        if link is None or not self.offers.is_current(peer.pid, message.id):
            log.info("call: stale candidate from %s ignored", peer.pid)
            return
        try:
            await link.add_candidate(message.candidate)
        except ValueError as exc:
            self._problem(peer.pid, f"ignored a bad candidate: {_short(exc)}")

    async def _bye(self, peer: _Peer) -> None:
        peer.said_bye = True
        if peer.restart is not None:
            peer.restart.cancel()
            peer.restart = None
        self.offers.forget(peer.pid)
        link, peer.link = peer.link, None
        if link is not None:
            await link.close()
            self._report(peer, "closed")
        self._update_audience()

    # --- links ------------------------------------------------------------------
    def _new_link(self, peer: _Peer, offer_id: str, role: Role) -> PeerLink:
        link = PeerLink(
            peer.pid,
            offer_id,
            role,
            policy=self._policy,
            tracks=self.media.subscribe(),
            remote=peer.remote,
            on_state=lambda link: self._link_state(peer, link),
            on_picture=self._picture_arrived,
            on_closed=self._links.discard,
            connect_timeout=self._options.connect_timeout,
        )
        self._links.add(link)
        return link

    async def _install(self, peer: _Peer, link: PeerLink) -> None:
        """Make ``link`` the pair's connection; the one it replaces is closed."""
        old, peer.link = peer.link, link
        self._report(peer, link.state)
        self._update_audience()
        if old is not None:
            await old.close()

    def _link_state(self, peer: _Peer, link: PeerLink) -> None:
        if peer.link is not link or self._peers.get(peer.pid) is not peer:
            return  # a replaced or retired link: its states are nobody's news
        state = link.state
        self._report(peer, state)
        if state == "connected":
            peer.attempts = 0
            self.sfu.mesh_connected(peer.pid)
        elif state in ("failed", "closed"):
            self._link_down(peer, link)

    def _link_down(self, peer: _Peer, link: PeerLink) -> None:
        """The pair's connection failed (or the peer closed it): the offerer
        restarts it with a new offer after a backoff; the answerer waits."""
        self._report(peer, "failed" if link.state != "closed" else "closed")
        if not self._offerer_of(peer.pid) or peer.pid not in self.roster or peer.said_bye:
            return
        if not self.sfu.mesh_allowed():
            return  # the SFU carries the pair
        if peer.restart is not None and not peer.restart.done():
            return
        delay = self._options.backoff.delay(peer.attempts)
        peer.attempts += 1
        log.info("call: connection to %s %s; new offer in %.1f s", peer.pid, link.state, delay)
        peer.restart = self._tasks.spawn(self._restart_later(peer, link, delay), "restart")

    async def _restart_later(self, peer: _Peer, link: PeerLink, delay: float) -> None:
        await asyncio.sleep(delay)
        peer.restart = None
        if self._peers.get(peer.pid) is peer and peer.link is link and not peer.said_bye:
            self._queue(peer, lambda: self._offer(peer))

    def _update_audience(self) -> None:
        self.media.set_audience(
            any(p.link is not None for p in self._peers.values()) or self.sfu.active)

    # --- what arrives -----------------------------------------------------------
    def _picture_arrived(self, pid: str, source: Source) -> None:
        peer = self._peers.get(pid)
        if peer is not None:
            self._set_receiving(peer.remote, source, True)
            if self.sfu.watching_mesh:
                self.sfu.mesh_picture(pid)

    def _set_receiving(self, remote: RemotePeer, source: Source, receiving: bool) -> None:
        if remote.receiving[source] != receiving:
            remote.receiving[source] = receiving
            self._tell("remote_media", remote.pid, source, receiving)

    async def _watch_pictures(self) -> None:
        timeout = self._options.picture_timeout
        while True:
            await asyncio.sleep(min(0.25, timeout / 4))
            now = time.monotonic()
            for peer in list(self._peers.values()):
                for source in SOURCES:
                    last = peer.remote.last_picture[source]
                    if peer.remote.receiving[source] and (last is None or now - last > timeout):
                        self._set_receiving(peer.remote, source, False)

    async def _mix_forever(self) -> None:
        loop = asyncio.get_running_loop()
        step = FRAME_SAMPLES / 48_000
        due = loop.time()
        while True:
            due += step
            delay = due - loop.time()
            if delay < -0.2:  # the loop stalled: skip ahead rather than burst
                due = loop.time()
            elif delay > 0:
                await asyncio.sleep(delay)
            peers = [p.remote for p in self._peers.values()]
            mixed = mix(peers)
            ring = self._playback
            if ring is not None:
                ring.write(mixed)

    async def _stats_forever(self) -> None:
        while True:
            await asyncio.sleep(self._options.stats_interval)
            try:
                await self.sfu.take_stats()
            except Exception as exc:
                log.debug("publisher stats failed: %s", exc)
            for peer in list(self._peers.values()):
                link = peer.link
                if link is None or link.closed or not link.ever_connected:
                    continue
                try:
                    self._put_stats(peer.pid, await link.take_stats())
                except Exception as exc:  # stats are a nicety; never a reason to stop
                    log.debug("stats of %s failed: %s", peer.pid, exc)

    # --- the end ----------------------------------------------------------------
    async def close(self) -> None:
        """Close every link, stop the tracks, end every task (engine stop)."""
        peers = list(self._peers.values())
        self._peers.clear()
        for peer in peers:
            for task in (peer.restart, peer.runner):
                if task is not None:
                    task.cancel()
        await self._close_links()
        for peer in peers:
            if peer.link is not None:
                peer.link = None
                self._report(peer, "closed")
        await self.sfu.close()
        self.media.stop()
        await self._tasks.close()
        await self._close_links()  # any a cancelled job made meanwhile

    async def _close_links(self) -> None:
        while self._links:
            links = list(self._links)
            await asyncio.gather(*(link.close() for link in links), return_exceptions=True)
            self._links.difference_update(links)


def _kind(message: object) -> str:
    return type(message).__name__.removesuffix("Signal").lower()


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = text[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
