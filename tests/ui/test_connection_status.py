"""ConnectionStatusLabel: human texts, accessible names, the state property."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from conference_gui.ui.connection_status import STATES, ConnectionStatusLabel


@pytest.fixture
def label(qtbot: QtBot) -> ConnectionStatusLabel:
    widget = ConnectionStatusLabel()
    qtbot.addWidget(widget)
    return widget


@pytest.mark.parametrize(
    ("state", "detail", "text"),
    [
        ("connecting", "", "Connecting…"),
        ("connected", "", "Connected"),
        ("connected", "http://127.0.0.1:8765", "Connected"),
        ("reconnecting", "", "Reconnecting…"),
        ("reconnecting", "attempt 3", "Reconnecting (attempt 3)…"),
        ("disconnected", "", "Disconnected"),
        ("error", "server unreachable", "Error: server unreachable"),
        ("error", "", "Connection error"),
    ],
)
def test_texts(label: ConnectionStatusLabel, state: str, detail: str, text: str) -> None:
    label.show_state(state, detail)
    assert label.text() == text
    assert label.accessibleName() == text
    assert label.toolTip() == (detail or text)
    assert label.property("connectionState") == state
    assert label.state() == state


def test_object_name_and_plain_text(label: ConnectionStatusLabel) -> None:
    assert label.objectName() == "connectionStatus"
    assert label.textFormat() == Qt.TextFormat.PlainText
    label.show_state("error", "<b>bad token</b>")
    assert label.text() == "Error: <b>bad token</b>"


def test_starts_connecting(label: ConnectionStatusLabel) -> None:
    assert label.state() == "connecting"
    assert label.text() == "Connecting…"


def test_state_changed_signal_only_on_change(qtbot: QtBot, label: ConnectionStatusLabel) -> None:
    seen: list[str] = []
    label.connectionStateChanged.connect(seen.append)
    label.show_state("connected")
    label.show_state("connected")
    label.show_state("reconnecting", "attempt 1")
    label.show_state("reconnecting", "attempt 2")
    assert seen == ["connected", "reconnecting"]
    assert label.text() == "Reconnecting (attempt 2)…"


def test_unknown_state_is_an_error(label: ConnectionStatusLabel) -> None:
    with pytest.raises(ValueError, match="online"):
        label.show_state("online")


def test_dot_colour_tells_the_states_apart(label: ConnectionStatusLabel) -> None:
    label.resize(220, 24)

    def dot_color() -> str:
        """The most saturated colour left of the text (where the dot is)."""
        image = label.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
        strip = [
            image.pixelColor(x, y)
            for x in range(label.contentsRect().left())
            for y in range(image.height())
        ]
        best = max(strip, key=lambda c: (c.hsvSaturation(), -c.value()))
        return best.name()

    colors: set[str] = set()
    for state in STATES:
        label.show_state(state)
        colors.add(dot_color())
    # connecting and reconnecting share amber; the rest differ.
    assert len(colors) == 4
    label.show_state("connected")
    green = QColor(dot_color())
    assert green.green() > green.red()
    label.show_state("error")
    red = QColor(dot_color())
    assert red.red() > red.green()
