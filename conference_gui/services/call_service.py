"""The call engine seen from the GUI thread: one :class:`CallEngine`, its thread,
and the signaling it exchanges over the window's one socket.

DTLS, SRTP, RTP, jitter buffers and codecs run on the engine's own asyncio
loop and thread (conference_gui.media); this QObject lives on the GUI thread.
What the engine reports (on its thread) is re-emitted here as Qt signals,
which Qt queues to the GUI thread because this object lives there. Signaling
goes out through :meth:`SocketService.send_signal`: the engine opens no
connection to the server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from conference_gui.domain.call import MediaState
from conference_gui.domain.meeting import SignalMessage
from conference_gui.media.engine import CallEngine, EngineOptions
from conference_gui.media.exchange import FrameSlot, PcmRing, PcmSource
from conference_gui.media.ice import IcePolicy
from conference_gui.media.sfu import SfuRefused
from conference_gui.media.stats import PeerStats
from conference_gui.services.socket_service import RequestError, SocketService
from conference_gui.tasks import TaskKeeper

log = logging.getLogger(__name__)

#: Signals kept while the window has not yet taken part in the call (its join ack
#: not handled yet), and how old they may be when it does. The server sends
#: ``participant-joined`` to everyone before the joiner gets its ack, and an
#: offerer that answers that event at once (a browser does, within milliseconds)
#: gets its offer to us before our ack: dropped, it would never be answered.
EARLY_SIGNALS = 64
EARLY_SIGNAL_AGE = 10.0


class _EngineRelay(QObject):
    """Receives the engine's reports on the engine thread and emits them as signals.

    Emitting from the engine thread to slots of objects on the GUI thread makes
    Qt queue them: nothing of the GUI runs on the engine thread.
    """

    signal_out = Signal(str, object)
    state_reported = Signal(str, str)
    media_reported = Signal(str, str, bool)
    problem_reported = Signal(str, str)

    # EngineListener, called on the engine thread
    def send_signal(self, to: str, data: dict[str, object]) -> None:
        self.signal_out.emit(to, data)

    def peer_state(self, pid: str, state: str) -> None:
        self.state_reported.emit(pid, state)

    def remote_media(self, pid: str, source: str, receiving: bool) -> None:
        self.media_reported.emit(pid, source, receiving)

    def problem(self, pid: str | None, message: str) -> None:
        self.problem_reported.emit(pid or "", message)


class CallService(QObject):
    """Runs the call's media engine for one window.

    Signals (on the GUI thread):
        peer_state_changed(str pid, str state): new / connecting / connected / failed / closed.
        remote_media_changed(str pid, str source, bool receiving): pictures from a peer's
            camera or screen started or stopped arriving.
        problem(str pid, str message): something a person may want to know ("" pid: ours).
    """

    peer_state_changed = Signal(str, str)
    remote_media_changed = Signal(str, str, bool)
    problem = Signal(str, str)

    def __init__(
        self,
        socket: SocketService,
        *,
        ice: IcePolicy | None = None,
        options: EngineOptions | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._socket = socket
        self._relay = _EngineRelay(self)
        self._relay.signal_out.connect(self._send_signal)
        self._relay.state_reported.connect(self.peer_state_changed)
        self._relay.media_reported.connect(self.remote_media_changed)
        self._relay.problem_reported.connect(self.problem)
        self._engine = CallEngine(self._relay, ice=ice, options=options)
        self._tasks = TaskKeeper("call-signaling")
        self._joined = False
        self._started = False
        self._early: deque[tuple[float, SignalMessage]] = deque(maxlen=EARLY_SIGNALS)
        self._gui_loop: asyncio.AbstractEventLoop | None = None
        socket.signal_received.connect(self._on_signal)
        socket.sfu_published.connect(self._engine.sfu_published)
        socket.sfu_unpublished.connect(self._engine.sfu_unpublished)

    @property
    def engine(self) -> CallEngine:
        return self._engine

    @property
    def in_call(self) -> bool:
        return self._joined

    def start(self) -> None:
        """Start the engine's thread (returns once it accepts commands)."""
        if not self._started:
            self._started = True
            self._gui_loop = asyncio.get_event_loop()
            self._engine.start()
            self._engine.set_sfu_ask(self._ask)

    # -- the call (from the call controller) ---------------------------------------
    def join(self, me: str, others: list[str]) -> None:
        self.start()
        self._joined = True
        self._engine.join(me, others)
        early = list(self._early)
        self._early.clear()
        now = time.monotonic()
        for received, message in early:  # after join: the engine knows who it is
            if now - received <= EARLY_SIGNAL_AGE:
                self._engine.handle_signal(message.sender_id, message.data)

    def peer_joined(self, pid: str) -> None:
        if self._joined:
            self._engine.peer_joined(pid)

    def peer_left(self, pid: str) -> None:
        self._engine.peer_left(pid)

    def leave(self) -> None:
        self._early.clear()
        if self._joined:
            self._joined = False
            self._engine.leave()

    def set_mode(self, mode: str) -> None:
        """The server's call mode, "mesh" or "sfu" (the engine switches make-before-break)."""
        self.start()
        self._engine.set_mode(mode)

    # -- media ---------------------------------------------------------------------
    def set_sending(self, media: MediaState) -> None:
        self._engine.set_sending(media.audio, media.video, media.screen)

    def set_sources(
        self,
        *,
        microphone: PcmSource | None,
        camera: FrameSlot | None,
        playback: PcmRing | None,
    ) -> None:
        self.start()
        self._engine.set_microphone(microphone)
        self._engine.set_camera(camera)
        self._engine.set_playback(playback)

    def set_screen(self, slot: FrameSlot | None) -> None:
        self.start()  # a command posted before the engine runs would be dropped
        self._engine.set_screen(slot)

    def remote_slot(self, pid: str, source: str) -> FrameSlot:
        return self._engine.remote_slot(pid, source)  # type: ignore[arg-type]

    def levels(self) -> dict[str, float]:
        return self._engine.levels()

    def stats(self) -> dict[str, PeerStats]:
        return self._engine.all_stats()

    # -- signaling -------------------------------------------------------------------
    def _on_signal(self, message: SignalMessage) -> None:
        if self._joined:
            self._engine.handle_signal(message.sender_id, message.data)
        else:  # before our join ack is handled: kept for join() (EARLY_SIGNALS)
            log.debug("signal from %s before the call's join: kept", message.sender_id)
            self._early.append((time.monotonic(), message))

    def _send_signal(self, to: str, data: object) -> None:
        if isinstance(data, dict):
            self._tasks.spawn(self._deliver(to, data))

    async def _deliver(self, to: str, data: dict[str, Any]) -> None:
        try:
            await self._socket.send_signal(to, data)
        except RequestError as exc:
            # The peer left meanwhile, or we are offline: the engine restarts the
            # pair when it fails, and the next join ack re-offers.
            log.info("signal %s to %s not delivered: %s", data.get("type"), to, exc.code)

    # -- the SFU's requests (from the engine thread) -------------------------------------
    def _ask(self, event: str, payload: dict[str, Any]
             ) -> concurrent.futures.Future[dict[str, Any]]:
        """Send ``event`` over the window's socket for the engine; thread-safe. The
        future fails with :class:`SfuRefused` when the server says no."""
        future: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        loop = self._gui_loop
        if loop is None or loop.is_closed():
            future.set_exception(SfuRefused("offline", "the window is closing"))
            return future
        try:
            loop.call_soon_threadsafe(self._start_ask, event, payload, future)
        except RuntimeError:
            future.set_exception(SfuRefused("offline", "the window is closing"))
        return future

    def _start_ask(self, event: str, payload: dict[str, Any],
                   future: concurrent.futures.Future[dict[str, Any]]) -> None:
        self._tasks.spawn(self._run_ask(event, payload, future))

    async def _run_ask(self, event: str, payload: dict[str, Any],
                       future: concurrent.futures.Future[dict[str, Any]]) -> None:
        try:
            ack = await self._socket.request(event, payload, timeout=10.0)
        except RequestError as exc:
            if not future.done():
                future.set_exception(SfuRefused(exc.code, exc.message))
        except BaseException as exc:
            if not future.done():
                future.set_exception(SfuRefused("error", str(exc) or type(exc).__name__))
            raise
        else:
            if not future.done():
                future.set_result(ack)

    # -- life --------------------------------------------------------------------------
    async def stop(self) -> None:
        """Close every peer connection and stop the engine's thread, without
        blocking the GUI thread. (Peers learn from ``participant-left``.)"""
        self._joined = False
        await self._tasks.shutdown()
        if self._started and not await _off_the_loop(self._engine.stop):
            log.error("the call engine's thread did not end")


async def _off_the_loop(stop: Callable[[], bool]) -> bool:
    """Run a blocking ``stop()`` (a thread join) on a thread of its own and await it.

    Not the loop's default executor: under qasync that is a pool of ten
    threads kept for the loop's life, for a call made once per window.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bool] = loop.create_future()

    def run() -> None:
        try:
            result = stop()
        except Exception as exc:
            loop.call_soon_threadsafe(_settle, done, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, done, result, None)

    threading.Thread(target=run, name="call-engine-stop", daemon=True).start()
    return await done


def _settle(future: asyncio.Future[bool], result: bool | None, exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(bool(result))
