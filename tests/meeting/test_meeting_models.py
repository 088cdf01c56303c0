"""The participants, chat and polls models: Qt's model contract through every kind
of change, and the numbers their badges show. Controllers run against a stub
socket that answers at once (no network)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt

from conference_gui.domain.meeting import ChatMessage, JoinAck, Participant, Poll, PollOption
from conference_gui.domain.resources import Person
from conference_gui.models.chat_model import ChatController, ChatListModel, ChatRole
from conference_gui.models.me import Me
from conference_gui.models.participants_model import (
    ParticipantListModel,
    ParticipantRole,
    ParticipantsController,
)
from conference_gui.models.polls_model import PollListModel, PollRole, PollsController
from conference_gui.services.socket_service import RequestError
from tests.conftest import Loop
from tests.meeting.stubs import StubSocket

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def person(pid: str, name: str, *, host: bool = False, hand: int | None = None) -> Participant:
    at = T0 + timedelta(seconds=hand) if hand is not None else None
    return Participant(pid, name, "host" if host else "participant", hand is not None, at)


def test_participant_model_passes_qtmodeltester_through_moves_and_resets(
    qtmodeltester: Any,
) -> None:
    model = ParticipantListModel()
    qtmodeltester.check(model, force_py=True)
    r = model.roster
    r.reset([person("a", "Ann", host=True), person("b", "Bob"), person("c", "Cy")])
    model.set_me("b")
    r.upsert(person("c", "Cy", hand=1))
    r.upsert(person("b", "Bob", hand=2))
    r.upsert(person("c", "Cy"))
    r.upsert(person("d", "Dee"))
    r.remove("a")
    r.reset([person("b", "Bob"), person("e", "Eve", hand=3)])
    assert model.names() == ["Eve", "Bob (you)"]
    top = model.index(0)
    assert top.data(ParticipantRole.HAND_RAISED) is True
    assert top.data(ParticipantRole.HAND_RAISED_AT) == T0 + timedelta(seconds=3)
    assert model.index(1).data(ParticipantRole.IS_ME) is True
    assert "hand raised" in model.index(0).data(Qt.ItemDataRole.AccessibleTextRole)
    assert model.raised_count == 1


def test_participant_count_and_raised_count_follow_every_change() -> None:
    model = ParticipantListModel()
    counts: list[int] = []
    hands: list[int] = []
    model.count_changed.connect(counts.append)
    model.raised_count_changed.connect(hands.append)
    model.roster.reset([person("a", "Ann")])
    model.roster.upsert(person("b", "Bob", hand=1))
    model.roster.upsert(person("b", "Bob"))
    model.roster.remove("a")
    assert counts == [1, 2, 1]
    assert hands == [1, 0]


def test_chat_model_passes_qtmodeltester_and_shows_states(qtmodeltester: Any) -> None:
    model = ChatListModel()
    qtmodeltester.check(model, force_py=True)
    h = model.history
    h.me_id = "me"
    h.receive(ChatMessage("1", Person("bob", "Bob"), "<i>hi</i>", T0))
    key = h.add_pending(Person("me", "Me"), "pending one")
    failed = h.add_pending(Person("me", "Me"), "failing")
    h.fail(failed, "offline")
    h.acknowledge(key, ChatMessage("2", Person("me", "Me"), "pending one", T0))
    h.discard(failed)
    assert model.rowCount() == 2
    first = model.index(0)
    assert first.data(Qt.ItemDataRole.DisplayRole) == "<i>hi</i>"
    assert first.data(ChatRole.SENDER_NAME) == "Bob"
    assert model.index(1).data(ChatRole.SENDER_NAME) == "You"
    assert model.index(1).data(ChatRole.STATE) == "sent"


def test_poll_model_passes_qtmodeltester_and_counts_polls_awaiting_my_vote(
    qtmodeltester: Any,
) -> None:
    model = PollListModel(name_of={"ann": "Ann"}.get)
    qtmodeltester.check(model, force_py=True)
    awaiting: list[int] = []
    model.awaiting_vote_changed.connect(awaiting.append)
    model.set_viewer("bob", is_host=False)

    def p(pid: str, votes: tuple[int, int] = (0, 0), **kw: Any) -> Poll:
        opts = (PollOption("Yes", votes[0]), PollOption("No", votes[1]))
        return Poll(pid, f"{pid}?", opts, kw.get("closed", False), kw.get("by", "ann"))

    model.book.reset([p("p1"), p("p2", by="bob")])
    model.book.upsert(p("p1", (1, 0)))
    model.book.record_vote("p1", 0)
    model.book.upsert(p("p2", (0, 1), closed=True, by="bob"))
    assert awaiting == [1, 0]  # Bob's own poll p2 never waits for Bob's attention
    row = model.book.row_of("p1")
    assert row is not None
    idx = model.index(row)
    assert [(o.votes, o.percent, o.mine) for o in idx.data(PollRole.RESULTS)] == [
        (1, 100, True),
        (0, 0, False),
    ]
    assert idx.data(PollRole.CAN_VOTE) is False
    assert idx.data(PollRole.CAN_CLOSE) is False  # Bob neither asked it nor hosts
    assert idx.data(PollRole.CREATOR_NAME) == "Ann"


def ack(*people: Participant, polls: tuple[Poll, ...] = ()) -> JoinAck:
    return JoinAck(people[0], people, 0, polls)


def test_participants_controller_rebuilds_on_join_and_reports_only_others(
    qtbot: Any, aloop: Loop
) -> None:
    sock = StubSocket({"raise-hand": {"ok": True}, "lower-hand": RequestError("forbidden", "no")})
    model = ParticipantListModel()
    me = Me("me")
    ctl = ParticipantsController(sock, model, me)  # type: ignore[arg-type]
    joined: list[str] = []
    left: list[str] = []
    hands: list[str] = []
    errors: list[str] = []
    mine: list[bool] = []
    ctl.someone_joined.connect(lambda p: joined.append(p.name))
    ctl.someone_left.connect(lambda p: left.append(p.name))
    ctl.hand_raised.connect(lambda p: hands.append(p.name))
    ctl.error_message.connect(errors.append)
    me.hand_changed.connect(mine.append)

    sock.joined.emit(ack(person("me", "Me"), person("g", "Ghost")))
    sock.joined.emit(ack(person("me", "Me"), person("b", "Bob")))  # reconnect: no ghost
    assert model.names() == ["Bob", "Me (you)"]
    sock.participant_joined.emit(person("c", "Cy"))
    sock.participant_joined.emit(person("c", "Cy"))  # duplicate: one row, one toast
    sock.participant_updated.emit(person("b", "Bob", hand=1))
    sock.participant_updated.emit(person("me", "Me", hand=2))  # our own: no toast
    sock.participant_left.emit("c")
    sock.participant_left.emit("me")  # another connection of ours: we stay
    assert (joined, left, hands) == (["Cy"], ["Cy"], ["Bob"])
    assert model.names() == ["Bob", "Me (you)"]
    assert mine == [False, True] and ctl.my_hand_raised

    assert aloop.run(ctl.set_hand(False))
    assert sock.sent[-1] == ("raise-hand", {"raised": False})
    assert not aloop.run(ctl.lower_hand("b"))
    assert errors == ["Could not lower the hand: no"]


def test_chat_controller_sends_acks_fails_retries_and_counts_unread(
    qtbot: Any, aloop: Loop
) -> None:
    replies: list[Any] = [RequestError("offline", "Not connected to the meeting.")]

    def answer(payload: dict[str, Any]) -> Any:
        if replies:
            raise replies.pop()
        return {
            "message": {
                "id": "m1",
                "from": {"id": "me", "name": "Me"},
                "text": payload["text"],
                "sentAt": "2026-03-01T09:00:00Z",
            }
        }

    sock = StubSocket({"chat-message": answer})
    model = ChatListModel()
    ctl = ChatController(sock, model, Me("me"))  # type: ignore[arg-type]
    unread: list[int] = []
    ctl.unread_changed.connect(unread.append)
    sock.joined.emit(ack(person("me", "Me")))

    async def flow() -> None:
        key = ctl.send("first try\r\n")
        assert model.index(0).data(ChatRole.STATE) == "pending"
        await asyncio.sleep(0.01)
        assert model.index(0).data(ChatRole.STATE) == "failed"
        assert model.index(0).data(ChatRole.ERROR) == "Not connected to the meeting."
        ctl.retry(key)
        await asyncio.sleep(0.01)
        assert model.index(0).data(ChatRole.STATE) == "sent"
        assert model.rowCount() == 1
        assert [p["text"] for _e, p in sock.sent] == ["first try", "first try"]

    aloop.run(flow())
    bob = Person("b", "Bob")
    sock.chat_message.emit(ChatMessage("x1", bob, "hi", T0))
    sock.chat_message.emit(ChatMessage("x1", bob, "hi", T0))  # duplicate
    sock.chat_message.emit(ChatMessage("x2", bob, "there", T0))
    ctl.set_reading(True)
    sock.chat_message.emit(ChatMessage("x3", bob, "seen", T0))
    assert unread == [1, 2, 0]
    assert model.texts() == ["first try", "hi", "there", "seen"]


def test_polls_controller_validates_reports_errors_and_records_the_vote(
    qtbot: Any, aloop: Loop
) -> None:
    wire = {
        "id": "p1",
        "question": "Lunch?",
        "options": [{"text": "Yes", "votes": 0}, {"text": "No", "votes": 0}],
        "closed": False,
        "createdBy": "me",
    }
    voted = {**wire, "options": [{"text": "Yes", "votes": 1}, {"text": "No", "votes": 0}]}
    sock = StubSocket(
        {
            "poll-create": {"poll": wire},
            "poll-vote": {"poll": voted},  # this server does not say myVote
            "poll-close": RequestError("forbidden", "Only the creator or the host"),
        }
    )
    model = PollListModel()
    me = Me("me")
    ctl = PollsController(sock, model, me)  # type: ignore[arg-type]
    started: list[str] = []
    errors: list[str] = []
    ctl.poll_started.connect(lambda p: started.append(p.id))
    ctl.error_message.connect(errors.append)
    sock.joined.emit(ack(person("me", "Me", host=False)))
    me.update(person("me", "Me", host=False))  # the roster's job in a window

    from conference_gui.domain.polls import PollInputError

    with pytest.raises(PollInputError):
        aloop.run(ctl.create("Lunch?", ["Yes"]))
    created = aloop.run(ctl.create(" Lunch? ", ["Yes", "No", ""]))
    assert created is not None
    assert sock.sent[-1] == ("poll-create", {"question": "Lunch?", "options": ["Yes", "No"]})
    sock.poll_created.emit(Poll.from_wire(wire))  # our own poll's broadcast: no toast
    assert started == [] and model.rowCount() == 1
    assert aloop.run(ctl.vote("p1", 0))
    assert model.index(0).data(PollRole.MY_VOTE) == 0
    assert not aloop.run(ctl.close("p1"))
    assert errors == ["Could not close the poll: Only the creator or the host"]
    assert ctl.last_error == errors[-1]
