"""Calls, as people live them: real windows, real aiortc, the real server, fake devices.

Everything runs inside the test run's private network namespace (only ``lo``):
the windows' media go over loopback, as two processes on a laptop with no
network would.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QListView, QToolButton

from conference_gui.models.participants_model import ParticipantRole
from conference_gui.server import ServerThread
from tests.conftest import Loop, Meeting, require_private_network, until
from tests.reliability.procs import ServerProcess
from tests.server.support import Member as WireMember
from tests.server.support import Peer


@pytest.fixture(autouse=True)
def private_network() -> None:
    require_private_network()


def grid(win: Any) -> Any:
    return win.features["call"].grid


def tile(win: Any, pid: str, source: str = "camera") -> Any:
    found = grid(win).tile(pid, source)
    assert found is not None, f"no {source} tile for {pid} in {win.windowTitle()}"
    return found


def tile_ids(win: Any) -> list[str]:
    return [t.property("participantId") for t in grid(win).tiles()]


def frames(win: Any, pid: str) -> int:
    return int(tile(win, pid).property("framesRendered"))


def mean_colour(img: QImage, fraction: float = 0.5) -> tuple[float, float, float]:
    """Mean RGB of the centre ``fraction`` of an image."""
    w, h = img.width(), img.height()
    x0, y0 = int(w * (1 - fraction) / 2), int(h * (1 - fraction) / 2)
    xs = range(x0, w - x0, max(1, w // 40))
    ys = range(y0, h - y0, max(1, h // 40))
    total = [0.0, 0.0, 0.0]
    n = 0
    for y in ys:
        for x in xs:
            c = QColor(img.pixel(x, y))
            total[0] += c.red()
            total[1] += c.green()
            total[2] += c.blue()
            n += 1
    return (total[0] / n, total[1] / n, total[2] / n)


def sent_picture(win: Any) -> QImage:
    """What this window's camera sends right now (its own camera slot)."""
    _, picture = win.features["call"].devices.camera_frames.latest()
    assert picture is not None
    return QImage(picture.pixels.data, picture.width, picture.height,
                  picture.pixels.strides[0], QImage.Format.Format_RGB32).copy()


def connected(win: Any, pid: str) -> bool:
    return win.features["call"].controller._peer_states.get(pid) == "connected"


async def in_audio_call(*wins: Any) -> None:
    """Everyone is connected to everyone (for stories about sound, cameras off)."""
    for w in wins:
        for other in wins:
            if other is not w:
                pid = other.meeting.user_id
                await until(lambda w=w, pid=pid: connected(w, pid), timeout=20,
                            what=f"{w.windowTitle()} connected to {pid}")


async def in_call(*wins: Any) -> None:
    """Everyone sees everyone's pictures arriving."""
    ids = [w.meeting.user_id for w in wins]
    for w in wins:
        for pid in ids:
            if pid != w.meeting.user_id:
                await until(lambda w=w, pid=pid: pid in tile_ids(w) and frames(w, pid) > 5,
                            timeout=20, what=f"{pid} painted in {w.windowTitle()}")


def test_ann_and_bob_see_and_hear_each_other(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host, call=True)
    bob = windows(meeting, meeting.join("Bob"), call=True)
    a, b = ann.meeting.user_id, bob.meeting.user_id

    async def story() -> None:
        started = time.monotonic()
        await in_call(ann, bob)
        assert time.monotonic() - started < 10
        for w, me, other in ((ann, a, b), (bob, b, a)):
            assert tile_ids(w) == [me, other]  # you first
            assert tile(w, me).property("isSelf") and not tile(w, other).property("isSelf")
        # Pictures keep coming, and they are Bob's picture: not black, not frozen.
        before = frames(ann, b)
        await until(lambda: frames(ann, b) - before > 15, timeout=5,
                    what="~30 fps sent; the GUI paints what arrives")
        first = tile(ann, b).grab().toImage()
        await asyncio.sleep(0.3)
        second = tile(ann, b).grab().toImage()
        assert first != second, "the remote picture is frozen"
        seen, sent = mean_colour(first), mean_colour(sent_picture(bob))
        assert max(seen) > 40, f"Bob's tile is black: {seen}"
        assert all(abs(s - t) < 40 for s, t in zip(seen, sent, strict=True)), (seen, sent)
        # Bob's tone is heard at Ann's; silence is heard as silence.
        await until(lambda: tile(ann, b).property("audioLevel") > 0.05, what="Bob heard")
        bob.features["call"].devices.tone.set_sounding(False)
        await until(lambda: tile(ann, b).property("audioLevel") < 0.01, timeout=2,
                    what="Bob's silence heard")
        bob.features["call"].devices.tone.set_sounding(True)
        await until(lambda: tile(ann, b).property("audioLevel") > 0.05, what="Bob heard again")
        # Ann's own tile shows her own microphone's level.
        assert tile(ann, a).property("audioLevel") > 0.05

    aloop.run(story(), timeout=60)


