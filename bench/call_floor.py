"""The call engine against the floor: a bare aiortc pair, 640×480@30 VP8 on loopback.

    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m bench.call_floor'
        [--seconds 10] [--warmup 2] [--runs 3] [--full]

Run as root inside a network namespace with only ``lo`` (the command above):
the bench refuses to run where any other interface exists, so its media can
never leave the machine.

One process, one fake camera thread producing 640×480 BGRA pictures at 30 fps
into a :class:`FrameSlot`; each picture carries its capture time
(``time.monotonic()``, µs, 32 bits) as two rows of black/white 20×20 blocks,
read back from the received picture, so latency needs no side channel.

* **bare pair** — the floor: two plain ``RTCPeerConnection`` on one loop in
  one thread, a track that sends the slot's newest picture at 30 fps (aiortc's
  own pacing), the receiver reading the decoded ``yuv420p`` frame. Latency:
  capture → decoded.
* **engines** — two :class:`CallEngine` (each its own thread and loop) joined
  by an in-memory signaling relay; Ann sends her camera only, Bob sends
  nothing. Latency: capture → decoded *and converted to BGRA* in Bob's
  ``remote_slot`` (what a tile copies). Also: ``join()`` → first picture.
* ``--full`` adds **engines, full call**: camera and a tone both ways.

CPU is the whole process's CPU seconds (every thread) per second of call,
camera thread included in every row. Medians over ``--runs`` are printed last.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import os
import socket
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import (
    AudioStreamTrack,
    MediaStreamError,
    MediaStreamTrack,
    VideoStreamTrack,
)

from bench._common import conditions, percentile
from conference_gui.media import ice
from conference_gui.media.engine import CallEngine, EngineOptions
from conference_gui.media.exchange import FrameSlot, ToneSource, VideoImage, plane_rows
from conference_gui.media.jitter import use_marker_buffer

WIDTH, HEIGHT, FPS = 640, 480, 30
BITS, BLOCK = 32, 20  # 32 blocks of 20 px: the stamp spans the picture's width


# --------------------------------------------------------------------------- the stamp
# The value is ``time.monotonic()`` in µs, modulo 2**32 (71 minutes): CLOCK_MONOTONIC
# is the same clock in every process of the machine, so a picture stamped in one
# process can be timed in another.
def stamp_value(when: float) -> int:
    return int(when * 1e6) & 0xFFFFFFFF


#: The stamp's two copies straddle the picture's middle row, so a tile that fills
#: itself with the middle of the picture (its top and bottom cut off) shows it.
STAMP_TOP = HEIGHT // 2 - BLOCK


def stamp(pixels: npt.NDArray[np.uint8], value: int) -> None:
    """Write ``value`` (32 bits) twice, as rows of black/white blocks across the middle."""
    for row in (0, 1):
        y = STAMP_TOP + row * BLOCK
        for bit in range(BITS):
            on = (value >> bit) & 1
            pixels[y : y + BLOCK, bit * BLOCK : (bit + 1) * BLOCK, :3] = 255 if on else 0


def read_stamp(gray: npt.NDArray[np.uint8]) -> int | None:
    """The stamp in a grey strip (:func:`strip_rows`) of a picture of any width: a
    picture of WIDTH pixels scaled to ``gray.shape[1]``, the strip centred on its
    middle row. None when the two copies disagree (a damaged picture) or the strip
    is too small to read."""
    scale = gray.shape[1] / WIDTH
    r = max(1, int(BLOCK * scale / 5))
    if gray.shape[0] < int(2 * BLOCK * scale) or BLOCK * scale < 4:
        return None
    middle = gray.shape[0] / 2
    values = []
    for row in (0, 1):
        y = int(middle + (row - 0.5) * BLOCK * scale)
        value = 0
        for bit in range(BITS):
            x = int((bit * BLOCK + BLOCK / 2) * scale)
            if gray[y - r : y + r + 1, x - r : x + r + 1].mean() > 128:
                value |= 1 << bit
        values.append(value)
    return values[0] if values[0] == values[1] else None


def strip_rows(width: int, height: int) -> slice:
    """The rows of a ``width``×``height`` picture that hold the stamp: the picture sent,
    scaled to ``width``, whole or cut about its middle (a tile that fills itself)."""
    half = int(BLOCK * width / WIDTH) + 2
    middle = height // 2
    return slice(max(0, middle - half), middle + half)


def captured_at(value: int, received: float) -> float:
    """The capture time (monotonic seconds) a stamp read at ``received`` stands for."""
    now_us = int(received * 1e6)
    return (now_us - ((now_us - value) % (1 << 32))) / 1e6


#: A stamp that reads as older than this is a misread (both copies damaged alike:
#: the value is anywhere in 71 minutes), not a latency.
MAX_LATENCY = 60.0


def latency_of(gray: npt.NDArray[np.uint8], received: float) -> float | None:
    """Capture → ``received`` for the stamp in ``gray``; None if unreadable."""
    value = read_stamp(gray)
    if value is None:
        return None
    latency = received - captured_at(value, received)
    return latency if latency <= MAX_LATENCY else None


class CameraSlot(FrameSlot):
    """The camera's slot, noting when the sender first took each picture: the
    sender's pacing runs at its own phase to the camera's, which alone moves
    capture → decoded by 0–33 ms from run to run. Taken → decoded does not."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: dict[int, float] = {}

    def latest(self) -> tuple[int, VideoImage | None]:
        seq, image = super().latest()
        if image is not None:
            self.taken.setdefault(seq, time.monotonic())
        return seq, image


