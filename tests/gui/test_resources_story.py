"""The mission's user story, with real windows against the real server.

Two people are in a meeting. One shares files: both docks and both badges show
them at once, whether the dock is open or not. The other deletes one: both
show it. A late joiner's badge is right before they ever open the dock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QListView, QToolButton

from conference_gui.server import ServerThread
from tests.conftest import Loop, Meeting, until


def badge(win: Any) -> int:
    button = win.findChild(QToolButton, "resourcesButton")
    assert button is not None
    return int(button.property("badgeCount"))


def listed_names(win: Any) -> list[str]:
    view = win.findChild(QListView, "resourceList")
    model = view.model()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def connected(*wins: Any) -> bool:
    return all(w.socket.is_ready for w in wins)


def make_files(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in names:
        p = folder / n
        p.write_bytes(f"contents of {n}\n".encode() * 10)
        paths.append(p)
    return paths


def test_upload_in_one_window_shows_in_both_docks_and_badges(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))
    bob.features["resources"].dock.hide()  # Bob's dock is closed: his badge must still follow

    async def story() -> None:
        await until(lambda: connected(ann, bob), what="both windows connected")
        assert badge(ann) == badge(bob) == 0
        files = make_files(tmp_path / "ann", "agenda.pdf", "notes.txt", "photo.png")
        ann.features["resources"].dock.upload(files)
        await until(lambda: badge(ann) == 3 and badge(bob) == 3, what="badges at 3")
        assert (
            sorted(listed_names(ann)) == sorted(listed_names(bob)) == sorted(f.name for f in files)
        )

        fetches = bob.features["resources"].controller.fetch_count
        bob.features["resources"].dock.show()  # reopening needs no refetch to be right
        assert bob.features["resources"].controller.fetch_count == fetches
        assert sorted(listed_names(bob)) == sorted(f.name for f in files)

        # Bob deletes Ann's file? Not allowed. Ann deletes one of hers.
        rid = ann.features["resources"].model.ledger[0].id
        assert await ann.features["resources"].controller.delete(rid)
        await until(lambda: badge(ann) == 2 and badge(bob) == 2, what="badges at 2")
        assert listed_names(ann) == listed_names(bob)

    aloop.run(story())


def test_late_joiner_badge_is_right_before_opening_the_dock(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    for i in range(2):
        meeting.upload(meeting.host, f"early-{i}.txt", b"x" * (i + 1))
    carol = windows(meeting, meeting.join("Carol"))
    carol.features["resources"].dock.hide()

    async def story() -> None:
        await until(lambda: badge(carol) == 2, what="late joiner's badge at 2")
        assert not carol.features["resources"].dock.isVisible()
        assert sorted(listed_names(carol)) == ["early-0.txt", "early-1.txt"]

    aloop.run(story())


def test_one_connection_per_window_also_after_a_forced_reconnect(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))

    async def story() -> None:
        await until(lambda: connected(ann, bob))
        assert server.connection_count(meeting.session_id) == 2
        old_sid = ann.socket.sid
        server.disconnect_all(meeting.session_id)
        # While they are away a file is shared: both must converge after reconnecting.
        meeting.upload(meeting.host, "while-away.txt", b"hello")
        await until(lambda: connected(ann, bob) and ann.socket.sid != old_sid, what="reconnected")
        await until(lambda: badge(ann) == 1 and badge(bob) == 1, what="resynced after reconnect")
        assert server.connection_count(meeting.session_id) == 2

    aloop.run(story())
