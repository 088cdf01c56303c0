"""Without a media server every call is a mesh; the window says when it has grown past
what a mesh carries well (``domain/sfu.py``'s MESH_MAX_PEOPLE)."""

from __future__ import annotations

from typing import Any

from conference_gui.domain.sfu import MESH_MAX_PEOPLE, too_big_for_mesh
from conference_gui.server import ServerThread
from tests.call.test_call_stories import grid
from tests.conftest import Loop, Meeting, require_private_network, until
from tests.server.support import Member, Peer


def test_the_rule() -> None:
    assert not too_big_for_mesh(MESH_MAX_PEOPLE, "mesh")
    assert too_big_for_mesh(MESH_MAX_PEOPLE + 1, "mesh")
    assert not too_big_for_mesh(MESH_MAX_PEOPLE + 10, "sfu")


def test_the_window_says_the_call_is_too_big_for_a_mesh(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    """One window (sound only) and plain socket participants; no media server."""
    require_private_network()
    ann = windows(meeting, meeting.host, call=True, camera=False)
    notice = grid(ann).notice

    def member(name: str) -> Member:
        m = meeting.join(name)
        return Member(meeting.session_id, m.user_id, m.token, name, meeting.invite)

    others = [Peer(server.url, member(f"P{i}")) for i in range(MESH_MAX_PEOPLE)]

    async def story() -> None:
        try:
            for p in others[:-1]:
                await p.connect()
                await p.join()
            await until(lambda: len(grid(ann).tiles()) == MESH_MAX_PEOPLE, timeout=15,
                        what="everyone's tile")
            assert grid(ann).property("callMode") == "mesh"
            assert not notice.isVisible()
            await others[-1].connect()
            await others[-1].join()
            await until(lambda: notice.isVisible() and "too big" in notice.text(), timeout=10,
                        what="the window says the call is too big for a mesh")
            await others[-1].close()
            await until(lambda: not notice.isVisible(), timeout=10, what="notice gone")
        finally:
            for p in others:
                await p.close()

    aloop.run(story(), timeout=60)
