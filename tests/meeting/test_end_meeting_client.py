"""Issue 14 items 6 and 7, the client's requests: ending the meeting, changing a vote."""

from __future__ import annotations

import pytest

from conference_gui.domain.meeting import MeetingEnded
from conference_gui.server import ServerThread
from conference_gui.services.socket_service import RequestError, SocketService
from tests.conftest import Loop, Meeting, until


def test_ending_the_meeting_and_changing_a_vote(aloop: Loop, server: ServerThread,
                                                meeting: Meeting) -> None:
    bob = meeting.join("Bob")
    host = SocketService(server.url, meeting.session_id, meeting.host.user_id,
                         meeting.host.token)
    guest = SocketService(server.url, meeting.session_id, bob.user_id, bob.token)
    ended: list[MeetingEnded] = []
    guest.meeting_ended.connect(ended.append)
    states: list[tuple[str, str]] = []
    guest.state_changed.connect(lambda state, detail: states.append((state, detail)))

    async def story() -> None:
        host.start()
        guest.start()
        await until(lambda: host.is_ready and guest.is_ready)
        ack = await host.request("poll-create", {"question": "Lunch?", "options": ["A", "B"]})
        poll_id = ack["poll"]["id"]
        assert (await guest.vote(poll_id, 0)).my_vote == 0
        changed = await guest.vote(poll_id, 1)  # changed until the poll closes
        assert changed.my_vote == 1 and [o.votes for o in changed.options] == [0, 1]
        with pytest.raises(RequestError) as refused:
            await guest.end_meeting()
        assert refused.value.code == "forbidden"
        await host.end_meeting()
        await until(lambda: ended, what="meeting-ended")
        assert ended[0].ended_by.name == "Ann"
        # The server closes the connection and refuses it again: a final state in words.
        await until(lambda: states and states[-1][0] == "error", timeout=10)
        assert "ended" in states[-1][1]
        await host.stop()
        await guest.stop()

    aloop.run(story())
