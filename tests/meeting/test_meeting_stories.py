"""Meeting features with real windows against the real server.

Three people are in a meeting, each with their own window (and so their own
single socket). Whatever one of them does shows in every window: who is here,
raised hands, chat, polls. A late joiner starts from the truth.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QListView, QStyleOptionViewItem, QToolButton

from conference_gui.domain.chat import ChatEntry
from conference_gui.domain.meeting import SignalMessage
from conference_gui.models.chat_model import ChatRole
from conference_gui.models.participants_model import ParticipantRole
from conference_gui.server import ServerThread
from conference_gui.services.socket_service import RequestError
from conference_gui.ui.chat_dock import wrap_lines
from tests.conftest import Loop, Meeting, until

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def ready(*wins: Any) -> bool:
    return all(w.socket.is_ready for w in wins)


def people(win: Any) -> list[str]:
    """What the participants list shows, top to bottom."""
    view = win.findChild(QListView, "participantList")
    model = view.model()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def hands(win: Any) -> list[str]:
    view = win.findChild(QListView, "participantList")
    model = view.model()
    return [
        model.index(r, 0).data(ParticipantRole.NAME)
        for r in range(model.rowCount())
        if model.index(r, 0).data(ParticipantRole.HAND_RAISED)
    ]


def badge(win: Any, button: str) -> int:
    found = win.findChild(QToolButton, button)
    assert found is not None, button
    return int(found.property("badgeCount"))


def chat_texts(win: Any) -> list[str]:
    model = win.findChild(QListView, "chatList").model()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def toasts(win: Any) -> list[str]:
    return [t.text() for t in win.toasts.toasts()]


def poll_results(win: Any) -> list[list[tuple[str, int, int]]]:
    return [card.results() for card in win.features["polls"].dock.cards]


def test_joins_and_leaves_show_everywhere_with_one_socket_per_window(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)

    async def story() -> None:
        await until(lambda: ready(ann), what="Ann connected")
        assert people(ann) == ["Ann (you)"]
        bob_member = meeting.join("Bob")
        bob = windows(meeting, bob_member)
        await until(lambda: ready(bob))
        carol = windows(meeting, meeting.join("Carol"))
        everyone = (ann, bob, carol)
        await until(lambda: ready(*everyone) and all(len(people(w)) == 3 for w in everyone))
        assert people(ann) == ["Ann (you)", "Bob", "Carol"]  # host first, then names
        assert people(bob) == ["Ann", "Bob (you)", "Carol"]
        assert people(carol) == ["Ann", "Bob", "Carol (you)"]
        assert [badge(w, "participantsButton") for w in everyone] == [3, 3, 3]
        assert server.connection_count(meeting.session_id) == 3
        # Others' arrivals are announced; nobody is told about themselves.
        assert toasts(ann) == ["Bob joined", "Carol joined"]
        assert toasts(bob) == ["Carol joined"]
        assert toasts(carol) == []
        # A file Bob shares is announced to the others, not to Bob.
        meeting.upload(bob_member, "notes.txt", b"minutes")
        await until(lambda: "Bob shared notes.txt" in toasts(carol))
        await until(lambda: "Bob shared notes.txt" in toasts(ann))
        assert toasts(bob) == ["Carol joined"]

        ann.settings.set_toasts_enabled(False)  # View ▸ Show notifications, off
        await carol.shutdown()
        await until(
            lambda: people(ann) == ["Ann (you)", "Bob"] and people(bob) == ["Ann", "Bob (you)"]
        )
        assert badge(ann, "participantsButton") == badge(bob, "participantsButton") == 2
        assert "Carol left" in toasts(bob)
        assert toasts(ann) == []  # turned off: nothing new, the old ones went away
        assert server.connection_count(meeting.session_id) == 2

        # Everyone drops and comes back: still one socket each, nobody listed twice.
        old = ann.socket.sid
        server.disconnect_all(meeting.session_id)
        await until(lambda: ready(ann, bob) and ann.socket.sid != old, what="reconnected")
        await until(
            lambda: people(ann) == ["Ann (you)", "Bob"] and people(bob) == ["Ann", "Bob (you)"]
        )
        assert server.connection_count(meeting.session_id) == 2

    aloop.run(story())


def test_a_raised_hand_shows_first_everywhere_and_the_host_lowers_it(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))
    carol = windows(meeting, meeting.join("Carol"))
    everyone = (ann, bob, carol)

    async def story() -> None:
        await until(lambda: ready(*everyone) and all(len(people(w)) == 3 for w in everyone))
        carol_button = carol.findChild(QToolButton, "raiseHandButton")
        assert carol_button.isCheckable() and not carol_button.isChecked()
        assert (
            carol.features["participants"].raise_hand_action.shortcut().toString() == "Ctrl+Shift+H"
        )

        carol_button.click()  # Carol first ...
        await until(lambda: all(hands(w) == ["Carol"] for w in everyone))
        bob.activateWindow()
        await until(lambda: bob.isActiveWindow(), what="Bob's window active")
        QTest.keyClick(bob, Qt.Key.Key_H, CTRL_SHIFT)  # ... then Bob, by shortcut
        await until(lambda: all(hands(w) == ["Carol", "Bob"] for w in everyone))
        # Raised hands first, in the order they went up; then the host.
        assert people(ann) == ["Carol", "Bob", "Ann (you)"]
        assert people(bob) == ["Carol", "Bob (you)", "Ann"]
        assert carol_button.isChecked() and carol_button.text() == "Lower hand"
        assert "Carol raised their hand" in toasts(ann)
        assert "Bob raised their hand" in toasts(carol)
        assert "Carol raised their hand" not in toasts(carol)  # not told about her own hand

        # Bob may not lower Carol's hand; the server says no and nothing changes.
        assert not bob.features["participants"].dock.lower_button.isVisible()
        assert not await bob.features["participants"].controller.lower_hand(carol.meeting.user_id)

        # Ann (host) selects Carol and lowers her hand.
        dock = ann.features["participants"].dock
        dock.show()
        dock.raise_()  # the front tab of the side area, as its button does
        view = ann.findChild(QListView, "participantList")
        view.setCurrentIndex(view.model().index(0, 0))
        assert dock.lower_button.isVisible() and dock.lower_button.isEnabled()
        dock.lower_button.click()
        await until(lambda: all(hands(w) == ["Bob"] for w in everyone), what="Carol lowered")
        await until(lambda: not carol_button.isChecked(), what="Carol's button follows")
        assert carol_button.text() == "Raise hand"
        assert people(carol) == ["Bob", "Ann", "Carol (you)"]

    aloop.run(story())


def test_chat_shows_html_literally_and_the_unread_count_rises_while_closed(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))
    carol = windows(meeting, meeting.join("Carol"))
    ann.features["chat"].dock.show()
    ann.features["chat"].dock.raise_()  # the front tab: Ann is reading
    bob.features["chat"].dock.hide()
    carol.features["chat"].dock.hide()
    everyone = (ann, bob, carol)

    async def story() -> None:
        await until(lambda: ready(*everyone))
        box = ann.features["chat"].dock.input
        box.setFocus()
        QTest.keyClicks(box, "<b>not bold</b>")
        QTest.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # new line
        QTest.keyClicks(box, "& <a href='x'>no link</a>")
        assert box.toPlainText() == "<b>not bold</b>\n& <a href='x'>no link</a>"
        QTest.keyClick(box, Qt.Key.Key_Return)  # Enter sends
        sent = "<b>not bold</b>\n& <a href='x'>no link</a>"
        assert box.toPlainText() == ""
        assert chat_texts(ann) == [sent]  # listed at once, as pending until acked
        await until(lambda: all(chat_texts(w) == [sent] for w in everyone))
        model = ann.features["chat"].model
        await until(lambda: model.index(0).data(ChatRole.STATE) == "sent", what="acked")
        # What is painted: the same characters, line by line, nothing interpreted.
        e = bob.features["chat"].model.index(0).data(ChatRole.ENTRY)
        assert isinstance(e, ChatEntry) and e.sender.name == "Ann"
        lines, cut = wrap_lines(e.text, bob.font(), 2000, 12)
        assert "\n".join(lines) == sent and not cut

        assert [badge(w, "chatButton") for w in everyone] == [0, 1, 1]
        carol.features["chat"].controller.send("second")
        await until(lambda: badge(bob, "chatButton") == 2)
        assert badge(carol, "chatButton") == 1  # her own message is not unread
        assert badge(ann, "chatButton") == 0  # Ann has the chat open

        bob.findChild(QToolButton, "chatButton").click()  # open the chat
        await until(lambda: bob.features["chat"].dock.isVisible())
        assert badge(bob, "chatButton") == 0
        assert chat_texts(bob) == [sent, "second"]

    aloop.run(story())


def test_a_failed_message_says_so_and_retry_sends_it_once(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))
    dock = ann.features["chat"].dock
    dock.show()
    dock.raise_()

    async def story() -> None:
        await until(lambda: ready(ann, bob))
        server.disconnect_all(meeting.session_id)
        await until(lambda: not ann.socket.is_ready, what="Ann offline")
        dock.input.setPlainText("sent while offline")
        dock.send()
        model = ann.features["chat"].model
        await until(lambda: model.index(0).data(ChatRole.STATE) == "failed")
        assert model.index(0).data(ChatRole.ERROR) == "Not connected to the meeting."
        await until(lambda: ready(ann, bob), what="back online")

        # Click the row's Retry link.
        view = dock.view
        index = model.index(0)
        option = QStyleOptionViewItem()
        view.initViewItemOption(option)
        option.rect = view.visualRect(index)
        entry = index.data(ChatRole.ENTRY)
        link: QPoint = view.chat_delegate._retry_rect(option, entry).center()
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=link)
        await until(lambda: model.index(0).data(ChatRole.STATE) == "sent", what="retried")
        await until(lambda: chat_texts(bob) == ["sent while offline"])
        await asyncio.sleep(0.1)
        assert chat_texts(ann) == chat_texts(bob) == ["sent while offline"]

    aloop.run(story())


def test_a_poll_is_voted_in_every_window_and_a_late_joiner_sees_it(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))
    carol = windows(meeting, meeting.join("Carol"))
    everyone = [ann, bob, carol]

    async def story() -> None:
        await until(lambda: ready(*everyone) and all(len(people(w)) == 3 for w in everyone))
        polls = ann.features["polls"].dock
        polls.show()
        polls.new_button.click()
        form = polls.form
        form.question.setText("Where do we have lunch?")
        form.option_edits[0].setText("Pizza")
        form.option_edits[1].setText("Sushi")
        form.add_button.click()
        form.option_edits[2].setText("Salad")
        form.create_button.click()
        await until(lambda: all(len(w.features["polls"].dock.cards) == 1 for w in everyone))
        await until(lambda: form.isHidden(), what="form closes after success")
        # Waiting for Bob's and Carol's votes; Ann's own poll needs no badge for Ann.
        assert [badge(w, "pollsButton") for w in everyone] == [0, 1, 1]
        assert "Ann started a poll: Where do we have lunch?" in toasts(bob)
        assert not any("poll" in t for t in toasts(ann))

        def card(w: Any) -> Any:
            return w.features["polls"].dock.cards[0]

        card(bob).vote_buttons[0].click()
        card(carol).vote_buttons[1].click()
        card(ann).vote_buttons[0].click()
        expected = [[("Pizza", 2, 67), ("Sushi", 1, 33), ("Salad", 0, 0)]]
        await until(lambda: all(poll_results(w) == expected for w in everyone), what="bars")
        # After voting, each card offers to change the vote: the chosen option says
        # "Your vote" (disabled), the others "Change" — until the poll closes.
        await until(
            lambda: all(b.text() != "Vote" for w in everyone for b in card(w).vote_buttons),
            what="voted",
        )
        assert [b.text() for b in card(carol).vote_buttons] == ["Change", "Your vote", "Change"]
        assert not card(carol).vote_buttons[1].isEnabled()
        assert [badge(w, "pollsButton") for w in everyone] == [0, 0, 0]
        assert [b.result.mine for b in card(carol).bars] == [False, True, False]
        card(carol).vote_buttons[2].click()  # Carol changes her mind: Salad
        changed = [[("Pizza", 2, 67), ("Sushi", 0, 0), ("Salad", 1, 33)]]
        await until(lambda: all(poll_results(w) == changed for w in everyone), what="changed")
        await until(lambda: [b.result.mine for b in card(carol).bars] == [False, False, True])
        expected = changed
        poll_id = card(bob).poll_id
        assert await bob.features["polls"].controller.vote(poll_id, 0)  # the same: no change
        await asyncio.sleep(0.2)
        assert poll_results(bob) == expected
        assert card(bob).close_button.isHidden()  # neither asked it nor host
        assert not card(ann).close_button.isHidden()

        dave = windows(meeting, meeting.join("Dave"))
        everyone.append(dave)
        await until(lambda: ready(dave) and len(dave.features["polls"].dock.cards) == 1)
        assert poll_results(dave) == expected
        assert people(dave) == ["Ann", "Bob", "Carol", "Dave (you)"]
        assert badge(dave, "pollsButton") == 1
        assert not card(dave).vote_buttons[2].isHidden()

        card(ann).close_button.click()
        await until(lambda: all(not card(w).close_button.isVisible() for w in everyone))
        await until(lambda: all(bool(card(w).property("closed")) for w in everyone))
        assert all(b.isHidden() for w in everyone for b in card(w).vote_buttons)
        assert badge(dave, "pollsButton") == 0
        assert poll_results(dave) == expected
        assert server.connection_count(meeting.session_id) == 4

    aloop.run(story())


def test_a_signal_reaches_exactly_its_addressee(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))
    carol = windows(meeting, meeting.join("Carol"))
    got: dict[str, list[SignalMessage]] = {"ann": [], "bob": [], "carol": []}
    for name, w in (("ann", ann), ("bob", bob), ("carol", carol)):
        w.socket.signal_received.connect(lambda m, n=name: got[n].append(m))

    async def story() -> None:
        await until(lambda: ready(ann, bob, carol))
        offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1"}
        await ann.socket.send_signal(bob.meeting.user_id, offer)
        await until(lambda: got["bob"])
        await asyncio.sleep(0.2)  # time for a wrong delivery to show up
        assert got == {"ann": [], "bob": [SignalMessage(ann.meeting.user_id, offer)], "carol": []}
        try:
            await bob.socket.send_signal("nobody-here", {"type": "answer"})
        except RequestError as exc:
            assert exc.code == "not_found"
        else:
            raise AssertionError("a signal to a stranger must fail")
        assert server.connection_count(meeting.session_id) == 3

    aloop.run(story())
