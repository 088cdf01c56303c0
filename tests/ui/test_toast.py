"""ToastHost: plain text, bottom-right stacking, auto-dismiss, click, off switch."""

from __future__ import annotations

import itertools

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QMainWindow, QStatusBar, QWidget
from pytestqt.qtbot import QtBot

from conference_gui.ui.toast import Toast, ToastHost


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def host(window: QWidget) -> ToastHost:
    return ToastHost(window)


def _visible_toasts(window: QWidget) -> list[Toast]:
    return [t for t in window.findChildren(Toast) if t.isVisible()]


def test_text_is_plain_never_html(host: ToastHost, window: QWidget) -> None:
    toast = host.show_toast("<b>x</b> & <i>y</i>")
    assert toast is not None
    label = toast.findChild(QLabel, "toastText")
    assert label is not None
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == "<b>x</b> & <i>y</i>"
    assert toast.accessibleName() == "<b>x</b> & <i>y</i>"


def test_markup_is_shown_as_characters(host: ToastHost, window: QWidget) -> None:
    tagged = host.show_toast("<b>x</b>")
    bare = host.show_toast("x")
    assert tagged is not None and bare is not None
    # The tags take room on screen: "<b></b>" is drawn, not interpreted.
    label = tagged.findChild(QLabel, "toastText")
    assert label is not None
    tags = QFontMetrics(label.font()).horizontalAdvance("<b></b>")
    assert tagged.width() - bare.width() >= tags - 2


def test_toast_sits_in_the_bottom_right_corner(host: ToastHost, window: QWidget) -> None:
    toast = host.show_toast("File shared: report.pdf", "file-pdf")
    assert toast is not None and toast.isVisible()
    geometry = toast.geometry()
    assert window.rect().contains(geometry)
    assert window.width() - geometry.right() < 40
    assert window.height() - geometry.bottom() < 40
    assert geometry.left() > window.width() // 3
    icon_label = toast.findChild(QLabel, "toastIcon")
    assert icon_label is not None and not icon_label.pixmap().isNull()


def test_toasts_follow_the_window_when_it_resizes(
    qtbot: QtBot, host: ToastHost, window: QWidget
) -> None:
    toast = host.show_toast("hello")
    assert toast is not None
    window.resize(800, 600)
    qtbot.waitUntil(lambda: 800 - toast.geometry().right() < 40, timeout=1000)
    assert 600 - toast.geometry().bottom() < 40


# The offscreen platform plugin warns when a QMainWindow is shown.
@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_toast_is_above_a_main_windows_status_bar(qtbot: QtBot) -> None:
    main = QMainWindow()
    qtbot.addWidget(main)
    status = QStatusBar()
    main.setStatusBar(status)
    main.setCentralWidget(QWidget())
    main.resize(600, 400)
    main.show()
    qtbot.waitExposed(main)
    toast = ToastHost(main).show_toast("hello")
    assert toast is not None
    assert toast.geometry().bottom() < status.geometry().top()


def test_auto_dismiss(qtbot: QtBot, host: ToastHost, window: QWidget) -> None:
    toast = host.show_toast("bye soon", msec=50)
    assert toast is not None
    timers = toast.findChildren(QTimer)
    assert len(timers) == 1 and timers[0].isActive()  # the timer belongs to the toast
    qtbot.waitUntil(lambda: not host.toasts(), timeout=2000)
    qtbot.waitUntil(lambda: not shiboken6.isValid(toast), timeout=2000)  # deleted, timer too
    assert _visible_toasts(window) == []


def test_click_dismisses(qtbot: QtBot, host: ToastHost, window: QWidget) -> None:
    toast = host.show_toast("click me", msec=60_000)
    assert toast is not None
    qtbot.mouseClick(toast, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert host.toasts() == []
    assert not toast.isVisible()


def test_at_most_three_stacked_oldest_dropped(host: ToastHost, window: QWidget) -> None:
    for n in range(5):
        host.show_toast(f"toast {n}", msec=60_000)
    toasts = host.toasts()
    assert [t.text() for t in toasts] == ["toast 2", "toast 3", "toast 4"]
    assert set(_visible_toasts(window)) == set(toasts)
    # Stacked upwards, newest at the bottom, no overlap.
    for older, newer in itertools.pairwise(toasts):
        assert older.geometry().bottom() < newer.geometry().top()
    assert window.height() - toasts[-1].geometry().bottom() < 40


def test_disabled_shows_nothing(qtbot: QtBot, host: ToastHost, window: QWidget) -> None:
    host.show_toast("visible", msec=60_000)
    with qtbot.waitSignal(host.enabledChanged) as blocker:
        host.setEnabled(False)
    assert blocker.args == [False]
    assert host.property("enabled") is False
    assert host.toasts() == []  # turning toasts off clears the visible ones
    assert host.show_toast("hidden") is None
    assert _visible_toasts(window) == []
    host.setProperty("enabled", True)
    assert host.isEnabled()
    assert host.show_toast("back") is not None


def test_closing_the_window_leaves_no_timers(qtbot: QtBot) -> None:
    window = QWidget()
    window.resize(300, 200)
    window.show()
    host = ToastHost(window)
    toast = host.show_toast("x", msec=60_000)
    assert toast is not None
    timer = toast.findChildren(QTimer)[0]
    window.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(window), timeout=2000)
    assert not shiboken6.isValid(timer)
    assert not shiboken6.isValid(host)
