"""Calls through a real Janus: real windows, real aiortc, the real server brokering Janus.

Everything runs in the test run's private network namespace, on a veth pair of
the tests' own (conftest.py); Janus is started by the tests from a
configuration they write (janus_proc.py).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from conference_gui.server import ServerThread
from tests.call.test_call_stories import frames, grid, in_call, tile_ids
from tests.conftest import Loop, Meeting, until

from .janus_proc import JanusProcess

pytestmark = pytest.mark.slow


def mode(win: Any) -> str:
    return str(grid(win).property("callMode"))


def engine(win: Any) -> Any:
    return win.features["call"].service.engine


def peer_state(win: Any, pid: str) -> str | None:
    return win.features["call"].controller._peer_states.get(pid)  # type: ignore[no-any-return]


def diagnose(wins: Any) -> None:
    """What each window's call had when a story failed (in the test's output)."""
    for w in wins:
        try:
            print(w.windowTitle(), mode(w), engine(w).sfu_summary(),
                  w.features["call"].controller._peer_states)
        except Exception as exc:  # a window already shut down
            print("no diagnosis:", exc)


class Gaps:
    """Samples ``framesRendered`` of chosen tiles every 20 ms and keeps, per tile, the
    longest time without a new frame since :meth:`reset` (the longest freeze seen)."""

    def __init__(self, pairs: list[tuple[Any, str]]) -> None:
        self.pairs = pairs
        self._last: dict[int, tuple[int, float]] = {}
        self.longest: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None

    def reset(self) -> None:
        now = time.monotonic()
        self._last = {i: (frames(w, pid), now) for i, (w, pid) in enumerate(self.pairs)}
        self.longest = {i: 0.0 for i in range(len(self.pairs))}
        self.when: dict[int, float] = {}

    def start(self) -> None:
        self.reset()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            for i, (w, pid) in enumerate(self.pairs):
                count, since = self._last[i]
                latest = frames(w, pid)
                if now - since > self.longest[i]:
                    self.longest[i] = now - since
                    self.when[i] = time.time() - (now - since)
                if latest != count:
                    self._last[i] = (latest, now)

    def worst(self) -> float:
        return max(self.longest.values())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def sending_one_stream(win: Any, others: list[str]) -> None:
    """The window sends its camera once (to the SFU) and receives the others from it."""
    eng = engine(win)

    def through_sfu() -> bool:
        summary = eng.sfu_summary()
        return (summary is not None and summary.mode == "sfu" and summary.publishing
                and all(summary.subscriptions.get(pid) == "connected" for pid in others)
                and all(peer_state(win, pid) != "connected" for pid in others))

    await until(through_sfu, timeout=40, what=f"{win.windowTitle()} publishes once")
    first = eng.sfu_publisher_stats()
    await until(lambda: eng.sfu_publisher_stats() is not first, timeout=10,
                what="a new publisher stats snapshot")
    before = eng.sfu_publisher_stats().sections["camera"].packets_sent
    await until(lambda: eng.sfu_publisher_stats().sections["camera"].packets_sent > before,
                timeout=10, what="camera packets to the SFU")
    # No mesh connection is left that could carry a second copy of the camera.
    assert all(peer_state(win, pid) in ("closed", "failed", None) for pid in others)


@pytest.mark.timeout(240)
def test_a_third_person_moves_the_call_to_the_sfu_and_back(
    aloop: Loop, sfu_server: ServerThread, sfu_meeting: Meeting, windows: Any
) -> None:
    meeting = sfu_meeting
    ann = windows(meeting, meeting.host, call=True)
    bob = windows(meeting, meeting.join("Bob"), call=True)
    a, b = ann.meeting.user_id, bob.meeting.user_id
    gaps = Gaps([(ann, b), (bob, a)])
    everyone = [ann, bob]

    async def story() -> None:
        await in_call(ann, bob)
        assert mode(ann) == mode(bob) == "mesh"
        carol = windows(meeting, meeting.join("Carol"), call=True)
        c = carol.meeting.user_id
        everyone.append(carol)
        # Measured from here: making a window blocks this process's GUI thread (the
        # three windows share it), which is no freeze of the call. The switch only
        # starts once Carol's window has joined.
        gaps.start()
        for w in (ann, bob, carol):
            await until(lambda w=w: mode(w) == "sfu", timeout=10, what="callMode sfu")
        # The switch is over once Ann and Bob closed their mesh connection to each
        # other (after the SFU brought pictures): the freeze is measured up to then,
        # plus 2 s.
        for w, pid in ((ann, b), (bob, a)):
            await until(lambda w=w, pid=pid: peer_state(w, pid) in ("closed", "failed"),
                        timeout=40, what=f"{w.windowTitle()} left the mesh")
        await asyncio.sleep(2.0)
        switch_gap = gaps.worst()
        print(f"longest freeze ann<->bob across mesh -> SFU: {switch_gap:.3f} s "
              f"{gaps.when} {[(w.windowTitle(), w.meeting.user_id) for w in everyone]}")
        # The target is 1 s (bench/sfu_calls.py measures it, one process per person);
        # here three windows, Janus and the server share one process and the suite's
        # 2 cores, so this bound only catches a switch that breaks before it makes.
        assert switch_gap <= 3.0, gaps.longest
        await in_call(ann, bob, carol)
        for w, others in ((ann, [b, c]), (bob, [a, c]), (carol, [a, b])):
            await sending_one_stream(w, others)
        # Every tile still gets pictures through the SFU.
        for w in (ann, bob, carol):
            for pid in (a, b, c):
                if pid != w.meeting.user_id:
                    before = frames(w, pid)
                    await until(lambda w=w, pid=pid, n=before: frames(w, pid) > n + 5,
                                timeout=20, what=f"{pid} keeps playing in {w.windowTitle()}")

        # Carol leaves: back to the mesh after the server's delay; nobody freezes.
        await carol.shutdown()
        carol.close()
        # Measured from here (closing a window blocks the GUI thread the three windows
        # share); the server moves the call back 1 s after Carol left (sfu_mesh_delay).
        gaps.reset()
        for w in (ann, bob):
            await until(lambda w=w: mode(w) == "mesh", timeout=10, what="callMode mesh")
            await until(lambda w=w: c not in tile_ids(w), timeout=10, what="Carol's tile gone")
        for w, pid in ((ann, b), (bob, a)):
            await until(lambda w=w, pid=pid: peer_state(w, pid) == "connected", timeout=20,
                        what="mesh connected again")
        for w in (ann, bob):
            await until(lambda w=w: (s := engine(w).sfu_summary()) is not None
                        and s.publisher_state == "none" and not s.subscriptions,
                        timeout=25, what=f"{w.windowTitle()} left the SFU")
        await asyncio.sleep(2.0)
        back_gap = gaps.worst()
        print(f"longest freeze ann<->bob across SFU -> mesh: {back_gap:.3f} s {gaps.when}")
        assert back_gap <= 1.0, gaps.longest
        await gaps.stop()

    try:
        aloop.run(story(), timeout=150)
    except BaseException:
        diagnose(everyone)
        raise
    finally:
        aloop.run(gaps.stop())


def test_janus_killed_the_call_falls_back_to_the_mesh(
    aloop: Loop, janus: JanusProcess, sfu_server: ServerThread, sfu_meeting: Meeting,
    windows: Any,
) -> None:
    """Sound only: the point is what the server and the windows do, not pictures."""
    meeting = sfu_meeting
    wins = [windows(meeting, m, call=True, camera=False)
            for m in (meeting.host, meeting.join("Bob"), meeting.join("Carol"))]
    ids = [w.meeting.user_id for w in wins]

    async def story() -> None:
        for w in wins:
            await until(lambda w=w: mode(w) == "sfu", timeout=15, what="callMode sfu")
        for w in wins:
            others = [pid for pid in ids if pid != w.meeting.user_id]
            await until(lambda w=w, others=others: (s := engine(w).sfu_summary()) is not None
                        and s.publishing and all(s.subscriptions.get(p) == "connected"
                                                 for p in others),
                        timeout=25, what=f"{w.windowTitle()} on the SFU")
        janus.kill()
        for w in wins:
            await until(lambda w=w: mode(w) == "mesh", timeout=10, what="callMode mesh")
            notice = grid(w).notice
            await until(lambda notice=notice: notice.isVisible()
                        and "media server" in notice.text(), timeout=5,
                        what="the window says the media server is gone")
        for w in wins:
            for pid in ids:
                if pid != w.meeting.user_id:
                    await until(lambda w=w, pid=pid: peer_state(w, pid) == "connected",
                                timeout=25, what=f"{w.windowTitle()} meshed with {pid}")
        # The call is audible again peer to peer: levels of the others' tones rise.
        for w in wins:
            controller = w.features["call"].controller
            for pid in ids:
                if pid != w.meeting.user_id:
                    await until(lambda c=controller, pid=pid: c.level(pid) > 0.01, timeout=30,
                                what=f"{pid} heard in {w.windowTitle()}")

    aloop.run(story(), timeout=120)