def test_bob_mutes_and_stops_his_camera_and_ann_sees_it_within_a_second(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host, call=True)
    bob_member = meeting.join("Bob")
    bob = windows(meeting, bob_member, call=True)
    b = bob.meeting.user_id
    observer_member = meeting.join("Olga")  # a plain socket in the meeting: what is on the wire
    observer = Peer(meeting.url, WireMember(meeting.session_id, observer_member.user_id,
                                            observer_member.token, "Olga"))

    def bob_in_list(role: ParticipantRole) -> Any:
        model = ann.findChild(QListView, "participantList").model()
        for row in range(model.rowCount()):
            if model.index(row).data(ParticipantRole.ID) == b:
                return model.index(row).data(role)
        raise AssertionError("Bob is not listed")

    async def story() -> None:
        await observer.connect()
        await observer.join()
        await in_call(ann, bob)
        bob.findChild(QToolButton, "micButton").click()
        muted = time.monotonic()
        await until(lambda: not tile(ann, b).property("micOn"), timeout=1.0,
                    what="Ann's tile shows Bob muted")
        assert time.monotonic() - muted < 1.0
        assert bob_in_list(ParticipantRole.MIC_ON) is False
        assert "microphone off" in tile(ann, b).accessibleName()
        await observer.wait_for(
            "participant-updated",
            lambda d: d["participant"]["id"] == b and d["participant"]["media"]["audio"] is False,
        )
        # Muted means no sound reaches Ann (no RTP on that section, not silence).
        await until(lambda: tile(ann, b).property("audioLevel") == 0.0, timeout=2)

        bob.findChild(QToolButton, "cameraButton").click()
        await until(lambda: not tile(ann, b).property("cameraOn"), timeout=1.0,
                    what="Ann's tile shows Bob's camera off")
        assert bob_in_list(ParticipantRole.CAMERA_ON) is False
        await asyncio.sleep(0.5)
        shown = frames(ann, b)
        await asyncio.sleep(0.5)
        assert frames(ann, b) == shown  # initials, not video
        centre = tile(ann, b).grab().toImage()
        colour = QColor(centre.pixel(centre.width() // 2, centre.height() // 2))
        from conference_gui.ui.participants_dock import avatar_color
        assert colour == avatar_color(b) or colour == QColor("white")  # the initials' circle

        bob.findChild(QToolButton, "micButton").click()
        bob.findChild(QToolButton, "cameraButton").click()
        await until(lambda: tile(ann, b).property("micOn") and tile(ann, b).property("cameraOn"),
                    timeout=1.0, what="Bob back on")
        resumed = frames(ann, b)
        await until(lambda: frames(ann, b) > resumed + 10, timeout=5, what="video again")
        await until(lambda: tile(ann, b).property("audioLevel") > 0.05, timeout=5,
                    what="sound again")
        await observer.close()

    aloop.run(story(), timeout=60)


def test_carol_leaves_and_comes_back(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host, call=True)
    bob = windows(meeting, meeting.join("Bob"), call=True)
    carol_member = meeting.join("Carol")
    carol = windows(meeting, carol_member, call=True)
    c = carol.meeting.user_id

    async def story() -> None:
        await in_call(ann, bob, carol)
        assert all(len(tile_ids(w)) == 3 for w in (ann, bob, carol))
        await carol.shutdown()
        carol.close()
        await until(lambda: c not in tile_ids(ann) and c not in tile_ids(bob), timeout=5,
                    what="Carol's tile goes")
        again = windows(meeting, carol_member, call=True)
        await in_call(ann, bob, again)
        assert all(len(tile_ids(w)) == 3 for w in (ann, bob, again))

    aloop.run(story(), timeout=90)


def test_media_keeps_flowing_while_the_server_restarts(
    aloop: Loop, windows: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data)
    meeting = Meeting(first.url)
    ann = windows(meeting, meeting.host, call=True)
    bob = windows(meeting, meeting.join("Bob"), call=True)
    a, b = ann.meeting.user_id, bob.meeting.user_id
    servers = [first]

    async def story() -> None:
        await in_call(ann, bob)
        await asyncio.to_thread(first.stop)
        await until(lambda: not ann.socket.is_ready and not bob.socket.is_ready, timeout=20)
        # The peer connections do not need the server: pictures and sound go on.
        during = frames(ann, b), frames(bob, a)
        await until(lambda: frames(ann, b) > during[0] + 20 and frames(bob, a) > during[1] + 20,
                    timeout=10, what="pictures go on without the server")
        await until(lambda: tile(ann, b).property("audioLevel") > 0.05, timeout=5)
        assert not ann.socket.is_ready  # still without the server
        again = await asyncio.to_thread(ServerProcess, data, first.port)
        servers.append(again)
        back = time.monotonic()
        await until(lambda: ann.socket.is_ready and bob.socket.is_ready, timeout=30)
        def right_again() -> bool:
            tiles = [grid(w).tile(p) for w in (ann, bob) for p in (a, b)]
            return (tile_ids(ann) == [a, b] and tile_ids(bob) == [b, a]
                    and all(t is not None and t.property("micOn") and t.property("cameraOn")
                            for t in tiles))

        await until(right_again, timeout=10, what="tiles and media states right again")
        assert time.monotonic() - back < 15
        flowing = frames(ann, b)
        await until(lambda: frames(ann, b) > flowing + 10, timeout=5)
        count = await asyncio.to_thread(
            lambda: __import__("requests").get(f"{again.url}/api/_test/connections",
                                               timeout=5).json()["count"]
        )
        assert count == 2  # one socket per window, also after the restart

    try:
        aloop.run(story(), timeout=90)
    finally:
        for s in servers:
            s.stop()


def test_a_peer_sending_garbage_does_not_break_the_call(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ann = windows(meeting, meeting.host, call=True)
    bob = windows(meeting, meeting.join("Bob"), call=True)
    a, b = ann.meeting.user_id, bob.meeting.user_id
    mallory_member = meeting.join("Mallory")
    mallory = Peer(meeting.url, WireMember(meeting.session_id, mallory_member.user_id,
                                           mallory_member.token, "Mallory"))
    garbage: list[dict[str, Any]] = [
        {"type": "offer", "sdp": "v=0\r\nthis is not sdp\r\n", "id": "g1"},
        {"type": "dance", "id": "g2"},
        {"type": "answer", "sdp": "v=0\r\n", "id": "never-offered"},
        {"type": "candidate", "id": "nope",
         "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host",
                       "sdpMid": "0", "sdpMLineIndex": 0}},
        {"type": "offer", "sdp": "v=0\r\n" + "a=x-padding:" + "x" * 60_000, "id": "big"},
        {"type": "candidate", "id": "g1", "candidate": "not an object"},
    ]
    huge = {"type": "offer", "sdp": "v=0\r\n" + "a=x-padding:" + "x" * 1_000_000, "id": "huge"}

    async def story() -> None:
        await mallory.connect()
        await mallory.join()
        await in_call(ann, bob)
        answers = [await mallory.call("signal", {"to": a, "data": g}) for g in garbage]
        # Every message is answered: relayed (ok) or refused by the server with a code.
        assert all(("ok" in r) or ("error" in r and r["error"]["code"]) for r in answers), answers
        # A 1 MB SDP does not even reach Ann: the server drops a sender of such messages.
        try:
            answer = await asyncio.wait_for(mallory.call("signal", {"to": a, "data": huge}), 5)
        except Exception:  # the disconnect shows as a timeout or an error
            answer = None
        if answer is not None:
            assert answer["error"]["code"], answer
        else:
            await until(lambda: not mallory.sio.connected, timeout=5, what="Mallory dropped")
        before = frames(ann, b), frames(bob, a)
        await until(lambda: frames(ann, b) > before[0] + 20 and frames(bob, a) > before[1] + 20,
                    timeout=10, what="pictures keep coming both ways")
        await until(lambda: tile(ann, b).property("audioLevel") > 0.05, timeout=5)
        await mallory.close()

    aloop.run(story(), timeout=60)
    problems = [r for r in caplog.records if r.name.startswith("conference_gui.media")]
    assert problems, "the bad messages left no log line"
    assert all(r.exc_info is None for r in problems), "a traceback for a peer's bad input"


def os_threads() -> Counter[str]:
    """This process's threads by name, as the OS knows them (Qt's threads included,
    which ``threading`` only sees as immortal "Dummy" entries)."""
    names: Counter[str] = Counter()
    for task in os.listdir("/proc/self/task"):
        try:
            names[Path(f"/proc/self/task/{task}/comm").read_text().strip()] += 1
        except OSError:  # ended while we looked
            continue
    return names


def test_leaving_stops_every_call_thread(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    before = os_threads()
    python_before = {t.name for t in threading.enumerate()}
    ann = windows(meeting, meeting.host, call=True)
    bob = windows(meeting, meeting.join("Bob"), call=True)

    async def story() -> None:
        await in_call(ann, bob)
        assert any(t.name == "call-engine" for t in threading.enumerate())
        assert (os_threads() - before)["cgui-devices"] == 2
        for w in (ann, bob):
            await w.shutdown()
            w.close()

        def left() -> Counter[str]:
            # Qt's global thread pool keeps idle workers for 30 s by design: not ours.
            # Python threads show as "python" to the OS; they are counted by name below.
            extra = os_threads() - before
            extra.pop("Thread (pooled)", None)
            extra.pop("python", None)
            for name in {t.name for t in threading.enumerate()} - python_before:
                if not name.startswith(("asyncio_", "sqlite_")):  # the server fixture's
                    extra[name] += 1
            return extra

        try:
            await until(lambda: not left(), timeout=10)
        except AssertionError:
            names = sorted(t.name for t in threading.enumerate())
            raise AssertionError(f"threads still running: {dict(left())} {names}") from None

    aloop.run(story(), timeout=60)
