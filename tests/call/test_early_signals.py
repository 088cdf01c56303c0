"""A signal that overtakes the window's own join ack is kept for the call, not lost.

The server sends ``participant-joined`` to everyone before the joiner gets its
``join-session`` ack. An offerer that answers that event at once (a browser does,
within milliseconds; tests/browser found it) gets its offer to the joiner
before the joiner has handled its ack. ``CallService`` used to drop every signal
until then, so that offer was never answered and the pair never connected.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal

from conference_gui.domain.meeting import SignalMessage
from conference_gui.services import call_service
from conference_gui.services.call_service import CallService
from tests.conftest import Loop


class FakeSocket(QObject):
    """Only the SocketService signals CallService listens to."""

    signal_received = Signal(object)
    sfu_published = Signal(str)
    sfu_unpublished = Signal(str)


class FakeEngine:
    """Records what CallService asks of the engine, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start(self) -> None:
        self.calls.append(("start", None))

    def set_sfu_ask(self, ask: Any) -> None:
        pass  # the SFU broker's requests are not part of these stories

    def join(self, me: str, others: list[str]) -> None:
        self.calls.append(("join", (me, tuple(others))))

    def leave(self) -> None:
        self.calls.append(("leave", None))

    def handle_signal(self, from_id: str, data: dict[str, Any]) -> None:
        self.calls.append(("signal", (from_id, data["id"])))

    def stop(self) -> bool:
        return True


@pytest.fixture
def service(aloop: Loop) -> Any:
    socket = FakeSocket()
    made = CallService(socket)  # type: ignore[arg-type]
    made._engine = FakeEngine()
    yield socket, made, made._engine
    aloop.run(made.stop())


def offer(sender: str, offer_id: str) -> SignalMessage:
    return SignalMessage(sender, {"type": "offer", "sdp": "v=0", "id": offer_id})


def test_an_offer_before_the_join_ack_reaches_the_engine_after_join(service: Any) -> None:
    socket, calls, engine = service
    socket.signal_received.emit(offer("carol", "o1"))
    assert engine.calls == []  # nothing before the call is joined
    calls.join("bob", ["ann", "carol"])
    assert engine.calls == [("start", None), ("join", ("bob", ("ann", "carol"))),
                            ("signal", ("carol", "o1"))]
    socket.signal_received.emit(offer("ann", "o2"))  # once joined: straight through
    assert engine.calls[-1] == ("signal", ("ann", "o2"))


def test_early_signals_are_bounded_and_expire(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket, calls, engine = service
    for n in range(call_service.EARLY_SIGNALS + 10):
        socket.signal_received.emit(offer("carol", f"o{n}"))
    calls.join("bob", ["carol"])
    kept = [data for kind, data in engine.calls if kind == "signal"]
    assert len(kept) == call_service.EARLY_SIGNALS
    assert kept[-1] == ("carol", f"o{call_service.EARLY_SIGNALS + 9}")  # the newest kept

    calls.leave()
    socket.signal_received.emit(offer("carol", "late"))
    now = call_service.time.monotonic()
    monkeypatch.setattr(call_service.time, "monotonic",
                        lambda: now + call_service.EARLY_SIGNAL_AGE + 1)
    calls.join("bob", ["carol"])
    assert engine.calls[-1][0] == "join"  # too old to mean anything now
