"""One meeting window in a call, in its own process, instrumented; and the helpers
the call benches use to run several of them (and the bare aiortc floor) at once.

Not a bench itself: ``bench_call_latency``, ``bench_call_join``, ``bench_call_gui``,
``bench_call_memory`` and ``bench_call_mesh`` run it. Every process of a call
bench must run inside a network namespace with only ``lo`` (see those scripts).

The window is the app's, unchanged: ``create_window(..., fake_media=True)`` on a
qasync loop, offscreen, 1280×720, fresh settings (microphone and camera on).
Instrumentation, none of which changes what the app does:

* **stamp** (``--stamp``): the window's fake camera slot stamps each picture's
  capture time (``captured``, ``time.monotonic()`` µs) as 32 black/white
  20 px blocks, twice, across its middle rows (a filled tile cuts off the top
  and bottom), before the engine and the self-view see
  it (``bench.call_floor.stamp``). The stamp travels through VP8 like any
  picture content.
* **paint probe**: an event filter on every remote tile runs the tile's own
  ``paintEvent`` and then notes ``time.monotonic()``; when the paint showed a
  new picture, it keeps the middle rows of the picture the tile painted
  (``VideoTile._pixels``: the engine's BGRA picture at the tile's size) and
  reads the stamp back after the run. So *painted* is the end of the tile's
  paint into the window's backing store (offscreen, there is no screen flush
  after it).
* **join**: the time of the first ``joined`` (join ack) of the window's socket,
  and of the first paint of a remote picture.
* **CPU**: ``time.process_time()`` (every thread of the process) over the
  measured span, and per thread name from ``/proc/self/task``.
* **frame gaps** (``--gaps``): a 16 ms precise ``QTimer`` on the GUI thread;
  the gaps between its ticks are how long the GUI thread was unavailable.
* **RSS** (``--rss-every S``): ``VmRSS`` every S seconds.
* **garbage collections**: every collection of Python's cyclic collector in
  the measured span, with its generation, duration and thread (``gc.callbacks``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import PYTHON, RESULT, ROOT, Member, create_meeting, join_meeting, report

# --------------------------------------------------------------------------- the child


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtCore import QEvent, QObject

    from bench._gui import FrameTicker, Gui
    from bench.call_floor import (
        cpu_between,
        latency_of,
        name_python_threads,
        stamp,
        stamp_value,
        strip_rows,
        thread_cpu,
        thread_waits,
    )
    from conference_gui.app import create_window
    from conference_gui.media.exchange import VideoImage
    from conference_gui.services.settings import AppSettings

    start, end = args.start, args.end
    if args.switch_interval is not None:  # an experiment, not what the app does
        sys.setswitchinterval(args.switch_interval / 1000)
    if args.offload:
        offload_conversion()
    gui = Gui()
    settings = AppSettings.at(gui.tmp / "settings.ini")
    win = create_window(
        args.url, args.session, args.user, args.token, title="Bench", settings=settings,
        download_dir=gui.tmp / "downloads", fake_media=True,
    )  # fmt: skip
    gui.windows.append(win)
    win.resize(args.width, args.height)
    call = win.features["call"]
    me = win.meeting.user_id
    joined: list[float] = []
    win.socket.joined.connect(lambda *_: joined.append(time.monotonic()))

    if args.stamp:
        slot = call.devices.camera_frames
        plain_put = slot.put

        def stamped_put(image: VideoImage | None) -> int:
            if image is not None:
                stamp(image.pixels, stamp_value(image.captured))
            return plain_put(image)

        slot.put = stamped_put

    paints: dict[str, list[tuple[float, Any]]] = {}
    firsts: dict[str, float] = {}
    new_pictures: dict[str, int] = {}

    class PaintProbe(QObject):
        def __init__(self, tile: Any) -> None:
            super().__init__(tile)
            self.pid = str(tile.property("participantId"))
            self.last = -1
            tile.installEventFilter(self)

        def eventFilter(self, watched: Any, event: QEvent) -> bool:
            if event.type() != QEvent.Type.Paint:
                return False
            watched.paintEvent(event)  # the tile's own paint, unchanged
            now = time.monotonic()
            seq, pixels = watched._shown_seq, watched._pixels
            if seq != self.last and pixels is not None:
                self.last = seq
                firsts.setdefault(self.pid, now)
                if start <= now <= end:
                    new_pictures[self.pid] = new_pictures.get(self.pid, 0) + 1
                    # The engine stamps a received picture's ``captured`` with the time
                    # aiortc's decoder handed it over: splits the latency in two.
                    slot_seq, image = watched._slot.latest()
                    decoded = image.captured if slot_seq == seq and image is not None else None
                    if args.stamp_read:
                        rows = strip_rows(pixels.shape[1], pixels.shape[0])
                        paints.setdefault(self.pid, []).append(
                            (now, decoded, np.ascontiguousarray(pixels[rows, :, 1]))
                        )
            return True

    probed: set[int] = set()

    def probe_tiles() -> None:
        for tile in call.grid.tiles():
            if id(tile) not in probed and not tile.property("isSelf"):
                probed.add(id(tile))
                PaintProbe(tile)

    # Python's cyclic garbage collector: every collection's generation, duration and
    # thread (it runs in whichever thread allocates when a threshold is reached).
    import gc

    collections: list[tuple[str, int, float]] = []
    gc_started: dict[int, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        tid = threading.get_ident()
        if phase == "start":
            gc_started[tid] = time.perf_counter()
            return
        began = gc_started.pop(tid, None)
        if began is not None and start <= time.monotonic() <= end:
            name = threading.current_thread().name
            collections.append((name, info["generation"], time.perf_counter() - began))

    gc.callbacks.append(on_gc)

    ticker = FrameTicker() if args.gaps else None
    rss: list[tuple[float, int]] = []

    def rss_now() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    async def run() -> dict[str, Any]:
        next_rss = start
        while time.monotonic() < start:
            probe_tiles()
            await asyncio.sleep(0.05)
        name_python_threads()
        cpu0, threads0, t0 = time.process_time(), thread_cpu(), time.monotonic()
        waits0 = thread_waits()
        if ticker is not None:
            ticker.start()
        while time.monotonic() < end:
            probe_tiles()
            if args.rss_every and time.monotonic() >= next_rss:
                rss.append((time.monotonic(), rss_now()))
                next_rss += args.rss_every
            await asyncio.sleep(0.05)
        if ticker is not None:
            ticker.stop()
        name_python_threads()
        cpu1, threads1, t1 = time.process_time(), thread_cpu(), time.monotonic()
        waits1 = thread_waits()
        remote_tiles = [t for t in call.grid.tiles() if not t.property("isSelf")]
        return {
            "name": args.name,
            "pid": me,
            "cpu": (cpu1 - cpu0) / (t1 - t0),
            "threads": cpu_between(threads0, threads1, t1 - t0),
            "waits": cpu_between(waits0, waits1, t1 - t0),
            "joined": joined[0] if joined else None,
            "first_painted": firsts,
            "pictures": new_pictures,
            "tiles": len(remote_tiles),
            "seconds": t1 - t0,
            "gaps": ticker.gaps() if ticker is not None else [],
            "rss": rss,
            "gc": collections,
        }

    result = gui.run(run(), timeout=end - time.monotonic() + 120)
    gc.callbacks.remove(on_gc)
    latencies: dict[str, list[float]] = {}
    to_decoded: list[float] = []  # capture → out of aiortc's decoder
    to_painted: list[float] = []  # out of the decoder → painted (convert, hand over, paint)
    damaged = 0
    for pid, rows in paints.items():
        for now, decoded, gray in rows:
            latency = latency_of(gray, now)
            if latency is None:
                damaged += 1
                continue
            latencies.setdefault(pid, []).append(latency)
            if decoded is not None:
                to_decoded.append(latency - (now - decoded))
                to_painted.append(now - decoded)
    result["latencies"] = latencies
    result["split"] = {"to_decoded": to_decoded, "to_painted": to_painted}
    result["damaged"] = damaged
    gui.close()
    report(result)


def offload_conversion() -> None:
    """An experiment, not what the app does: the engine converts each camera picture
    BGRA → YUV (``media.tracks.frame_from_image``) in its codec executor instead of
    on its loop. The track's own code runs unchanged; only the conversion moves."""
    from conference_gui.media import tracks

    real = tracks.frame_from_image

    class Deferred:
        # The track's scratch frame is left out: the executor's threads would share it.
        def __init__(self, image: Any, pts: int, scratch: Any = None) -> None:
            self.image, self.pts = image, pts

    plain_recv = tracks.PictureTrack.recv

    async def recv(self: Any) -> Any:
        out = await plain_recv(self)
        if isinstance(out, Deferred):
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, real, out.image, out.pts)
        return out

    tracks.frame_from_image = Deferred  # type: ignore[assignment]
    tracks.PictureTrack.recv = recv  # type: ignore[method-assign]


