"""First run and everyday polish, tried as a new user would (issue 14)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Loop, Meeting, until


def test_each_window_says_which_meeting_and_who_you_are(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))

    async def story() -> None:
        await until(lambda: ann.socket.is_ready and bob.socket.is_ready)
        await until(lambda: "Bob" in bob.windowTitle())
        assert ann.windowTitle() == "Standup — Ann — Conference"
        assert bob.windowTitle() == "Standup — Bob — Conference"

    aloop.run(story())
