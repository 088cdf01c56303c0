"""The docks' widgets without a server: keys, plain-text painting, 10,000 messages."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem

from conference_gui.domain.meeting import ChatMessage, JoinAck, Participant
from conference_gui.domain.resources import Person
from conference_gui.models.chat_model import ChatController, ChatListModel, ChatRole
from conference_gui.models.me import Me
from conference_gui.models.polls_model import PollListModel, PollsController
from conference_gui.ui.chat_dock import MAX_LINES, ChatDelegate, ChatDock, wrap_lines
from conference_gui.ui.polls_dock import PollsDock
from tests.meeting.stubs import StubSocket

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
BOB = Person("bob", "Bob")


def chat_dock(qtbot: Any) -> tuple[ChatDock, ChatListModel, StubSocket]:
    sock = StubSocket({"chat-message": RuntimeError("not in these tests")})
    model = ChatListModel()
    dock = ChatDock(model, ChatController(sock, model, Me("me")))  # type: ignore[arg-type]
    qtbot.addWidget(dock)
    return dock, model, sock


def test_enter_sends_shift_enter_adds_a_line_and_blank_text_is_not_sent(qtbot: Any) -> None:
    dock, _model, _sock = chat_dock(qtbot)
    sent: list[str] = []
    dock._controller.send = lambda text: sent.append(text) or "k"  # type: ignore[method-assign]
    box = dock.input
    QTest.keyClicks(box, "one")
    QTest.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(box, "two")
    assert box.toPlainText() == "one\ntwo" and sent == []
    QTest.keyClick(box, Qt.Key.Key_Enter)  # keypad Enter sends too
    assert sent == ["one\ntwo"] and box.toPlainText() == ""
    assert not dock.send_button.isEnabled()  # nothing typed, nothing to send


def test_too_long_text_is_kept_and_explained(qtbot: Any) -> None:
    dock, model, _sock = chat_dock(qtbot)
    dock.show()
    dock.input.setPlainText("x" * 4001)
    dock.send()
    assert model.rowCount() == 0
    assert dock.input.toPlainText() == "x" * 4001
    assert dock.problem.isVisible() and "4000" in dock.problem.text()


def _ink_columns(image: QImage, band: QRect) -> tuple[int, int]:
    """Leftmost and rightmost column with dark pixels inside ``band``."""
    xs = [
        x
        for x in range(band.left(), band.right() + 1)
        for y in range(band.top(), band.bottom() + 1)
        if QColor(image.pixel(x, y)).lightness() < 128
    ]
    assert xs, "nothing painted"
    return min(xs), max(xs)


def test_markup_is_painted_as_the_characters_typed(qtbot: Any) -> None:
    """The body line is as wide as the literal text, not as the 'rendered' HTML."""
    _dock, model, sock = chat_dock(qtbot)
    sock.joined.emit(JoinAck(Participant("me", "Me", "host", False), (), 0, ()))
    literal = "<b>BOLD</b>"
    sock.chat_message.emit(ChatMessage("m1", BOB, literal, T0))
    delegate = ChatDelegate()
    delegate.set_model(model)
    option = QStyleOptionViewItem()
    option.font = QFont(QApplication.font())
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Text, QColor("black"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#dddddd"))  # hide the header
    option.palette = palette
    index = model.index(0)
    size = delegate.sizeHint(option, index)
    option.rect = QRect(0, 0, 600, size.height())
    image = QImage(QSize(600, size.height()), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    delegate.paint(painter, option, index)
    painter.end()
    fm = QFontMetrics(option.font)
    body = QRect(0, 6 + fm.height() + 2, 600, fm.lineSpacing())
    left, right = _ink_columns(image, body)
    width = right - left + 1
    assert abs(width - fm.horizontalAdvance(literal)) <= 3
    assert width > fm.horizontalAdvance("BOLD") + 20
    assert index.data(Qt.ItemDataRole.DisplayRole) == literal


def test_long_messages_wrap_keep_line_breaks_and_stop_at_max_lines(qapp: Any) -> None:
    font = QFont(QApplication.font())
    lines, cut = wrap_lines("first\nsecond", font, 500, MAX_LINES)
    assert lines == ["first", "second"] and not cut
    lines, cut = wrap_lines("word " * 400, font, 200, MAX_LINES)
    assert len(lines) == MAX_LINES and cut
    lines, _ = wrap_lines("x" * 100, font, 100, MAX_LINES)  # no spaces: wraps anywhere
    assert len(lines) > 1 and "".join(lines) == "x" * 100


def test_ten_thousand_messages_stay_smooth(qtbot: Any) -> None:
    """Appending to a 10,000-message history keeps the view following the newest
    message. (How long a pass blocks the GUI is measured in
    bench/bench_chat_history.py, not asserted here: timings belong in benchmarks.)"""
    dock, model, sock = chat_dock(qtbot)
    dock.resize(380, 600)
    dock.show()
    qtbot.waitExposed(dock)
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit"]
    history = [
        ChatMessage(f"m{i}", BOB, " ".join(words[: 1 + i % 8] * (1 + i % 7)), T0)
        for i in range(10_000)
    ]
    model.history.receive_history(history)
    deadline = time.monotonic() + 20
    bar = dock.view.verticalScrollBar()
    while time.monotonic() < deadline:
        QApplication.processEvents()
        if bar.maximum() > 0 and bar.value() == bar.maximum():
            break
    for i in range(5):
        sock.chat_message.emit(ChatMessage(f"new{i}", BOB, f"message {i} " * 20, T0))
        for _ in range(40):
            QApplication.processEvents()
    assert model.rowCount() == 10_005
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=10_000)  # still following
    last = model.index(model.rowCount() - 1)
    assert dock.view.visualRect(last).intersects(dock.view.viewport().rect())
    assert last.data(ChatRole.TEXT).startswith("message 4")


def test_poll_form_checks_input_before_sending(qtbot: Any) -> None:
    sock = StubSocket({})
    model = PollListModel()
    dock = PollsDock(model, PollsController(sock, model, Me("me")))  # type: ignore[arg-type]
    qtbot.addWidget(dock)
    dock.show()
    dock.new_button.click()
    form = dock.form
    assert form.isVisible() and len(form.option_edits) == 2
    form.submitted.disconnect()  # only the form's own checks here (no loop, no server)
    submitted: list[Any] = []
    form.submitted.connect(lambda q, o: submitted.append((q, o)))
    form.question.setText("Lunch?")
    form.option_edits[0].setText("Pizza")
    form.create_button.click()
    assert submitted == [] and form.error.text() == "Give at least 2 options."
    for _ in range(20):
        form.add_button.click()
    assert len(form.option_edits) == 10 and not form.add_button.isEnabled()
    form.option_edits[1].setText("pizza")
    form.create_button.click()
    assert "twice" in form.error.text() and submitted == []
    form.option_edits[1].setText("Sushi")
    form.create_button.click()
    assert submitted == [("Lunch?", ["Pizza", "Sushi"] + [""] * 8)]
    assert not form.error.isVisible()
    form.cancel_button.click()
    assert not form.isVisible() and dock.new_button.isEnabled()
    assert len(form.option_edits) == 2 and form.question.text() == ""