# --------------------------------------------------------------------------- the parent side


def only_loopback() -> None:
    from bench.call_floor import only_loopback as check

    check()


@dataclass
class Proc:
    """A child process of a call bench, its stdout read on a thread."""

    name: str
    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._ready = threading.Condition()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            line = line.rstrip("\n")
            if line.startswith(RESULT):
                self.result = json.loads(line.removeprefix(RESULT))
            else:
                self.lines.append(line)

    def wait_line(self, prefix: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if line.startswith(prefix):
                    self.lines.remove(line)
                    return line
            if self.popen.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.01)
        raise RuntimeError(f"{self.name}: no {prefix!r} line (exit {self.popen.poll()})")

    def send(self, line: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def finish(self, timeout: float) -> dict[str, Any]:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise RuntimeError(f"{self.name} did not finish") from None
        self._reader.join(10)
        if self.result is None:
            raise RuntimeError(f"{self.name} gave no result (exit {self.popen.returncode})")
        return self.result

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


def _spawn(name: str, module: str, args: Sequence[str], stdin: bool = False) -> Proc:
    popen = subprocess.Popen(
        [PYTHON, "-m", module, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    return Proc(name, popen)


class CallServer:
    """The reference server on its own thread (as tests/conftest.py runs it) and meetings."""

    def __init__(self) -> None:
        from conference_gui.server import ServerConfig, ServerThread

        self.tmp = Path(tempfile.mkdtemp(prefix="bench-call-"))
        self.thread = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=self.tmp))
        self.url = self.thread.start()

    def meeting(self, people: int) -> list[Member]:
        host, invite = create_meeting(self.url, "Call bench", "P0")
        return [host] + [
            join_meeting(self.url, host.session_id, invite, f"P{i}") for i in range(1, people)
        ]

    def close(self) -> None:
        import shutil

        self.thread.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def call_server() -> Iterator[CallServer]:
    server = CallServer()
    try:
        yield server
    finally:
        server.close()


def spawn_window(
    url: str, member: Member, start: float, end: float, *, stamp: bool = True,
    stamp_read: bool = True, gaps: bool = False, rss_every: float = 0.0,
    switch_interval: float | None = None, offload: bool = False,
) -> Proc:  # fmt: skip
    args = [
        "--url", url, "--session", member.session_id, "--user", member.user_id,
        "--token", member.token, "--name", member.name, "--start", repr(start),
        "--end", repr(end), "--rss-every", repr(rss_every),
    ]  # fmt: skip
    if stamp:
        args.append("--stamp")
    if stamp_read:
        args.append("--stamp-read")
    if gaps:
        args.append("--gaps")
    if switch_interval is not None:
        args += ["--switch-interval", repr(switch_interval)]
    if offload:
        args.append("--offload")
    return _spawn(member.name, "bench.bench_call_window", args)


def floor_pair(start: float, end: float, marker: bool = False) -> list[Proc]:
    """Two bare aiortc peers (``bench.call_floor --peer``), their SDP relayed here."""
    times = ["--start", repr(start), "--end", repr(end), *(["--marker"] if marker else [])]
    offer = _spawn("floor-offer", "bench.call_floor", ["--peer", "offer", *times], stdin=True)
    answer = _spawn("floor-answer", "bench.call_floor", ["--peer", "answer", *times], stdin=True)
    try:
        answer.send(offer.wait_line("sdp ").removeprefix("sdp "))
        offer.send(answer.wait_line("sdp ").removeprefix("sdp "))
    except BaseException:
        offer.kill()
        answer.kill()
        raise
    return [offer, answer]


def finish_all(procs: Sequence[Proc], end: float) -> list[dict[str, Any]]:
    try:
        return [p.finish(max(5.0, end - time.monotonic()) + 90) for p in procs]
    finally:
        for p in procs:
            p.kill()


def gc_summary(results: Sequence[dict[str, Any]]) -> str:
    """Garbage collections of the windows' processes: on the GUI thread and elsewhere."""
    gui = [(g, d) for r in results for name, g, d in r.get("gc", []) if name == "MainThread"]
    other = [d for r in results for name, _g, d in r.get("gc", []) if name != "MainThread"]
    full = [d for g, d in gui if g == 2]
    seconds = sum(r["seconds"] for r in results) or 1.0
    others = [
        (d, name, g) for r in results for name, g, d in r.get("gc", []) if name != "MainThread"
    ]
    worst = max(others, default=None)
    where = f" ({worst[1]}, gen {worst[2]})" if worst else ""
    gui_ms = sum(d for _, d in gui) / seconds * 1000
    gui_max = max((d for _, d in gui), default=0) * 1000
    return (
        f"GC on the GUI thread: {len(gui)} collections, {gui_ms:.1f} ms/s, full (gen 2) "
        f"{len(full)}, longest {gui_max:.1f} ms; on other threads {len(other)}, "
        f"{sum(other) / seconds * 1000:.1f} ms/s, longest {max(other, default=0) * 1000:.1f} ms"
        f"{where}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="one instrumented meeting window (call benches)")
    for name in ("--url", "--session", "--user", "--token", "--name"):
        p.add_argument(name, required=True)
    p.add_argument("--start", type=float, required=True, help="monotonic time to start measuring")
    p.add_argument("--end", type=float, required=True, help="monotonic time to stop")
    p.add_argument("--stamp", action="store_true", help="stamp my camera's pictures")
    p.add_argument("--stamp-read", action="store_true", help="read stamps of painted pictures")
    p.add_argument("--gaps", action="store_true", help="16 ms GUI ticker")
    p.add_argument("--rss-every", type=float, default=0.0)
    p.add_argument("--switch-interval", type=float, help="sys.setswitchinterval, ms (A/B only)")
    p.add_argument("--offload", action="store_true", help="BGRA → YUV off the engine loop (A/B)")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    args = p.parse_args(argv)
    only_loopback()
    child(args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