class Camera(threading.Thread):
    """The fake camera: a moving 640×480 picture every 1/30 s, stamped."""

    def __init__(self, slot: CameraSlot) -> None:
        super().__init__(name="bench-camera", daemon=True)
        self.slot = slot
        self.seqs: dict[int, int] = {}  # stamp -> the slot's sequence number
        self.running = threading.Event()
        self.running.set()
        rng = np.random.default_rng(7)
        base = np.zeros((HEIGHT, WIDTH * 2, 4), dtype=np.uint8)
        base[..., 0] = np.linspace(0, 255, WIDTH * 2, dtype=np.uint8)[None, :]
        base[..., 1] = np.linspace(0, 255, HEIGHT, dtype=np.uint8)[:, None]
        base[..., 2] = rng.integers(0, 60, (HEIGHT, WIDTH * 2), dtype=np.uint8)
        base[..., 3] = 255
        self._texture = base

    def run(self) -> None:
        n = 0
        due = time.monotonic()
        while self.running.is_set():
            shift = (n * 8) % WIDTH
            pixels = np.ascontiguousarray(self._texture[:, shift : shift + WIDTH])
            now = time.monotonic()
            value = stamp_value(now)
            stamp(pixels, value)
            self.seqs[value] = self.slot.put(VideoImage(pixels, now))
            n += 1
            due += 1 / FPS
            time.sleep(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self.running.clear()
        self.join(5)


# --------------------------------------------------------------------------- results
@dataclass
class Result:
    name: str
    latencies: list[float]  # capture -> decoded
    sent: list[float]  # taken by the sender -> decoded
    cpu: float
    damaged: int
    first_frame: float | None = None

    def row(self) -> str:
        return line(self.name, [self])


HEAD = (
    f"{'scenario':<22} {'frames':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
    f"{'taken p50':>9} {'taken p99':>9} {'CPU s/s':>8} {'1st ms':>7}"
)


def line(name: str, results: list[Result]) -> str:
    """One table row: medians over ``results`` (one run: its own figures)."""
    runs = [r for r in results if r.latencies]
    if not runs:
        return f"{name:<22} no frames"

    def med(values: list[float]) -> float:
        return statistics.median(values) * 1000

    p50 = med([statistics.median(r.latencies) for r in runs])
    p99 = med([percentile(r.latencies, 99) for r in runs])
    worst = max(max(r.latencies) for r in runs) * 1000
    t50 = med([statistics.median(r.sent) for r in runs if r.sent])
    t99 = med([percentile(r.sent, 99) for r in runs if r.sent])
    frames = int(statistics.median(len(r.latencies) for r in runs))
    cpu = statistics.median(r.cpu for r in results)
    firsts = [r.first_frame for r in results if r.first_frame is not None]
    first = f"{statistics.median(firsts) * 1000:7.0f}" if firsts else "      –"
    return (
        f"{name:<22} {frames:6d} {p50:7.1f} {p99:7.1f} {worst:7.1f} "
        f"{t50:9.1f} {t99:9.1f} {cpu:8.3f} {first}"
    )


class Recorder:
    """Arrival times and picture strips, decoded after the run (cheap while it runs)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: list[tuple[float, npt.NDArray[np.uint8]]] = []
        self.recording = False
        self.first: float | None = None

    def add(self, now: float, gray: npt.NDArray[np.uint8]) -> None:
        if self.first is None:
            self.first = now
        if self.recording:
            with self.lock:
                self.arrivals.append((now, gray))

    def result(
        self, name: str, cpu: float, camera: Camera, first: float | None = None
    ) -> Result:
        lat, sent, damaged = [], [], 0
        for now, gray in self.arrivals:
            value = read_stamp(gray)
            if value is None or value not in camera.seqs:
                damaged += 1
                continue
            lat.append(now - captured_at(value, now))
            taken = camera.slot.taken.get(camera.seqs[value])
            if taken is not None:
                sent.append(now - taken)
        return Result(name, lat, sent, cpu, damaged, first)


def measure(recorder: Recorder, warmup: float, seconds: float) -> float:
    """Record for ``seconds`` after ``warmup``; returns CPU seconds per second."""
    time.sleep(warmup)
    recorder.recording = True
    cpu0, t0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    cpu1, t1 = time.process_time(), time.monotonic()
    recorder.recording = False
    return (cpu1 - cpu0) / (t1 - t0)


# --------------------------------------------------------------------------- the floor
class SlotTrack(VideoStreamTrack):
    """The newest picture of a slot, paced by aiortc itself (30 fps)."""

    def __init__(self, slot: FrameSlot) -> None:
        super().__init__()
        self.slot = slot

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        image = self.slot.latest()[1]
        while image is None:
            await asyncio.sleep(0.01)
            image = self.slot.latest()[1]
        frame = av.VideoFrame.from_ndarray(image.pixels, format="bgra")
        frame.pts, frame.time_base = pts, time_base
        return frame


async def bare_pair(
    slot: FrameSlot, recorder: Recorder, done: asyncio.Event, marker: bool
) -> None:
    config = RTCConfiguration(iceServers=[])
    sender, receiver = RTCPeerConnection(config), RTCPeerConnection(config)
    sender.addTransceiver(SlotTrack(slot), direction="sendonly")
    if marker:
        use_marker_buffer(receiver.addTransceiver("video", direction="recvonly").receiver)
    tasks: list[asyncio.Task[None]] = []

    async def watch(track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            assert isinstance(frame, av.VideoFrame)
            now = time.monotonic()
            y = plane_rows(frame.planes[0], frame.height)
            recorder.add(now, y[strip_rows(frame.width, frame.height), : frame.width].copy())

    @receiver.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        tasks.append(asyncio.ensure_future(watch(track)))

    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    await done.wait()
    await sender.close()
    await receiver.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def run_floor(warmup: float, seconds: float, marker: bool = False) -> Result:
    slot = CameraSlot()
    camera = Camera(slot)
    recorder = Recorder()
    loop = asyncio.new_event_loop()
    done = asyncio.Event()
    started = threading.Event()

    def thread() -> None:
        ice.use_policy(ice.IcePolicy.loopback_only())
        asyncio.set_event_loop(loop)
        started.set()
        loop.run_until_complete(bare_pair(slot, recorder, done, marker))
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()

    worker = threading.Thread(target=thread, name="bench-bare-pair")
    camera.start()
    worker.start()
    started.wait()
    try:
        cpu = measure(recorder, warmup, seconds)
    finally:
        loop.call_soon_threadsafe(done.set)
        worker.join(10)
        camera.stop()
    name = "bare pair + marker" if marker else "bare aiortc pair"
    return recorder.result(name, cpu, camera)


# --------------------------------------------------------------------------- the engines
class Relay:
    """The signaling server, in memory: JSON round trip, like the socket."""

    def __init__(self) -> None:
        self.engines: dict[str, CallEngine] = {}

    def listener(self, me: str) -> Any:
        relay = self

        class Listener:
            def send_signal(self, to: str, data: dict[str, object]) -> None:
                engine = relay.engines.get(to)
                if engine is not None:
                    engine.handle_signal(me, json.loads(json.dumps(data)))

            def peer_state(self, pid: str, state: str) -> None:
                pass

            def remote_media(self, pid: str, source: str, receiving: bool) -> None:
                pass

            def problem(self, pid: str | None, message: str) -> None:
                print(f"   problem at {me}: {message}")

        return Listener()


def run_engines(warmup: float, seconds: float, full: bool) -> Result:
    relay = Relay()
    options = EngineOptions()
    policy = ice.IcePolicy.loopback_only()
    ann = CallEngine(relay.listener("ann"), ice=policy, options=options, name="call-engine-ann")
    bob = CallEngine(relay.listener("bob"), ice=policy, options=options, name="call-engine-bob")
    relay.engines = {"ann": ann, "bob": bob}
    slot = CameraSlot()
    camera = Camera(slot)
    recorder = Recorder()
    bob_camera = CameraSlot()
    bob_cam_thread = Camera(bob_camera) if full else None
    for engine in (ann, bob):
        engine.start()
    ann.set_camera(slot)
    ann.set_microphone(ToneSource())
    ann.set_sending(full, True, False)
    if full:
        bob.set_camera(bob_camera)
        bob.set_microphone(ToneSource(660))
        bob.set_sending(True, True, False)
    tile = bob.remote_slot("ann", "camera")
    plain_put = tile.put

    def put(image: VideoImage | None) -> int:  # bench only: see each picture as it lands
        if image is not None:
            # green alone reads black/white blocks: as cheap as the floor's Y copy
            rows = strip_rows(image.width, image.height)
            recorder.add(time.monotonic(), image.pixels[rows, :, 1].copy())
        return plain_put(image)

    tile.put = put  # type: ignore[method-assign]
    camera.start()
    if bob_cam_thread is not None:
        bob_cam_thread.start()
    joined = time.monotonic()
    ann.join("ann", ["ann", "bob"])
    bob.join("bob", ["ann", "bob"])
    try:
        cpu = measure(recorder, warmup, seconds)
    finally:
        ann.stop()
        bob.stop()
        camera.stop()
        if bob_cam_thread is not None:
            bob_cam_thread.stop()
    first = None if recorder.first is None else recorder.first - joined
    name = "engines, full call" if full else "two CallEngines"
    return recorder.result(name, cpu, camera, first)


# --------------------------------------------------------------------------- floor peer process
# ``python -m bench.call_floor --peer offer|answer --start T0 --end T1 [--marker]``:
# ONE bare aiortc peer in its own process, full duplex like a window in a call
# (the app's fake-camera picture, stamped, 640×480@30, and a tone out; VP8 and
# Opus in, decoded and read). ``--marker`` adds the app's jitter-buffer change. Its
# SDP goes out as a ``sdp {json}`` line on stdout, the other side's comes in on
# stdin (the bench process relays them). The app windows of the call benches
# run one per process too, so CPU compares process with process.


def thread_cpu() -> dict[str, float]:
    """CPU seconds of every thread of this process so far, summed by thread name
    (the kernel's ``comm``: Qt names its threads; Python threads are named by
    :func:`name_python_threads`)."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        out[name] = out.get(name, 0.0) + seconds
    return out


def thread_waits() -> dict[str, float]:
    """Seconds every thread of this process spent runnable but waiting for a CPU
    (``/proc/self/task/*/schedstat``, second field), summed by thread name."""
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            waited = int((task / "schedstat").read_text().split()[1]) / 1e9
            name = (task / "comm").read_text().strip()
        except (OSError, IndexError, ValueError):
            continue
        out[name] = out.get(name, 0.0) + waited
    return out


def name_python_threads() -> None:
    """Give each Python thread's OS thread its Python name (first 15 characters), so
    :func:`thread_cpu` can tell them apart (Python 3.11 does not)."""
    for thread in threading.enumerate():
        tid = thread.native_id
        if tid is None:
            continue
        with contextlib.suppress(OSError):
            Path(f"/proc/self/task/{tid}/comm").write_text(thread.name[:15])


def cpu_between(
    before: dict[str, float], after: dict[str, float], seconds: float
) -> dict[str, float]:
    """Per thread name: CPU seconds per second of wall time between two :func:`thread_cpu`."""
    return {
        name: round((after.get(name, 0.0) - before.get(name, 0.0)) / seconds, 4)
        for name in sorted(set(before) | set(after))
        if after.get(name, 0.0) - before.get(name, 0.0) > 0
    }


class EagerTrack(VideoStreamTrack):
    """Sends each new camera picture the moment it is captured (as the app's engine
    does), timestamped from its capture time."""

    def __init__(self, slot: FrameSlot, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.slot = slot
        self._new = asyncio.Event()
        self._sent = -1
        self._first: float | None = None
        slot.add_listener(lambda: loop.call_soon_threadsafe(self._new.set))

    async def recv(self) -> av.VideoFrame:
        while True:
            await self._new.wait()
            self._new.clear()
            seq, image = self.slot.latest()
            if image is not None and seq != self._sent:
                break
        self._sent = seq
        if self._first is None:
            self._first = image.captured
        frame = av.VideoFrame.from_ndarray(image.pixels, format="bgra")
        frame.pts = int((image.captured - self._first) * 90_000)
        frame.time_base = fractions.Fraction(1, 90_000)
        return frame


class ToneTrack(AudioStreamTrack):
    """A tone in 20 ms Opus frames, paced like aiortc's own AudioStreamTrack."""

    def __init__(self, frequency: float) -> None:
        super().__init__()
        self.tone = ToneSource(frequency)
        self._start: float | None = None
        self._samples = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._samples += 960
            await asyncio.sleep(self._start + self._samples / 48_000 - time.monotonic())
        frame = av.AudioFrame.from_ndarray(
            self.tone.read(960).reshape(1, -1), format="s16", layout="mono"
        )
        frame.pts = self._samples
        frame.sample_rate = 48_000
        frame.time_base = fractions.Fraction(1, 48_000)
        return frame


class FakeCamera(threading.Thread):
    """The app's fake camera picture (``draw_fake_frame``: the same QPainter drawing,
    so the encoder gets the same content as the app's), 30 a second, stamped with
    the time taken before drawing (as the app's fake camera stamps ``captured``)."""

    def __init__(self, slot: FrameSlot, name: str) -> None:
        super().__init__(name="bench-camera", daemon=True)
        self.slot = slot
        self.label = name
        self.running = threading.Event()
        self.running.set()

    def run(self) -> None:
        from datetime import datetime

        from conference_gui.services.media.fake_camera import draw_fake_frame
        from conference_gui.services.media.video_frames import qimage_to_bgra

        started = due = time.monotonic()
        while self.running.is_set():
            now = time.monotonic()
            pixels = qimage_to_bgra(draw_fake_frame(self.label, now - started, datetime.now()))
            if pixels is not None:
                stamp(pixels, stamp_value(now))
                self.slot.put(VideoImage(pixels, now))
            due += 1 / FPS
            time.sleep(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self.running.clear()
        self.join(5)


async def floor_peer(role: str, start: float, end: float, marker: bool) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    slot = FrameSlot()
    camera = FakeCamera(slot, "P0" if role == "offer" else "P1")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(ToneTrack(440 if role == "offer" else 660), direction="sendrecv")
    video = pc.addTransceiver(EagerTrack(slot, loop), direction="sendrecv")
    if marker:  # the app's jitter-buffer change (conference_gui.media.jitter), nothing else
        use_marker_buffer(video.receiver)
    arrivals: list[tuple[float, npt.NDArray[np.uint8]]] = []
    first: list[float] = []
    tasks: list[asyncio.Task[None]] = []

    async def watch(track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            now = time.monotonic()
            if not first:
                first.append(now)
            if isinstance(frame, av.VideoFrame) and start <= now <= end:
                y = plane_rows(frame.planes[0], frame.height)
                arrivals.append(
                    (now, y[strip_rows(frame.width, frame.height), : frame.width].copy())
                )

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        tasks.append(asyncio.ensure_future(watch(track)))

    async def remote() -> RTCSessionDescription:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        data = json.loads(line)
        return RTCSessionDescription(sdp=data["sdp"], type=data["type"])

    def send(description: RTCSessionDescription) -> None:
        print("sdp " + json.dumps({"sdp": description.sdp, "type": description.type}), flush=True)

    if role == "offer":
        await pc.setLocalDescription(await pc.createOffer())
        send(pc.localDescription)
        await pc.setRemoteDescription(await remote())
    else:
        await pc.setRemoteDescription(await remote())
        await pc.setLocalDescription(await pc.createAnswer())
        send(pc.localDescription)
    camera.start()
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    name_python_threads()
    cpu0, threads0, t0 = time.process_time(), thread_cpu(), time.monotonic()
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    name_python_threads()
    cpu1, threads1, t1 = time.process_time(), thread_cpu(), time.monotonic()
    camera.stop()
    await pc.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies, damaged = [], 0
    for now, gray in arrivals:
        latency = latency_of(gray, now)
        if latency is None:
            damaged += 1
            continue
        latencies.append(latency)
    return {
        "latencies": latencies,
        "damaged": damaged,
        "cpu": (cpu1 - cpu0) / (t1 - t0),
        "threads": cpu_between(threads0, threads1, t1 - t0),
        "first_frame": first[0] if first else None,
    }


def peer_main(role: str, start: float, end: float, marker: bool) -> None:
    only_loopback()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    from bench._common import app_qt_environment, report

    app_qt_environment()  # the fake camera's drawing costs what it costs in the app

    app = QGuiApplication([])  # fonts for the fake camera's drawing; no event loop runs
    with ice.policy(ice.IcePolicy.loopback_only()):
        result = asyncio.run(floor_peer(role, start, end, marker))
    report(result)
    del app


# --------------------------------------------------------------------------- main
def only_loopback() -> None:
    names = sorted(name for _, name in socket.if_nameindex())
    if names != ["lo"]:
        raise SystemExit(
            f"refusing to run: interfaces {names}; run inside `unshare -n` (see the docstring)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also a full two-way call")
    parser.add_argument("--peer", choices=("offer", "answer"), help=argparse.SUPPRESS)
    parser.add_argument("--start", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--end", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--marker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:  # one floor peer of the call benches (bench_call_*.py)
        peer_main(args.peer, args.start, args.end, args.marker)
        return
    only_loopback()
    print("== call floor: bare aiortc pair vs two CallEngines, 640x480@30 VP8, loopback")
    print(f"   {conditions()}")
    print(f"   {args.runs} run(s) of {args.seconds:.0f} s after {args.warmup:.0f} s warm-up")
    rows: dict[str, list[Result]] = {}
    for run in range(1, args.runs + 1):
        print(f"\n-- run {run}\n{HEAD}")
        results = [
            run_floor(args.warmup, args.seconds),
            run_floor(args.warmup, args.seconds, marker=True),
            run_engines(args.warmup, args.seconds, False),
        ]
        if args.full:
            results.append(run_engines(args.warmup, args.seconds, True))
        for result in results:
            print(result.row() + (f"   ({result.damaged} damaged)" if result.damaged else ""))
            rows.setdefault(result.name, []).append(result)
    print(f"\n-- medians of {args.runs} run(s)\n{HEAD}")
    for name, results in rows.items():
        print(line(name, results))

    def median_of(name: str, pick: str) -> float:
        results = rows[name]
        if pick == "cpu":
            return statistics.median(r.cpu for r in results)
        values = [r.latencies if pick == "p50" else r.sent for r in results]
        return statistics.median(statistics.median(v) for v in values if v)

    floor, engines = "bare aiortc pair", "two CallEngines"

    def ratio(pick: str, base: str = floor) -> str:
        return f"x{median_of(engines, pick) / median_of(base, pick):.2f}"

    print(
        f"\nengines / floor: capture->decoded p50 {ratio('p50')}, "
        f"taken->decoded p50 {ratio('taken')}, CPU {ratio('cpu')}"
    )
    marker = "bare pair + marker"
    print(
        f"engines / (floor + marker release): capture->decoded p50 {ratio('p50', marker)}, "
        f"taken->decoded p50 {ratio('taken', marker)}, CPU {ratio('cpu', marker)}"
    )


if __name__ == "__main__":
    main()
