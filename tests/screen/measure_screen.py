"""Measure screen sharing for docs/CALLS.md ("Screen sharing"): CPU, frames delivered, latency.

Not a test (pytest does not collect it). Starts a private Xvfb at 1920×1080
(24 bits) and runs each variant in a fresh process on it, several times::

    .venv/bin/python -m tests.screen.measure_screen --seconds 20 --runs 3

Variants:

* ``idle``: the app's device thread and a full-screen window, nothing captured (the floor);
* ``share-5``, ``share-10``, ``share-15``: :class:`ScreenCapture` sharing the
  1920×1080 screen at that frame rate (Qt's X11 XShm grabber);
* ``share-10-grabwindow``: the same at 10 fps with ``XDG_SESSION_TYPE`` left
  unset and :func:`prefer_x11_capture` disabled, so Qt falls back to
  ``QScreen.grabWindow`` on its own thread (what a bare X server gets by default);
* ``picker``: the screen picker open, with thumbnails of the screen and four windows.

For each: CPU of the app process and of the X server (both in % of one core,
over ``--seconds`` after 2 s of settling), the device thread's own CPU,
pictures delivered per second, and for the shares the capture latency: a
square on the screen changes colour at random moments; latency is from the
moment the change was flushed to the X server to the ``captured`` time of
the first shared picture showing it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.screen.xserver import Xvfb

VARIANTS = ["idle", "share-5", "share-10", "share-15", "share-10-grabwindow", "picker"]
TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int | str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _thread_cpu(name: str) -> float:
    total = 0.0
    for task in os.listdir("/proc/self/task"):
        try:
            if Path(f"/proc/self/task/{task}/comm").read_text().strip() == name:
                total += _proc_cpu(f"self/task/{task}")
        except OSError:
            continue
    return total


def run_variant(variant: str, seconds: float, xpid: int) -> dict[str, Any]:
    """In this process (on ``$DISPLAY``): set up ``variant``, settle, measure."""
    if variant.endswith("grabwindow"):
        os.environ.pop("XDG_SESSION_TYPE", None)
        from conference_gui.services.media import screen as screen_module

        screen_module.prefer_x11_capture = lambda: False  # type: ignore[assignment]
    from PySide6.QtCore import QEventLoop, QRect, QTimer
    from PySide6.QtGui import QColor, QPainter, QPaintEvent
    from PySide6.QtWidgets import QApplication

    from conference_gui.services.media import THREAD_NAME, MediaDevices
    from conference_gui.services.settings import AppSettings
    from conference_gui.ui.screen_picker import ScreenPicker
    from tests.screen.x11_cases.conftest import Pattern, publish

    app = QApplication.instance() or QApplication([])
    marker = QRect(1700, 900, 120, 120)

    class Desktop(Pattern):
        """A full-screen picture with a square that changes colour when told."""

        def __init__(self) -> None:
            super().__init__("Desktop", QRect(0, 0, 1920, 1080))
            self.colour = QColor(0, 0, 0)

        def paintEvent(self, event: QPaintEvent) -> None:
            super().paintEvent(event)
            p = QPainter(self)
            p.fillRect(marker, self.colour)
            p.end()

    desktop = Desktop()
    desktop.show()
    windows = []
    if variant == "picker":
        for i in range(4):
            w = Pattern(f"Window {i + 1}", QRect(200 + 300 * i, 150 + 100 * i, 640, 400))
            w.show()
            windows.append(w)
    app.processEvents()
    publish([desktop, *windows])

    settings = AppSettings.at(Path(tempfile.mkdtemp()) / "s.ini")
    devices = MediaDevices(settings, fake=True, name="bench")
    devices.device_thread.start()
    picker = None
    fps = float(variant.split("-")[1]) if variant.startswith("share") else 0.0
    if fps:
        devices.screen.set_frame_rate(fps)
        source = devices.screen.primary_source()
        assert source is not None
        devices.screen.start(source)
    elif variant == "picker":
        picker = ScreenPicker(devices.screen)
        picker.show()

    def spin(s: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(round(s * 1000), loop.quit)
        loop.exec()

    spin(2.0)
    # Latency probe: change the square's colour at random moments; note when it was sent.
    changes: list[tuple[float, tuple[int, int, int]]] = []
    found: list[float] = []
    slot = devices.screen_frames

    def change() -> None:
        rgb = (random.randrange(256), random.randrange(256), random.randrange(256))
        desktop.colour = QColor(*rgb)
        desktop.repaint(marker)
        app.sync()  # flushed to the X server
        changes.append((time.monotonic(), rgb))
        QTimer.singleShot(random.randint(250, 450), change)

    def check() -> None:  # the first picture that shows each change
        _, picture = slot.latest()
        if picture is None or not changes or len(found) >= len(changes):
            return
        sent, rgb = changes[len(found)]
        b, g, r = picture.pixels[marker.center().y(), marker.center().x(), :3]
        if (int(r), int(g), int(b)) == rgb and picture.captured >= sent:
            found.append(picture.captured - sent)

    slot.add_listener(check)  # on the device thread, right after the picture is put
    if fps:
        change()
    seq0, grabs0 = slot.seq, devices.screen.thumbnails.grabs
    cpu0, x0, dev0 = _proc_cpu("self"), _proc_cpu(xpid), _thread_cpu(THREAD_NAME)
    t0 = time.monotonic()
    spin(seconds)
    elapsed = time.monotonic() - t0
    out = {
        "variant": variant,
        "app_cpu": 100 * (_proc_cpu("self") - cpu0) / elapsed,
        "x_cpu": 100 * (_proc_cpu(xpid) - x0) / elapsed,
        "device_thread_cpu": 100 * (_thread_cpu(THREAD_NAME) - dev0) / elapsed,
        "fps": (slot.seq - seq0) / elapsed,
        "thumbnails_per_s": (devices.screen.thumbnails.grabs - grabs0) / elapsed,
        "latency_ms": [round(x * 1000, 1) for x in found],
    }
    if picture_size := slot.latest()[1]:
        out["size"] = [picture_size.width, picture_size.height]
    if picker is not None:
        picker.done(0)
    devices.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--xpid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_variant(args.one, args.seconds, args.xpid)))
        return

    server = Xvfb()
    server.start()
    try:
        env = {**os.environ, "DISPLAY": server.display, "QT_QPA_PLATFORM": "xcb"}
        env.pop("XDG_SESSION_TYPE", None)
        results: dict[str, list[dict[str, Any]]] = {}
        for _ in range(args.runs):
            for variant in args.variants.split(","):
                done = subprocess.run(
                    [sys.executable, "-m", "tests.screen.measure_screen", "--one", variant,
                     "--seconds", str(args.seconds), "--xpid", str(server.pid)],
                    env=env, capture_output=True, text=True, timeout=args.seconds + 60,
                )
                if done.returncode != 0:
                    raise SystemExit(f"{variant} failed:\n{done.stdout}\n{done.stderr}")
                line = done.stdout.strip().splitlines()[-1]
                results.setdefault(variant, []).append(json.loads(line))
                print(line, flush=True)
    finally:
        server.stop()

    print("\n| variant | app CPU % | X server CPU % | device thread % | pictures/s "
          "| latency ms p50 / p90 |")
    print("|---|---|---|---|---|---|")
    for variant, runs in results.items():
        def med(key: str, rs: list[dict[str, Any]] = runs) -> float:
            return statistics.median(r[key] for r in rs)

        lat = sorted(x for r in runs for x in r["latency_ms"])
        lat_s = (f"{statistics.median(lat):.0f} / {lat[int(len(lat) * 0.9)]:.0f}" if lat
                 else "—")
        rate = med("fps") if variant.startswith("share") else med("thumbnails_per_s")
        each = ", ".join(f"{r['app_cpu']:.1f}" for r in runs)
        print(f"| {variant} | {med('app_cpu'):.1f} ({each})"
              f" | {med('x_cpu'):.1f} | {med('device_thread_cpu'):.1f} | {rate:.1f} | {lat_s} |")


if __name__ == "__main__":
    main()
