"""The client's half of wire contract v2: media state and the call connection, through
the window's one ``SocketService`` against the real server."""

from __future__ import annotations

from typing import Any

import pytest

from conference_gui.domain.call import CallInfo, MediaState
from conference_gui.domain.meeting import JoinAck, Participant
from conference_gui.server import ServerThread
from conference_gui.services.socket_service import RequestError, SocketService
from tests.conftest import Loop, Meeting, Member, until


class Recorder:
    def __init__(self, socket: SocketService) -> None:
        self.socket = socket
        self.joins: list[JoinAck] = []
        self.updates: list[Participant] = []
        self.moves: list[CallInfo] = []
        socket.joined.connect(self.joins.append)
        socket.participant_updated.connect(self.updates.append)
        socket.call_moved.connect(self.moves.append)


@pytest.fixture
def sockets(aloop: Loop, server: ServerThread) -> Any:
    made: list[SocketService] = []

    def open_socket(meeting: Meeting, member: Member) -> Recorder:
        socket = SocketService(server.url, meeting.session_id, member.user_id, member.token)
        made.append(socket)
        socket.start()
        return Recorder(socket)

    yield open_socket

    async def stop_all() -> None:
        for socket in made:
            await socket.stop()

    aloop.run(stop_all())


def test_media_state_and_call_moves_reach_the_client(
    aloop: Loop, server: ServerThread, meeting: Meeting, sockets: Any
) -> None:
    bob = meeting.join("Bob")
    ann = sockets(meeting, meeting.host)

    async def story() -> None:
        await until(lambda: ann.joins, what="Ann joined")
        assert ann.joins[-1].call == CallInfo("mesh", True)
        assert ann.joins[-1].me.media == MediaState()
        first = sockets(meeting, bob)
        await until(lambda: first.joins)
        sends = MediaState(audio=True, video=True)
        await first.socket.send_media_state(sends)
        await until(lambda: any(p.id == bob.user_id and p.media == sends for p in ann.updates),
                    what="Ann sees Bob's media")

        second = sockets(meeting, bob)  # Bob opens the meeting in a second window
        await until(lambda: second.joins)
        assert second.joins[-1].call.active is True
        await until(lambda: first.moves, what="the first window is told")
        assert first.moves == [CallInfo("mesh", False)]
        await until(lambda: ann.updates[-1].media == MediaState(), what="media reset")
        with pytest.raises(RequestError) as refused:
            await first.socket.send_media_state(sends)
        assert refused.value.code == "not_in_call"

        assert await first.socket.claim_call() == CallInfo("mesh", True)  # "Use this window"
        await until(lambda: second.moves == [CallInfo("mesh", False)])
        await first.socket.send_media_state(MediaState(screen=True))
        await until(lambda: ann.updates[-1].media == MediaState(screen=True))

    aloop.run(story())
