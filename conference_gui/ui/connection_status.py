"""The connection state, always visible: a coloured dot and a short human text."""

from __future__ import annotations

from PySide6.QtCore import Property as _QtProperty
from PySide6.QtCore import QEvent, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QWidget

__all__ = ["STATES", "ConnectionStatusLabel"]

#: The states :meth:`ConnectionStatusLabel.show_state` accepts.
STATES = ("connecting", "connected", "reconnecting", "disconnected", "error")

# Dot colours: readable on light and dark backgrounds alike.
_DOT_COLORS = {
    "connecting": QColor("#f08c00"),
    "connected": QColor("#2f9e44"),
    "reconnecting": QColor("#f08c00"),
    "disconnected": QColor("#868e96"),
    "error": QColor("#e03131"),
}


class ConnectionStatusLabel(QLabel):
    """Label showing the socket's state, e.g. "● Reconnecting (attempt 3)…".

    The text is plain (never rich text); the tooltip carries the detail and the
    accessible name equals the shown text.

    Signals:
        connectionStateChanged(str): the shown state changed.

    Qt property ``connectionState`` (str) is the current state, so a style sheet
    can match ``#connectionStatus[connectionState="error"]``.
    """

    connectionStateChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionStatus")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        self._state = "connecting"
        self._detail = ""
        self._update_margins()
        self._render()

    def _get_state(self) -> str:
        return self._state

    connectionState = _QtProperty(str, _get_state, notify=connectionStateChanged)

    def state(self) -> str:
        return self._state

    def detail(self) -> str:
        return self._detail

    @Slot(str)
    @Slot(str, str)
    def show_state(self, state: str, detail: str = "") -> None:
        """Show ``state`` (one of :data:`STATES`); ``detail`` is a human message,
        e.g. "attempt 3" for reconnecting or "server unreachable" for an error."""
        if state not in STATES:
            raise ValueError(f"unknown connection state {state!r}; expected one of {STATES}")
        changed = state != self._state
        self._state = state
        self._detail = detail.strip()
        self._render()
        if changed:
            # Let style sheets that select on the property re-evaluate.
            self.style().unpolish(self)
            self.style().polish(self)
            self.connectionStateChanged.emit(state)

    def _text_for(self, state: str, detail: str) -> str:
        if state == "connecting":
            return self.tr("Connecting…")
        if state == "connected":
            return self.tr("Connected")
        if state == "reconnecting":
            if detail:
                return self.tr("Reconnecting ({detail})…").format(detail=detail)
            return self.tr("Reconnecting…")
        if state == "disconnected":
            return self.tr("Disconnected")
        if detail:
            return self.tr("Error: {detail}").format(detail=detail)
        return self.tr("Connection error")

    def _render(self) -> None:
        text = self._text_for(self._state, self._detail)
        self.setText(text)
        self.setAccessibleName(text)
        self.setToolTip(self._detail or text)
        self.update()

    # -- the dot ------------------------------------------------------------
    def _dot_diameter(self) -> int:
        return max(8, round(self.fontMetrics().height() * 0.5))

    def _update_margins(self) -> None:
        diameter = self._dot_diameter()
        self.setContentsMargins(diameter + diameter // 2 + 2, 0, 2, 0)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._update_margins()
        elif event.type() == QEvent.Type.LanguageChange:
            self._render()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        diameter = float(self._dot_diameter())
        left = 2.0
        top = (self.height() - diameter) / 2.0
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            color = QColor(_DOT_COLORS[self._state])
            if not self.isEnabled():
                color = self.palette().color(
                    QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText
                )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(QRectF(left, top, diameter, diameter))
        finally:
            painter.end()
