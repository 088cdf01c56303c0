"""Faults: a server that restarts, a connection that drops, events that go missing.

Real server processes (killed in teardown) and real meeting windows; what is
checked is what a participant sees — the dock's rows and the badge — against
the server's own list.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from conference_gui.server import ServerThread
from tests.conftest import Loop, Meeting, until

from .conftest import Hooks, ServerProcess, figure
from .support import badge, converged, no_duplicates, server_state, status_text, view_ids


def _upload(meeting: Meeting, who: Any, name: str) -> dict[str, Any]:
    return meeting.upload(who, name, f"bytes of {name}".encode())


def _delete(meeting: Meeting, who: Any, rid: str) -> None:
    r = requests.delete(
        f"{meeting.url}/api/sessions/{meeting.session_id}/resources/{rid}",
        headers={"Authorization": f"Bearer {who.token}"},
        timeout=10,
    )
    r.raise_for_status()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_server_restart_mid_meeting_both_windows_converge(
    aloop: Loop, windows: Any, tmp_path: Path, server_processes: list[ServerProcess]
) -> None:
    """Stop the server, change the meeting while it is down, start it on the same port."""
    data = tmp_path / "data"
    first = ServerProcess(data)
    server_processes.append(first)
    meeting = Meeting(first.url)
    bob = meeting.join("Bob")
    ann_win, bob_win = windows(meeting, meeting.host), windows(meeting, bob)
    kept = [_upload(meeting, meeting.host, f"before-{i}.txt") for i in range(3)]

    async def story() -> None:
        await until(
            lambda: all(converged(w, server_state(meeting)) for w in (ann_win, bob_win)),
            timeout=30,
            what="both windows show the 3 files",
        )
        await asyncio.to_thread(first.stop)
        await until(
            lambda: not ann_win.socket.is_ready and not bob_win.socket.is_ready,
            timeout=20,
            what="both windows notice the server is gone",
        )
        assert "econnect" in status_text(ann_win).lower(), status_text(ann_win)

        # Meanwhile the meeting changes: another node on the same data folder.
        other = await asyncio.to_thread(ServerProcess, data)
        server_processes.append(other)
        side = Meeting.__new__(Meeting)
        side.__dict__.update(meeting.__dict__, url=other.url)
        await asyncio.to_thread(_upload, side, bob, "while-down-1.txt")
        await asyncio.to_thread(_upload, side, meeting.host, "while-down-2.txt")
        await asyncio.to_thread(_delete, side, meeting.host, kept[0]["resource"]["id"])
        await asyncio.to_thread(other.stop)
        await asyncio.sleep(1.0)  # the windows keep retrying against a closed port

        again = await asyncio.to_thread(ServerProcess, data, first.port)
        server_processes.append(again)
        back = time.monotonic()
        truth = await asyncio.to_thread(server_state, meeting)
        assert truth[0] == 6 and len(truth[1]) == 4
        await until(
            lambda: converged(ann_win, truth) and converged(bob_win, truth),
            timeout=40,
            what="both windows converge on the restarted server",
        )
        figure("restart_to_converged_s", round(time.monotonic() - back, 2), "s")
        assert no_duplicates(ann_win) and no_duplicates(bob_win)
        assert view_ids(ann_win) == view_ids(bob_win)
        assert sorted(view_ids(ann_win)) == sorted(truth[1])
        hooks = Hooks(again.url)
        await until(
            lambda: hooks.connections(meeting.session_id) == 2,
            timeout=10,
            what="exactly one connection per window",
        )

    aloop.run(story(), timeout=150)


def test_dropped_connection_shows_reconnecting_recovers_and_leaves_one_connection(
    aloop: Loop, hooked: ServerThread, hooks: Hooks, hmeeting: Meeting, windows: Any
) -> None:
    ann_win = windows(hmeeting, hmeeting.host)
    bob_win = windows(hmeeting, hmeeting.join("Bob"))
    states: list[str] = []
    texts: list[str] = []

    def on_state(state: str, _detail: str) -> None:
        states.append(state)
        texts.append(status_text(bob_win))

    bob_win.socket.state_changed.connect(on_state)

    async def story() -> None:
        await until(lambda: ann_win.socket.is_ready and bob_win.socket.is_ready)
        old_sid = bob_win.socket.sid
        assert await asyncio.to_thread(hooks.drop, old_sid)
        dropped = time.monotonic()
        # Changes while Bob is cut off: one upload, one silent (eventless) upload.
        await asyncio.to_thread(_upload, hmeeting, hmeeting.host, "while-cut.txt")
        await asyncio.to_thread(hooks.silent_upload, hmeeting.session_id, "unheard.txt")
        await until(
            lambda: bob_win.socket.is_ready and bob_win.socket.sid != old_sid,
            timeout=20,
            what="Bob reconnected",
        )
        truth = await asyncio.to_thread(server_state, hmeeting)
        await until(lambda: converged(bob_win, truth), what="Bob converged")
        figure("drop_to_converged_s", round(time.monotonic() - dropped, 2), "s")
        assert "reconnecting" in states, states
        assert any("econnect" in t.lower() for t in texts), texts
        assert states[-1] == "connected"
        # The old connection is gone for good: one per window, and it stays so.
        await until(lambda: hooked.connection_count(hmeeting.session_id) == 2)
        await asyncio.sleep(1.0)
        assert hooked.connection_count(hmeeting.session_id) == 2
        # Ann never lost her connection, so her ledger follows events only: she
        # has not heard of the silent upload until the next event reveals the gap.
        assert len(ann_win.features["resources"].model.ledger) == 1

    aloop.run(story())


def test_missed_duplicate_and_stale_events(
    aloop: Loop, hooked: ServerThread, hooks: Hooks, hmeeting: Meeting, windows: Any
) -> None:
    win = windows(hmeeting, hmeeting.host)
    sid = hmeeting.session_id

    async def story() -> None:
        await until(
            lambda: win.socket.is_ready and win.features["resources"].model.ledger.revision == 0
        )
        first = await asyncio.to_thread(_upload, hmeeting, hmeeting.host, "one.txt")
        await until(lambda: badge(win) == 1)
        fetches = win.features["resources"].controller.fetch_count

        # Missed: the server changes without telling anyone (revision 2) ...
        await asyncio.to_thread(hooks.silent_upload, sid, "unheard.txt")
        await asyncio.sleep(0.3)
        assert badge(win) == 1 and win.features["resources"].controller.fetch_count == fetches
        # ... then the next event (revision 3) reveals the gap: the client refetches.
        third = await asyncio.to_thread(_upload, hmeeting, hmeeting.host, "three.txt")
        truth = await asyncio.to_thread(server_state, hmeeting)
        await until(lambda: converged(win, truth), what="refetch after the gap")
        assert win.features["resources"].controller.fetch_count == fetches + 1
        assert "unheard.txt" in {r.name for r in win.features["resources"].model.ledger.resources()}

        # A duplicate (the last event again) and a stale, out-of-order one
        # (revision 1 deleting what exists) are both ignored: no change, no fetch.
        fetches = win.features["resources"].controller.fetch_count
        rows = view_ids(win)
        hooks.emit(sid, "resource-uploaded", third)
        hooks.emit(sid, "resource-uploaded", first)
        hooks.emit(sid, "resource-deleted", {"resourceId": first["resource"]["id"], "revision": 1})
        await asyncio.sleep(0.5)
        assert view_ids(win) == rows and badge(win) == 3 and no_duplicates(win)
        assert win.features["resources"].controller.fetch_count == fetches
        assert win.features["resources"].model.ledger.revision == 3

        # A silent delete, then a real one: the second reveals the first.
        await asyncio.to_thread(hooks.silent_delete, sid, first["resource"]["id"])
        await asyncio.to_thread(_delete, hmeeting, hmeeting.host, third["resource"]["id"])
        truth = await asyncio.to_thread(server_state, hmeeting)
        await until(lambda: converged(win, truth), what="refetch after a missed delete")
        assert [r.name for r in win.features["resources"].model.ledger.resources()] == [
            "unheard.txt"
        ]

    aloop.run(story())


def test_an_event_from_the_future_does_not_cause_endless_refetching(
    aloop: Loop, hooked: ServerThread, hooks: Hooks, hmeeting: Meeting, windows: Any
) -> None:
    """A server restored from an older backup, or a buggy node, announces revision 5
    while the list says 0. The client must refetch, but not hammer the server."""
    win = windows(hmeeting, hmeeting.host)

    async def story() -> None:
        await until(
            lambda: win.socket.is_ready and win.features["resources"].model.ledger.revision == 0
        )
        before = win.features["resources"].controller.fetch_count
        future = {
            "revision": 5,
            "resource": {
                "id": "f" * 24,
                "sessionId": hmeeting.session_id,
                "name": "ghost.txt",
                "size": 1,
                "contentType": "text/plain",
                "uploadedBy": {"id": "x", "name": "X"},
                "uploadedAt": "2026-11-25T21:00:00.000Z",
            },
        }
        await asyncio.to_thread(hooks.emit, hmeeting.session_id, "resource-uploaded", future)
        await asyncio.sleep(2.0)
        assert win.features["resources"].model.rowCount() == 0  # the ghost never shows
        figure(
            "future_event_refetches_in_2s",
            win.features["resources"].controller.fetch_count - before,
        )
        assert win.features["resources"].controller.fetch_count - before <= 5

    aloop.run(story())
