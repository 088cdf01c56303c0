"""Tried as a new user would, with keys and a small screen (issue 14, items 2, 3 and 11)."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QToolButton, QWidget

from tests.conftest import Loop, Meeting, until


def focus_chain(start: QWidget, within: QWidget, limit: int = 40) -> list[QWidget]:
    """The widgets Tab visits inside ``within``, starting at ``start``."""
    seen: list[QWidget] = []
    current = start
    for _ in range(limit):
        if current in seen:
            break
        if within.isAncestorOf(current) and current.isVisible() and current.isEnabled():
            seen.append(current)
        QTest.keyClick(current, Qt.Key.Key_Tab)
        nxt = QApplication.focusWidget()
        if nxt is None or nxt is current:
            break
        current = nxt
    return seen


def reading_position(w: QWidget, root: QWidget) -> tuple[int, int]:
    top_left = w.mapTo(root, QPoint(0, 0))
    return (top_left.y() // 8, top_left.x())  # rows of 8 px: same line, then left to right


def test_ann_creates_a_poll_with_the_keyboard_alone(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    polls = ann.features["polls"]
    ann.activateWindow()

    async def story() -> None:
        await until(lambda: ann.socket.is_ready)
        ann.findChild(QToolButton, "pollsButton").click()
        await until(lambda: polls.dock.isVisible())
        polls.dock.new_button.click()
        form = polls.dock.form
        await until(lambda: QApplication.focusWidget() is form.question, what="question focused")
        QTest.keyClicks(form.question, "Lunch?")
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        QTest.keyClicks(QApplication.focusWidget(), "Pizza")
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        QTest.keyClicks(QApplication.focusWidget(), "Sushi")
        assert form.values() == ("Lunch?", ["Pizza", "Sushi"])
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        await until(lambda: polls.model.rowCount() == 1, what="poll created")
        card = polls.dock.cards[0]
        assert [r[0] for r in card.results()] == ["Pizza", "Sushi"]

    aloop.run(story())


def test_tab_follows_reading_order_in_every_dock(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    ann.resize(1200, 800)

    async def story() -> None:
        await until(lambda: ann.socket.is_ready)
        ann.features["polls"].dock.show()
        ann.features["polls"].dock.raise_()
        ann.features["polls"].dock.new_button.click()
        for name in ("resources", "participants", "chat", "polls"):
            dock: QDockWidget = ann.features[name].dock
            dock.show()
            dock.raise_()
            await until(lambda d=dock: d.isVisible())
            body = dock.widget()
            focusable = [
                w for w in body.findChildren(QWidget)
                if w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.isVisible() and w.isEnabled()
            ]
            first = min(focusable, key=lambda w: reading_position(w, body))
            first.setFocus(Qt.FocusReason.TabFocusReason)
            chain = focus_chain(first, body)
            positions = [reading_position(w, body) for w in chain]
            names = [w.objectName() or type(w).__name__ for w in chain]
            assert positions == sorted(positions), f"{name}: Tab visits {names}"
            assert len(chain) == len(focusable), f"{name}: Tab misses some of {names}"
            if name == "polls":
                assert [n for n in names if n.startswith("poll")][:4] == [
                    "pollQuestionInput", "pollOptionInput0", "pollOptionInput1",
                    "pollAddOptionButton",
                ], names

    aloop.run(story())


def test_opening_the_poll_form_does_not_grow_the_window(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    ann.resize(760, 420)  # a small screen (the offscreen one is 800×600)

    async def story() -> None:
        await until(lambda: ann.socket.is_ready)
        polls = ann.features["polls"]
        ann.findChild(QToolButton, "pollsButton").click()
        await until(lambda: polls.dock.isVisible())
        before = ann.size()
        polls.dock.new_button.click()
        for _ in range(8):  # add every option the form allows
            polls.dock.form.add_button.click()
        await until(lambda: polls.dock.form.isVisible())
        # Let the layout settle. Not processEvents(): inside this task it would run
        # another task's step ("Cannot enter into task"), which then never ends.
        await asyncio.sleep(0.1)
        assert ann.size() == before
        control_bar = ann.findChild(QWidget, "controlBar")
        assert ann.rect().contains(control_bar.geometry())

    aloop.run(story())


def test_side_docks_share_the_right_area_as_tabs(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    docks = [ann.features[n].dock for n in ("resources", "participants", "chat", "polls")]
    for dock in docks:
        dock.show()
    QApplication.processEvents()
    tabbed = set(ann.tabifiedDockWidgets(docks[0]))
    assert tabbed == set(docks[1:])
    assert all(ann.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea for d in docks)
    assert docks[0].width() >= 300  # wide enough for a file's name, size and sharer
