"""The engine's life: it starts, stops and leaves nothing behind (threads, tasks,
aiortc's decoder threads, codec threads); and ICE gathers where its policy says."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import threading
from collections.abc import Callable

import aioice.ice
import pytest

from conference_gui.media import ice
from conference_gui.media.engine import CallEngine

from .support import Party, Switchboard, join_all, wait_until

pytestmark = pytest.mark.timeout(40)

People = Callable[..., Party]


class Quiet:
    """A listener that only counts (for engines that never call)."""

    def __init__(self) -> None:
        self.calls = 0

    def send_signal(self, to: str, data: dict[str, object]) -> None:
        self.calls += 1

    def peer_state(self, pid: str, state: str) -> None:
        self.calls += 1

    def remote_media(self, pid: str, source: str, receiving: bool) -> None:
        self.calls += 1

    def problem(self, pid: str | None, message: str) -> None:
        self.calls += 1


def test_stop_ends_every_thread_and_task_of_a_running_call(
    board: Switchboard, no_leaks: list[threading.Thread]
) -> None:
    """Mid-call, with pictures and sound flowing both ways (decoder threads, codec
    threads, the relay's tasks all running), stop() leaves nothing behind."""
    ann, bob = Party(board, "ann", moving=True), Party(board, "bob")
    try:
        join_all(ann, bob)
        wait_until(lambda: bob.frames_from("ann") > 3 and ann.frames_from("bob") > 0)
        wait_until(lambda: bob.engine.levels().get("ann", 0) > 0.1)
        names = {t.name for t in threading.enumerate()}
        assert {"call-engine-ann", "call-engine-bob", "video-decoder", "audio-decoder"} <= names
        assert any(n.startswith("call-engine-ann-codec") for n in names)
        engine_loop_tasks: list[int] = []

        def count_tasks() -> None:  # on the engine's loop: it is alive and busy
            engine_loop_tasks.append(len(asyncio.all_tasks()))

        loop = ann.engine._loop
        assert loop is not None
        loop.call_soon_threadsafe(count_tasks)
        wait_until(lambda: engine_loop_tasks, what="the engine loop to answer")
        assert engine_loop_tasks[0] > 5
    finally:
        ann.stop()
        bob.stop()
    assert ann.engine._loop is None  # closed
    assert not ann.engine.running
    # every task ended by being closed, none had to be cancelled at the very end
    assert (ann.engine.leftover_tasks, bob.engine.leftover_tasks) == (0, 0)
    bob.wait_event("peer_state", "ann", "closed")


def test_an_engine_that_never_called_starts_and_stops(no_leaks: list[threading.Thread]) -> None:
    never = CallEngine(Quiet(), name="call-engine-never")
    assert never.stop()  # before start: nothing to do, and it is over
    with pytest.raises(RuntimeError):
        never.start()
    listener = Quiet()
    engine = CallEngine(listener, name="call-engine-idle")
    engine.start()
    assert engine.running
    with pytest.raises(RuntimeError):
        engine.start()
    engine.set_sending(True, True, True)
    engine.peer_joined("someone")  # before join: ignored
    slot = engine.remote_slot("someone", "screen")
    assert engine.remote_slot("someone", "screen") is slot  # a tile may ask before any call
    assert engine.remote_slot("someone", "camera") is not slot
    with pytest.raises(ValueError):
        engine.remote_slot("someone", "webcam")
    assert engine.levels() == {"someone": 0.0} and engine.stats("someone") is None
    assert engine.stop(5.0)
    assert engine.stop(5.0)  # again: fine
    engine.join("me", ["you"])  # after stop: dropped, no error
    assert listener.calls == 0


def test_leave_says_bye_to_everyone_and_closes_everything(
    people: People, board: Switchboard
) -> None:
    ann, bob, cara = people("ann"), people("bob"), people("cara")
    join_all(ann, bob, cara)
    ann.connected_to("bob", "cara")
    ann.engine.leave()
    bob.wait_event("peer_state", "ann", "closed")
    cara.wait_event("peer_state", "ann", "closed")
    assert board.messages(frm="ann", to="bob", kind="bye")
    assert board.messages(frm="ann", to="cara", kind="bye")
    ann.wait_event("peer_state", "bob", "closed")
    ann.wait_event("peer_state", "cara", "closed")
    offers = len(board.messages(kind="offer"))
    mark = len(ann.events)
    ann.engine.peer_joined("dan")  # after leave: not in a call, ignored
    ann.engine.handle_signal("bob", {"type": "offer", "id": "late", "sdp": (
        "v=0\r\nm=audio 9 X 0\r\nm=video 9 X 0\r\nm=video 9 X 0\r\n")})
    ann.engine.set_sending(True, True, False)  # a command behind them: they were handled
    bob.wait_event("peer_state", "cara", "connected")  # the others' call goes on
    wait_until(lambda: bob.frames_from("cara") > 0, what="Bob still sees Cara")
    assert len(board.messages(kind="offer")) == offers
    assert not board.messages(frm="ann", to="bob", kind="answer")
    assert ann.events[mark:] == []


def _candidates(sdp: str) -> list[str]:
    return re.findall(r"a=candidate:\S+ \d+ udp \d+ (\S+) \d+ typ host", sdp)


def test_each_engine_gathers_where_its_own_policy_says(
    people: People, board: Switchboard
) -> None:
    """Two engines in one process with different ICE policies: the policy lives in
    each engine thread's context, so each offer shows its own."""
    ann = people("ann")  # loopback only
    aimee = people("aimee", policy=ice.IcePolicy(loopback=False))  # aioice's own rule
    ann.engine.join("ann", ["ann", "zz"])
    aimee.engine.join("aimee", ["aimee", "zz"])
    wait_until(lambda: len(board.messages(to="zz", kind="offer")) == 2, what="two offers")
    by_sender = {frm: d for frm, to, d in board.sent if to == "zz"}
    assert set(_candidates(str(by_sender["ann"]["sdp"]))) == {"127.0.0.1"}
    # In the test's namespace there is only lo, so aioice's own rule finds nothing.
    assert _candidates(str(by_sender["aimee"]["sdp"])) == []
    assert ice.current_policy() is None  # the test thread never had one


def test_the_policy_adds_loopback_and_filters_by_network() -> None:
    found = ["192.168.1.20", "10.0.0.5", "fe80::1", "2001:db8::7"]
    plain = ice.IcePolicy()
    assert plain.select(found, True, True) == [*found, "127.0.0.1"]
    assert plain.select(found, False, True) == found  # no IPv4 wanted: no 127.0.0.1
    both = ice.IcePolicy(ipv6_loopback=True)
    assert both.select([], True, True) == ["127.0.0.1", "::1"]
    assert ice.IcePolicy.loopback_only().select(found, True, True) == ["127.0.0.1"]
    lan = ice.IcePolicy(loopback=False, allow=(ipaddress.ip_network("10.0.0.0/8"),))
    assert lan.select(found, True, True) == ["10.0.0.5"]
    assert ice.IcePolicy().ice_servers == ()  # never aiortc's public STUN default


def test_installing_the_hook_is_idempotent_and_harmless_without_a_policy() -> None:
    ice.install()
    hooked = aioice.ice.get_host_addresses
    ice.install()
    assert aioice.ice.get_host_addresses is hooked and ice.installed()
    assert ice.current_policy() is None
    without = aioice.ice.get_host_addresses(True, False)
    assert "127.0.0.1" not in without  # aioice's own behaviour where no policy is set
    with ice.policy(ice.IcePolicy.loopback_only()):
        assert aioice.ice.get_host_addresses(True, False) == ["127.0.0.1"]
    assert ice.current_policy() is None


def test_the_engine_runs_a_plain_asyncio_loop_whatever_policy_the_app_installed(
    no_leaks: list[threading.Thread],
) -> None:
    """``qasync.run()`` installs a policy that hands every new loop to Qt; the engine's
    thread would then get a Qt loop it cannot run (seen: "the call engine crashed")."""
    import qasync

    before = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(qasync.DefaultQEventLoopPolicy())
    try:
        engine = CallEngine(Quiet(), name="call-engine-policy")
        engine.start()
        loop = engine._loop
        assert loop is not None and not isinstance(loop, qasync.QEventLoop)
        assert engine.running
        assert engine.stop(5.0)
    finally:
        asyncio.set_event_loop_policy(before)
