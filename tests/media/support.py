"""People in a call, for the engine's tests: engines joined by an in-memory switchboard.

The switchboard forwards exactly the wire dicts of SPEC section 2 (*Calls*),
JSON round-tripped like the server would, and can drop messages to play a
lost socket. A :class:`RawPeer` is a participant written with plain aiortc
(like a browser following the SPEC: it may trickle its candidates).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import json
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import av
import numpy as np
import numpy.typing as npt
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack, VideoStreamTrack

from conference_gui.media import ice
from conference_gui.media.engine import CallEngine, EngineOptions
from conference_gui.media.exchange import FrameSlot, ToneSource, VideoImage

T = TypeVar("T")

RED = (0, 0, 255)  # BGR
GREEN = (0, 200, 0)
BLUE = (255, 0, 0)
WHITE = (255, 255, 255)

#: Quick but realistic: small pictures keep the two shared cores free.
TEST_OPTIONS = EngineOptions(
    camera_fps=20.0, picture_timeout=0.6, stats_interval=0.4, connect_timeout=8.0
)


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``predicate`` until true (media has no event to await from this thread)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.02)


def picture(
    left: tuple[int, int, int], right: tuple[int, int, int], size: tuple[int, int] = (320, 240)
) -> npt.NDArray[np.uint8]:
    """A BGRA picture: ``left`` colour on the left half, ``right`` on the right."""
    w, h = size
    px = np.empty((h, w, 4), dtype=np.uint8)
    px[..., 3] = 255
    px[:, : w // 2, :3] = left
    px[:, w // 2 :, :3] = right
    return px


def colour_at(pixels: npt.NDArray[np.uint8], fx: float, fy: float = 0.5) -> tuple[int, int, int]:
    """Mean BGR of a small patch at fraction (fx, fy) of the picture."""
    h, w = pixels.shape[:2]
    x, y = int(w * fx), int(h * fy)
    patch = pixels[max(0, y - 4) : y + 4, max(0, x - 4) : x + 4, :3].reshape(-1, 3)
    b, g, r = patch.mean(axis=0)
    return int(b), int(g), int(r)


def close_to(got: tuple[int, int, int], want: tuple[int, int, int], tol: int = 45) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(got, want, strict=True))


class Switchboard:
    """Carries ``signal`` data between participants, as the server would."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inboxes: dict[str, Callable[[str, object], None]] = {}
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        #: Messages for which this returns True are lost (a socket that is down).
        self.drop: Callable[[str, str, dict[str, Any]], bool] = lambda _f, _t, _d: False

    def attach(self, pid: str, inbox: Callable[[str, object], None]) -> None:
        with self._lock:
            self._inboxes[pid] = inbox

    def detach(self, pid: str) -> None:
        with self._lock:
            self._inboxes.pop(pid, None)

    def deliver(self, frm: str, to: str, data: dict[str, Any]) -> None:
        wire = json.loads(json.dumps(data))  # what a socket would carry
        with self._lock:
            self.sent.append((frm, to, wire))
            inbox = self._inboxes.get(to)
            lost = self.drop(frm, to, wire)
        if inbox is not None and not lost:
            inbox(frm, wire)

    def messages(self, frm: str | None = None, to: str | None = None, kind: str | None = None
                 ) -> list[dict[str, Any]]:
        with self._lock:
            return [
                d for f, t, d in self.sent
                if (frm is None or f == frm) and (to is None or t == to)
                and (kind is None or d.get("type") == kind)
            ]


@dataclass
class Event:
    kind: str
    args: tuple[object, ...]

    def __repr__(self) -> str:  # SDPs are long: a failure message shows their type
        shown = [
            f"<{a.get('type')}>" if isinstance(a, dict) else repr(a)[:80] for a in self.args
        ]
        return f"{self.kind}({', '.join(shown)})"


