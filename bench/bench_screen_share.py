"""Screen share of a 1920×1080 screen, end to end: CPU, pictures delivered, latency.

    unshare -n sh -c 'ip link set lo up; Xvfb :90 -screen 0 1920x1080x24 -nolisten tcp &
      sleep 1; DISPLAY=:90 QT_QPA_PLATFORM=xcb .venv/bin/python -m bench.bench_screen_share'
        [--seconds 20] [--runs 3]

As root, in a network namespace with only ``lo``, on an X server (Xvfb).
Ann shares the whole 1920×1080 screen (the app's default, 10 pictures a
second, resolution kept) with Bob over a real call (two windows in this
process, the reference server in a thread, cameras off so the share is what
is measured). On the screen, a "flip" window turns a large block from black
to white (or back) every 700 ms; the latency is from the moment the flip was
flushed to the X server to the moment Bob's engine decoded the first shared
picture showing it (``captured`` of the received picture; the tile paints it
within a few ms, see the Calls section). Pictures delivered per second are
counted on Bob's screen tile; CPU is this process's (both windows: the
sender's capture + encode and the receiver's decode + paint).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import qasync
import requests
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QWidget

from bench._common import conditions, header, percentile, until
from conference_gui.app import create_window
from conference_gui.server import ServerConfig, ServerThread
from conference_gui.services.settings import AppSettings

FLIP_RECT = QRect(100, 100, 400, 300)  # on the 1920×1080 screen
FLIP_EVERY = 0.7


class Flip(QWidget):
    """A frameless window whose block turns white or black on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint)
        self.setGeometry(FLIP_RECT)
        self.white = False

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("white") if self.white else QColor("black"))
        p.end()


async def one_run(url: str, folder: Path, seconds: float) -> dict[str, float]:
    s = requests.post(f"{url}/api/sessions", json={"title": "Share", "name": "Ann"},
                      timeout=10).json()
    sid = s["session"]["id"]
    b = requests.post(f"{url}/api/sessions/{sid}/join",
                      json={"name": "Bob", "invite": s["invite"]}, timeout=10).json()
    wins = []
    for i, p in enumerate((s, b)):
        settings = AppSettings.at(folder / f"{time.monotonic_ns()}-{i}.ini")
        settings.set_camera_on_at_join(False)
        wins.append(create_window(url, sid, p["userId"], p["token"], title="Share",
                                  settings=settings, fake_media=True))
    ann, bob = wins
    ann.setGeometry(QRect(1000, 0, 900, 500))
    bob.setGeometry(QRect(1000, 540, 900, 520))
    flip = Flip()
    flip.show()
    a = ann.meeting.user_id
    try:
        call = ann.features["call"]
        await until(lambda: call.controller._peer_states.get(b["userId"]) == "connected")
        source = call.devices.screen.primary_source()
        assert source is not None
        call.share(source)
        grid = bob.features["call"].grid
        await until(lambda: grid.tile(a, "screen") is not None
                    and grid.tile(a, "screen").property("framesRendered") > 5)
        slot = bob.features["call"].controller.remote_slot(a, "screen")
        tile = grid.tile(a, "screen")
        await asyncio.sleep(2.0)  # settle

        flips: list[tuple[float, bool]] = []
        seen: list[tuple[float, bool]] = []  # (decoded at, white) for each new picture
        last_seq = slot.seq
        cpu0, t0, painted0 = time.process_time(), time.monotonic(), tile.property(
            "framesRendered")
        next_flip = t0
        while time.monotonic() - t0 < seconds:
            now = time.monotonic()
            if now >= next_flip:
                flip.white = not flip.white
                flip.repaint()
                QGuiApplication.sync()  # flushed to the X server
                flips.append((time.monotonic(), flip.white))
                next_flip = now + FLIP_EVERY
            seq, picture = slot.latest()
            if seq != last_seq and picture is not None:
                last_seq = seq
                h, w = picture.height, picture.width
                # the flip block's centre, in the received (scaled) picture
                y = int((FLIP_RECT.center().y()) * h / 1080)
                x = int((FLIP_RECT.center().x()) * w / 1920)
                luma = float(np.mean(picture.pixels[y - 2:y + 3, x - 2:x + 3, :3]))
                seen.append((picture.captured, luma > 128))
            await asyncio.sleep(0.005)
        cpu = (time.process_time() - cpu0) / (time.monotonic() - t0)
        painted = tile.property("framesRendered") - painted0
        latencies = []
        for at, white in flips[1:]:
            after = [t for t, w in seen if t >= at and w == white]
            if after:
                latencies.append((after[0] - at) * 1000)
        call.stop_sharing()
        return {
            "fps": painted / seconds,
            "cpu": cpu,
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p90": percentile(latencies, 90) if latencies else float("nan"),
            "worst": max(latencies) if latencies else float("nan"),
            "flips": len(flips) - 1,
            "seen": len(latencies),
        }
    finally:
        flip.close()
        for w in wins:
            await w.shutdown()
            w.close()


async def main_async(args: argparse.Namespace, url: str) -> list[dict[str, float]]:
    folder = Path(tempfile.mkdtemp())
    results = []
    for run in range(args.runs):
        r = await one_run(url, folder, args.seconds)
        print(f"  run {run + 1}: {r['fps']:.1f} pictures/s at Bob, CPU {r['cpu']:.2f} s/s, "
              f"latency p50 {r['p50']:.0f} ms p90 {r['p90']:.0f} ms worst {r['worst']:.0f} ms "
              f"({r['seen']}/{r['flips']} flips seen) · {conditions()}", flush=True)
        results.append(r)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    if QGuiApplication.platformName() != "xcb":
        print("needs an X server: DISPLAY=… QT_QPA_PLATFORM=xcb (see the docstring)")
        return 2
    app.setQuitOnLastWindowClosed(False)
    header("screen share, 1920×1080 at 10 pictures/s, end to end")
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerThread(ServerConfig(port=0, data_dir=Path(tmp)))
        url = srv.start()
        try:
            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                results = loop.run_until_complete(main_async(args, url))
        finally:
            srv.stop()
    med = {k: statistics.median(r[k] for r in results) for k in ("fps", "cpu", "p50", "p90",
                                                                  "worst")}
    print(f"median of {len(results)} runs: {med['fps']:.1f} pictures/s delivered, "
          f"CPU {med['cpu']:.2f} s/s (both windows), latency p50 {med['p50']:.0f} ms, "
          f"p90 {med['p90']:.0f} ms, worst {med['worst']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
