"""Grab the Participants, Chat and Polls docks of a real window to docs/*.png (offscreen).

    .venv/bin/python tools/meeting_screenshots.py

Starts the real server, opens four meeting windows (Ann hosts; Bob, Carol and
Dave join), lets them raise hands, chat and vote over their own sockets, then
saves Ann's docks as ``docs/participants.png``, ``docs/chat.png`` and
``docs/polls.png``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
import requests
from PySide6.QtWidgets import QApplication

from conference_gui.app import create_window
from conference_gui.models.chat_model import ChatRole
from conference_gui.models.polls_model import PollRole
from conference_gui.server import ServerConfig, ServerThread
from conference_gui.services.settings import AppSettings

ROOT = Path(__file__).resolve().parents[1]


async def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(str(predicate))
        await asyncio.sleep(0.01)


async def shoot(url: str, tmp: Path, out: Path) -> None:
    made = requests.post(
        f"{url}/api/sessions", json={"title": "Design review", "name": "Ann Lee"}, timeout=10
    ).json()
    sid = made["session"]["id"]
    creds: list[dict[str, Any]] = [made]
    for name in ("Bob Stone", "Carol Díaz", "Dave O'Brien"):
        creds.append(
            requests.post(
                f"{url}/api/sessions/{sid}/join",
                json={"name": name, "invite": made["invite"]},
                timeout=10,
            ).json()
        )
    wins = [
        create_window(
            url,
            sid,
            c["userId"],
            c["token"],
            title="Design review",
            settings=AppSettings.at(tmp / f"settings-{i}.ini"),
        )
        for i, c in enumerate(creds)
    ]
    ann, bob, carol, dave = wins
    await until(lambda: all(w.socket.is_ready for w in wins))
    await until(lambda: all(w.features["participants"].model.rowCount() == 4 for w in wins))

    # Hands: Dave first, then Bob.
    dave.features["participants"].raise_hand_action.trigger()
    await asyncio.sleep(1.1)
    bob.features["participants"].raise_hand_action.trigger()

    # Chat.
    lines = [
        (bob, "Morning all! The agenda is in Resources."),
        (ann, "Thanks, Bob. Let's start with the roadmap and keep it to 20 minutes."),
        (
            carol,
            "<b>Heads-up</b>: the nightly build is red again & I'm on it — <i>not</i> bold, "
            "just literal text.",
        ),
        (
            dave,
            "Question for later: do we still ship the Windows installer in Q3, or does "
            "that move to Q4 with the packaging work? I'd like to plan the testing.",
        ),
        (ann, "Good point, noted.\nLet's take it after the demo."),
    ]
    chat = ann.features["chat"].model
    for n, (win, text) in enumerate(lines, 1):
        win.features["chat"].controller.send(text)
        await until(
            lambda n=n: chat.rowCount() == n and chat.index(n - 1).data(ChatRole.STATE) == "sent"
        )
    # One of Ann's messages did not get through (what a dropped connection looks like).
    history = ann.features["chat"].controller.history
    key = history.add_pending(history[1].sender, "Can someone share the slides again?")
    history.fail(key, "Not connected to the meeting.")

    # Polls: Bob's, closed by the host; Ann's, open, with votes.
    pb = await bob.features["polls"].controller.create("Move the stand-up to 9:30?", ["Yes", "No"])
    assert pb is not None
    for w, option in ((bob, 0), (ann, 0), (dave, 1)):
        await w.features["polls"].controller.vote(pb.id, option)
    await ann.features["polls"].controller.close(pb.id)
    pa = await ann.features["polls"].controller.create(
        "Where do we have lunch on Friday?", ["Pizza place", "Sushi bar", "Salad & soup"]
    )
    assert pa is not None
    for w, option in ((bob, 0), (carol, 1), (dave, 0)):
        await w.features["polls"].controller.vote(pa.id, option)
    await until(lambda: ann.features["polls"].model.index(0).data(PollRole.TOTAL_VOTES) == 3)

    ann.resize(1300, 900)
    ann.features["resources"].dock.hide()
    for name in ("participants", "chat", "polls"):
        ann.features[name].dock.show()
    await asyncio.sleep(0.3)
    for name, size in (("participants", (340, 300)), ("chat", (380, 560)), ("polls", (380, 560))):
        dock = ann.features[name].dock
        dock.setFloating(True)
        dock.resize(*size)
        await asyncio.sleep(0.2)
        dock.grab().save(str(out / f"{name}.png"))
        dock.setFloating(False)
    for w in wins:
        await w.shutdown()
        w.close()


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=Path(tmp) / "data"))
        server.start()
        try:
            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                loop.run_until_complete(shoot(server.url, Path(tmp), ROOT / "docs"))
        finally:
            server.stop()
    print("saved docs/participants.png, docs/chat.png, docs/polls.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