class Party:
    """One participant: a :class:`CallEngine`, its fake devices, and what it was told."""

    def __init__(
        self,
        board: Switchboard,
        pid: str,
        colour: tuple[int, int, int] = RED,
        right: tuple[int, int, int] | None = None,
        frequency: float = 440.0,
        options: EngineOptions = TEST_OPTIONS,
        policy: ice.IcePolicy | None = None,
        moving: bool = False,
    ) -> None:
        self.board = board
        self.pid = pid
        self.camera = FrameSlot()
        self.camera.put(VideoImage(picture(colour, right or colour), time.monotonic()))
        self._feeder: threading.Thread | None = None
        self._feeding = threading.Event()
        if moving:  # a camera delivers new pictures all the time; a still one does not
            self._feeder = threading.Thread(
                target=self._feed, args=(picture(colour, right or colour),),
                name=f"fake-camera-{pid}", daemon=True,
            )
            self._feeding.set()
            self._feeder.start()
        self.tone = ToneSource(frequency=frequency, amplitude=0.3)
        self._cond = threading.Condition()
        self.events: list[Event] = []
        self.engine = CallEngine(
            self, ice=policy or ice.IcePolicy.loopback_only(), options=options,
            name=f"call-engine-{pid}",
        )
        board.attach(pid, self.engine.handle_signal)
        self.engine.start()
        self.engine.set_camera(self.camera)
        self.engine.set_microphone(self.tone)
        self.engine.set_sending(True, True, False)

    # EngineListener (called on the engine thread)
    def send_signal(self, to: str, data: dict[str, object]) -> None:
        self._record("send_signal", to, data)
        self.board.deliver(self.pid, to, dict(data))

    def peer_state(self, pid: str, state: str) -> None:
        self._record("peer_state", pid, state)

    def remote_media(self, pid: str, source: str, receiving: bool) -> None:
        self._record("remote_media", pid, source, receiving)

    def problem(self, pid: str | None, message: str) -> None:
        self._record("problem", pid, message)

    def _record(self, kind: str, *args: object) -> None:
        with self._cond:
            self.events.append(Event(kind, args))
            self._cond.notify_all()

    # what the test asks
    def wait_event(self, kind: str, *args: object, timeout: float = 10.0, after: int = 0) -> int:
        """Wait for an event ``kind`` whose first arguments are ``args``; returns its index."""
        def found() -> int | None:
            for i, ev in enumerate(self.events[after:], start=after):
                if ev.kind == kind and ev.args[: len(args)] == args:
                    return i
            return None

        with self._cond:
            ok = self._cond.wait_for(lambda: found() is not None, timeout)
            if not ok:
                raise AssertionError(
                    f"{self.pid}: no {kind}{args} within {timeout} s; got {self.events[after:]}"
                )
            index = found()
            assert index is not None
            return index

    def of(self, kind: str) -> list[tuple[object, ...]]:
        with self._cond:
            return [ev.args for ev in self.events if ev.kind == kind]

    def states(self, pid: str) -> list[object]:
        return [a[1] for a in self.of("peer_state") if a[0] == pid]

    def connected_to(self, *pids: str, timeout: float = 10.0) -> None:
        for pid in pids:
            self.wait_event("peer_state", pid, "connected", timeout=timeout)

    def sees(self, pid: str, source: str = "camera") -> VideoImage | None:
        return self.engine.remote_slot(pid, source).latest()[1]  # type: ignore[arg-type]

    def frames_from(self, pid: str, source: str = "camera") -> int:
        return self.engine.remote_slot(pid, source).seq  # type: ignore[arg-type]

    def _feed(self, pixels: npt.NDArray[np.uint8]) -> None:
        while self._feeding.is_set():
            self.camera.put(VideoImage(pixels, time.monotonic()))
            time.sleep(0.04)

    def stop(self) -> None:
        self._feeding.clear()
        if self._feeder is not None:
            self._feeder.join(5)
        self.board.detach(self.pid)
        assert self.engine.stop(10.0), f"{self.pid}'s engine did not stop"
        assert self.engine.leftover_tasks == 0, f"{self.pid}: tasks outlived their owners"


def join_all(*parties: Party) -> None:
    ids = [p.pid for p in parties]
    for p in parties:
        p.engine.join(p.pid, ids)


