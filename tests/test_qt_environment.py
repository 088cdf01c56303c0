"""Qt as the app sets it up: painting a call's pictures wakes no helper threads.

Each case is a fresh interpreter, because Qt reads its environment once per
process, when the first paint needs its thread pool.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conference_gui.services.qt_environment import QT_ENVIRONMENT, prepare_qt_environment

# Draws your camera's self-view as a tile does (a smooth, mirrored scale of a 640x480
# picture) and the fake camera's gradient, then says how many of Qt's pool threads
# exist and how many context switches the process made while drawing.
PAINT = """
import json, os, sys
from datetime import datetime
if sys.argv[1] == "app":
    from conference_gui.services.qt_environment import prepare_qt_environment
    prepare_qt_environment()
from PySide6.QtCore import QRectF
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from conference_gui.services.media.fake_camera import draw_fake_frame
from conference_gui.ui.video_tile import draw_scaled

def switches():
    total = 0
    for tid in os.listdir("/proc/self/task"):
        for line in open(f"/proc/self/task/{tid}/status"):
            if "ctxt_switches" in line:
                total += int(line.split()[1])
    return total

app = QGuiApplication([])
picture = draw_fake_frame("Ann", 1.0, datetime.now())
window = QImage(1280, 720, QImage.Format.Format_RGB32)
before = switches()
for _ in range(20):
    p = QPainter(window)
    draw_scaled(p, picture, QRectF(0, 60, 640, 360), QRectF(10, 10, 532, 299), mirror=True)
    p.end()
    draw_fake_frame("Ann", 1.0, datetime.now())
after = switches()
pooled = [t for t in os.listdir("/proc/self/task")
          if open(f"/proc/self/task/{t}/comm").read().strip() == "Thread (pooled)"]
print(json.dumps({"pool_threads": len(pooled), "switches": after - before}))
"""


def _paint(mode: str) -> dict[str, int]:
    env = {k: v for k, v in os.environ.items() if k not in QT_ENVIRONMENT}
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = subprocess.run(
        [sys.executable, "-c", PAINT, mode], env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    result: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_the_apps_paints_wake_no_helper_threads_where_qts_default_does() -> None:
    """Ann's self-view and fake camera are painted on their own threads only: Qt's
    default would split each paint across its pool and wait for it (the control)."""
    default = _paint("qt-default")
    assert default["pool_threads"] >= 1, default  # the check can fail: Qt's default pools
    assert default["switches"] >= 20, default
    app = _paint("app")
    assert app["pool_threads"] == 0, app
    assert app["switches"] < default["switches"] / 4, (app, default)


def test_a_setting_already_in_the_environment_is_kept() -> None:
    """Someone measuring with their own value keeps it; an empty environment gets the app's."""
    mine = {"QT_NO_GUI_THREADPOOL": "mine"}
    prepare_qt_environment(mine)
    assert mine == {"QT_NO_GUI_THREADPOOL": "mine"}
    fresh: dict[str, str] = {}
    prepare_qt_environment(fresh)
    assert fresh == QT_ENVIRONMENT
