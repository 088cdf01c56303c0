"""Calls people enjoy (issue 12): who is speaking, talking while muted, push-to-talk,
connection quality. Real windows and engines over loopback, fake devices whose
tone is switched on and off per participant."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolButton

from conference_gui.server import ServerThread
from tests.conftest import Loop, Meeting, require_private_network, until
from tests.server.support import Member as WireMember
from tests.server.support import Peer

from .test_call_stories import in_audio_call, in_call, tile


@pytest.fixture(autouse=True)
def private_network() -> None:
    require_private_network()


def tone(win: Any, on: bool) -> None:
    win.features["call"].devices.tone.set_sounding(on)


def focus(win: Any) -> str:
    return str(win.features["call"].spotlight.focus)


def test_the_spotlight_follows_who_speaks_and_ignores_a_cough(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host, call=True, camera=False)
    bob = windows(meeting, meeting.join("Bob"), call=True, camera=False)
    carol = windows(meeting, meeting.join("Carol"), call=True, camera=False)
    b, c = bob.meeting.user_id, carol.meeting.user_id
    for w in (ann, bob, carol):
        tone(w, False)
    ann.features["call"].speaker_view_action.setChecked(True)

    async def story() -> None:
        await in_audio_call(ann, bob, carol)
        assert focus(ann) == ""
        tone(bob, True)
        started = time.monotonic()
        await until(lambda: focus(ann) == b, timeout=5, what="Bob takes the spotlight")
        took = time.monotonic() - started
        assert 0.8 <= took <= 2.5, f"Bob took the spotlight after {took:.2f} s"
        assert tile(ann, b).property("speaking")
        big = max(ann.features["call"].grid.tiles(), key=lambda t: t.width())
        assert big.property("participantId") == b  # speaker view: Bob large

        tone(bob, False)
        quiet = time.monotonic()
        tone(carol, True)
        await until(lambda: focus(ann) == c, timeout=5, what="Carol takes it")
        # Bob is quiet; after about two seconds he is no longer "speaking".
        await until(lambda: not tile(ann, b).property("speaking"), timeout=5)
        assert time.monotonic() - quiet >= 1.5  # the pauses between words are not silence
        # A 200 ms cough from Bob while Carol talks: nothing moves, nothing flickers.
        tone(bob, True)
        await asyncio.sleep(0.2)
        tone(bob, False)
        for _ in range(20):  # watched for 2 s, 10 times a second
            await asyncio.sleep(0.1)
            assert focus(ann) == c
            assert not tile(ann, b).property("speaking")
        # Carol stops: about two seconds later she is no longer speaking, and keeps
        # the spotlight until someone else speaks.
        tone(carol, False)
        await until(lambda: not tile(ann, c).property("speaking"), timeout=5)
        assert focus(ann) == c
        # Bob talks (he takes it), Carol starts over him (she takes it); when she
        # stops, Bob, still talking, has it again (though he never "started" again).
        tone(bob, True)
        await until(lambda: focus(ann) == b, timeout=5, what="Bob takes it")
        tone(carol, True)
        await until(lambda: focus(ann) == c, timeout=5, what="Carol takes it over Bob")
        assert tile(ann, b).property("speaking")
        tone(carol, False)
        await until(lambda: focus(ann) == b, timeout=5, what="Bob, talking on, takes it")
        assert not tile(ann, c).property("speaking")

    aloop.run(story(), timeout=90)


def test_pinning_keeps_a_participant_large_whoever_speaks(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host, call=True, camera=False)
    bob = windows(meeting, meeting.join("Bob"), call=True, camera=False)
    carol = windows(meeting, meeting.join("Carol"), call=True, camera=False)
    b, c = bob.meeting.user_id, carol.meeting.user_id
    for w in (ann, bob, carol):
        tone(w, False)

    async def story() -> None:
        await in_audio_call(ann, bob, carol)
        QTest.mouseDClick(tile(ann, c), Qt.MouseButton.LeftButton)
        assert ann.features["call"].speaker_view_action.isChecked()
        assert focus(ann) == c
        tone(bob, True)
        await until(lambda: tile(ann, b).property("speaking"), timeout=5)
        assert focus(ann) == c  # pinned: Bob's speaking does not take it
        QTest.mouseDClick(tile(ann, c), Qt.MouseButton.LeftButton)  # unpin
        await until(lambda: focus(ann) == b, timeout=3)

    aloop.run(story(), timeout=60)


def test_bob_is_told_he_talks_while_muted_and_holds_space_to_talk(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host, call=True, camera=False)
    bob_member = meeting.join("Bob")
    bob = windows(meeting, bob_member, call=True, camera=False)
    b = bob.meeting.user_id
    olga = meeting.join("Olga")
    observer = Peer(meeting.url, WireMember(meeting.session_id, olga.user_id, olga.token, "Olga"))
    hint = bob.features["call"].grid.hint

    def bob_audio_on_the_wire() -> list[bool]:
        return [d["participant"]["media"]["audio"]
                for d in observer.received("participant-updated")
                if d["participant"]["id"] == b]

    async def story() -> None:
        await observer.connect()
        await observer.join()
        await in_audio_call(ann, bob)
        tone(bob, False)
        bob.findChild(QToolButton, "micButton").click()
        await until(lambda: not tile(ann, b).property("micOn"), timeout=2)
        assert not hint.isVisible()
        tone(bob, True)
        started = time.monotonic()
        await until(lambda: hint.isVisible(), timeout=2, what="the talking-while-muted hint")
        assert time.monotonic() - started < 1.0
        assert "talking while muted" in hint.text()
        assert tile(ann, b).property("audioLevel") == 0.0  # nothing is sent

        # Push-to-talk: Space held in Bob's window (not in a text field).
        bob.activateWindow()
        await until(lambda: QApplication.activeWindow() is bob, timeout=2)
        bob.features["call"].grid.setFocus()
        wire_before = len(bob_audio_on_the_wire())
        QTest.keyPress(bob.features["call"].grid, Qt.Key.Key_Space)
        await until(lambda: tile(ann, b).property("audioLevel") > 0.05, timeout=3,
                    what="Ann hears Bob while Space is held")
        assert True in bob_audio_on_the_wire()[wire_before:]
        assert tile(ann, b).property("micOn")
        QTest.keyRelease(bob.features["call"].grid, Qt.Key.Key_Space)
        await until(lambda: tile(ann, b).property("audioLevel") == 0.0, timeout=3,
                    what="silence again once Space is up")
        assert bob_audio_on_the_wire()[-1] is False
        assert not tile(ann, b).property("micOn")

        # In the chat's text field Space is just a space.
        chat = bob.features["chat"]
        chat.dock.show()
        chat.dock.raise_()
        chat.dock.input.setFocus()
        QTest.keyClick(chat.dock.input, Qt.Key.Key_Space)
        await asyncio.sleep(0.5)
        assert chat.dock.input.toPlainText() == " "
        assert tile(ann, b).property("audioLevel") == 0.0
        await observer.close()

    aloop.run(story(), timeout=60)


def test_each_tile_tells_its_connection_quality(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host, call=True)
    bob = windows(meeting, meeting.join("Bob"), call=True)
    b = bob.meeting.user_id

    async def story() -> None:
        await in_call(ann, bob)
        await until(lambda: "Connection: good" in tile(ann, b).toolTip(), timeout=8,
                    what="a quality tooltip")
        tip = tile(ann, b).toolTip()
        assert "round trip" in tip and "loss" in tip and "kbit/s" in tip
        assert not ann.features["call"].quality.uplink_poor

    aloop.run(story(), timeout=60)


def test_a_reaction_shows_over_the_senders_tile_in_every_window(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host, call=True, camera=False)
    bob = windows(meeting, meeting.join("Bob"), call=True, camera=False)
    b = bob.meeting.user_id

    async def story() -> None:
        await in_audio_call(ann, bob)
        menu = bob.findChild(QToolButton, "reactButton").menu()
        [clap] = [a for a in menu.actions() if a.objectName() == "react-clap"]
        clap.trigger()
        await until(lambda: tile(ann, b).reaction == "👏" and tile(bob, b).reaction == "👏",
                    timeout=3, what="the clap over Bob's tile in both windows")
        assert "reacted 👏" in tile(ann, b).accessibleName()
        await until(lambda: tile(ann, b).reaction == "", timeout=6, what="it fades")

    aloop.run(story(), timeout=60)


def test_the_same_person_in_two_windows_takes_part_in_one_and_can_move_the_call(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host, call=True, camera=False)
    bob_member = meeting.join("Bob")
    first = windows(meeting, bob_member, call=True, camera=False)
    b = first.meeting.user_id

    async def story() -> None:
        await in_audio_call(ann, first)
        second = windows(meeting, bob_member, call=True, camera=False)  # Bob opens it again
        grid = first.features["call"].grid
        await until(lambda: "another window" in grid.notice.text(), timeout=10,
                    what="the first window says the call moved")
        await until(lambda: second.features["call"].controller.active, timeout=10)
        await until(lambda: second.features["call"].controller._peer_states.get(
            ann.meeting.user_id) == "connected", timeout=20, what="the call in the new window")
        assert grid.notice_button.isVisible() and grid.notice_button.text() == "Use this window"
        grid.notice_button.click()
        await until(lambda: first.features["call"].controller.active, timeout=10)
        await until(lambda: "another window" in second.features["call"].grid.notice.text(),
                    timeout=10)
        await until(lambda: connected_to(first, ann.meeting.user_id), timeout=20)
        assert tile(ann, b) is not None

    aloop.run(story(), timeout=90)


def connected_to(win: Any, pid: str) -> bool:
    return bool(win.features["call"].controller._peer_states.get(pid) == "connected")