class ColourTrack(VideoStreamTrack):
    """A plain aiortc video track of one solid colour (the raw peer's camera)."""

    def __init__(self, bgr: tuple[int, int, int]) -> None:
        super().__init__()
        px = np.empty((240, 320, 3), dtype=np.uint8)
        px[:] = bgr
        self._px = px

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame.from_ndarray(self._px, format="bgr24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class RawPeer:
    """A participant written with plain aiortc on its own loop and thread, following
    the SPEC by hand (like a browser page would): three transceivers, and it can
    trickle its candidates instead of leaving them in the SDP."""

    def __init__(self, board: Switchboard, pid: str, colour: tuple[int, int, int] = GREEN) -> None:
        self.board, self.pid, self.colour = board, pid, colour
        self.inbox: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self.pcs: list[RTCPeerConnection] = []
        self.frames: list[av.VideoFrame] = []
        self._tasks: set[asyncio.Future[Any]] = set()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"raw-peer-{pid}", daemon=True)
        self._thread.start()
        self._started.wait(5)
        board.attach(pid, self._receive)

    def _run(self) -> None:
        ice.use_policy(ice.IcePolicy.loopback_only())
        self._context = contextvars.copy_context()
        self._started.set()
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on this peer's loop *in its thread's context* (where the ICE
        policy is set): ``run_coroutine_threadsafe`` would copy the caller's."""
        result: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            task = self._loop.create_task(coro, context=self._context.copy())

            def done(t: asyncio.Task[T]) -> None:
                if t.cancelled():
                    result.cancel()
                elif (exc := t.exception()) is not None:
                    result.set_exception(exc)
                else:
                    result.set_result(t.result())

            task.add_done_callback(done)

        self._loop.call_soon_threadsafe(start)
        return result.result(timeout)

    def _receive(self, frm: str, data: object) -> None:
        assert isinstance(data, dict)
        with self._cond:
            self.inbox.append(data)
            self._cond.notify_all()

    def wait_message(self, kind: str, after: int = 0, timeout: float = 10.0) -> dict[str, Any]:
        with self._cond:
            def find() -> dict[str, Any] | None:
                return next((m for m in self.inbox[after:] if m.get("type") == kind), None)
            if not self._cond.wait_for(lambda: find() is not None, timeout):
                raise AssertionError(f"{self.pid}: no {kind} within {timeout} s: {self.inbox}")
            found = find()
            assert found is not None
            return found

    def send(self, to: str, data: dict[str, Any]) -> None:
        self.board.deliver(self.pid, to, data)

    async def three_sections(self) -> RTCPeerConnection:
        """A connection with the SPEC's three sections: audio, camera video, screen video."""
        from aiortc.mediastreams import AudioStreamTrack

        pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        pc.addTransceiver(AudioStreamTrack(), direction="sendrecv")
        pc.addTransceiver(ColourTrack(self.colour), direction="sendrecv")
        pc.addTransceiver(ColourTrack(self.colour), direction="sendrecv")

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                task = asyncio.ensure_future(self._collect(track))
                self._tasks.add(task)

        self.pcs.append(pc)
        return pc

    async def _collect(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, av.VideoFrame):
                self.frames.append(frame)

    def close(self) -> None:
        async def shut() -> None:
            for pc in self.pcs:
                await pc.close()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        self.board.detach(self.pid)
        self.run(shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        leftovers = asyncio.all_tasks(self._loop)
        for task in leftovers:
            task.cancel()
        if leftovers:
            self._loop.run_until_complete(asyncio.wait(leftovers, timeout=5))
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()


def strip_candidates(sdp: str) -> tuple[str, list[tuple[str, int]]]:
    """The SDP without its candidate lines (and end-of-candidates), and those candidates
    as (``candidate:...`` line, m-line index) — how a trickling browser sends them."""
    out, candidates, index = [], [], -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            index += 1
        if line.startswith("a=candidate:"):
            candidates.append((line[2:], index))
            continue
        if line.startswith("a=end-of-candidates"):
            continue
        out.append(line)
    return "\r\n".join(out) + "\r\n", candidates


def describe(sdp: str, kind: str) -> RTCSessionDescription:
    return RTCSessionDescription(sdp=sdp, type=kind)
