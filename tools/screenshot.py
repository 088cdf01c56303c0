"""Grab the real meeting windows, in a real call, to the pictures in docs/.

    unshare -n sh -c 'ip link set lo up; .venv/bin/python tools/screenshot.py'

(as root: the call's media stay on loopback in a network namespace of their
own). Run with ``QT_QPA_PLATFORM=xcb`` and ``DISPLAY`` on an X server (e.g.
``Xvfb :77 -screen 0 1920x1080x24``) to also grab a shared screen; offscreen
(the default) grabs the rest.

Starts the real server, three people with the fake devices (SPEC §3) join
Ann's meeting, Bob shares files, and the tool saves what Ann sees:
docs/main-window.png (the call in grid view, the Resources dock, the badge),
docs/speaker-view.png (Bob speaking, large), docs/resources-badge.png (the
Resources badge when Bob shares a file while Ann's dock is closed: every file
counted, a separate dot for the new one), and docs/screen-share.png (Bob's
view of Ann's shared screen) when an X server is there.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
import requests
from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from conference_gui.app import create_window
from conference_gui.domain.invite import InviteLink
from conference_gui.server import ServerConfig, ServerThread
from conference_gui.services.settings import AppSettings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


async def until(predicate: Any, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(str(predicate))
        await asyncio.sleep(0.05)


def frames(win: Any, pid: str, source: str = "camera") -> int:
    tile = win.features["call"].grid.tile(pid, source)
    return int(tile.property("framesRendered")) if tile is not None else 0


async def shoot(url: str, out: Path) -> None:
    s = requests.post(
        f"{url}/api/sessions", json={"title": "Design review", "name": "Ann"}, timeout=10
    ).json()
    sid = s["session"]["id"]
    people = [s]
    for name in ("Bob", "Carol"):
        people.append(requests.post(
            f"{url}/api/sessions/{sid}/join", json={"name": name, "invite": s["invite"]},
            timeout=10,
        ).json())
    bob = people[1]
    for name, size, who in [
        ("Q3 roadmap.pdf", 184_000, bob),
        ("whiteboard.png", 1_250_000, s),
        ("meeting-notes.md", 4_200, bob),
    ]:
        requests.post(
            f"{url}/api/sessions/{sid}/resources",
            files={"file": (name, b"x" * size)},
            headers={"Authorization": f"Bearer {who['token']}"},
            timeout=10,
        ).raise_for_status()
    folder = Path(tempfile.mkdtemp())  # the default layout, not the user's
    wins = []
    for i, p in enumerate(people):
        wins.append(create_window(
            url, sid, p["userId"], p["token"], title="Design review",
            invite=InviteLink(url, sid, s["invite"]) if i == 0 else None,
            settings=AppSettings.at(folder / f"{i}.ini"), fake_media=True,
        ))
    ann, bob_win, carol = wins
    ann.setGeometry(QRect(0, 0, 1180, 720))
    bob_win.setGeometry(QRect(0, 0, 1180, 720))
    ids = [w.meeting.user_id for w in wins]
    await until(lambda: all(frames(ann, pid) > 10 for pid in ids))
    await until(lambda: ann.features["resources"].model.rowCount() == 3)
    for w in (ann, carol):  # quiet: Bob speaks
        w.features["call"].devices.tone.set_sounding(False)
    await carol.features["participants"].controller.set_hand(True)
    await asyncio.sleep(4.0)  # Bob has spoken long enough; the others have been quiet
    ann.grab().save(str(out / "main-window.png"))

    ann.features["call"].speaker_view_action.setChecked(True)
    await asyncio.sleep(0.8)
    ann.grab().save(str(out / "speaker-view.png"))
    ann.features["call"].speaker_view_action.setChecked(False)

    # The badge while the Resources dock is out of sight: all files counted, one new.
    resources = ann.features["resources"]
    resources.button.click()  # Ann closes the Resources dock
    await until(lambda: not resources.dock.isVisible())
    await asyncio.to_thread(
        requests.post, f"{url}/api/sessions/{sid}/resources",
        files={"file": ("agenda.txt", b"x" * 2_100)},
        headers={"Authorization": f"Bearer {bob['token']}"}, timeout=10,
    )
    await until(lambda: resources.button.property("badgeNew") == 1)
    await asyncio.sleep(0.5)
    bar = ann.control_bar
    corner = bar.mapTo(ann, bar.rect().topLeft())
    ann.grab(QRect(corner.x(), corner.y() - 70, 560, bar.height() + 70)).save(
        str(out / "resources-badge.png"))
    resources.button.click()

    if QGuiApplication.platformName() == "xcb":
        call = ann.features["call"]
        source = call.devices.screen.primary_source()
        if source is not None:
            ann.setGeometry(QRect(40, 40, 1180, 720))
            bob_win.setGeometry(QRect(700, 300, 1180, 720))
            call.share(source)
            await until(lambda: frames(bob_win, ids[0], "screen") > 10, timeout=90)
            await asyncio.sleep(1.0)
            bob_win.grab().save(str(out / "screen-share.png"))
            call.stop_sharing()
    for w in wins:
        await w.shutdown()
        w.close()


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerThread(ServerConfig(port=0, data_dir=Path(tmp)))
        url = srv.start()
        try:
            qasync.run(shoot(url, out))
        finally:
            srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
