"""Grab the real meeting window to docs/main-window.png (offscreen).

    .venv/bin/python tools/screenshot.py

Starts the real server, shares a few files from a second participant, opens
the host's window and saves what a person would see.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
import requests
from PySide6.QtWidgets import QApplication

from conference_gui.app import create_window
from conference_gui.domain.invite import InviteLink
from conference_gui.server import ServerConfig, ServerThread
from conference_gui.services.settings import AppSettings

ROOT = Path(__file__).resolve().parents[1]


async def shoot(url: str, out: Path) -> None:
    s = requests.post(
        f"{url}/api/sessions", json={"title": "Design review", "name": "Ann"}, timeout=10
    ).json()
    sid = s["session"]["id"]
    bob = requests.post(
        f"{url}/api/sessions/{sid}/join", json={"name": "Bob", "invite": s["invite"]}, timeout=10
    ).json()
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
    settings = Path(tempfile.mkdtemp()) / "settings.ini"  # the default layout, not the user's
    win = create_window(
        url,
        sid,
        s["userId"],
        s["token"],
        title="Design review",
        invite=InviteLink(url, sid, s["invite"]),
        settings=AppSettings.at(settings),
    )
    guest = create_window(
        url, sid, bob["userId"], bob["token"], settings=AppSettings.at(settings.with_suffix(".b"))
    )
    win.resize(1100, 680)
    win.features["participants"].dock.show()
    for _ in range(500):
        if (
            win.socket.is_ready
            and guest.socket.is_ready
            and win.features["resources"].model.rowCount() == 3
        ):
            break
        await asyncio.sleep(0.01)
    await guest.features["participants"].controller.set_hand(True)
    await asyncio.sleep(0.5)
    win.grab().save(str(out))
    for w in (guest, win):
        await w.shutdown()
        w.close()


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "main-window.png"
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerThread(ServerConfig(port=0, data_dir=Path(tmp)))
        url = srv.start()
        try:
            qasync.run(shoot(url, out))
        finally:
            srv.stop()
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
