"""Push-to-talk: while muted, hold Space to talk — unless you are typing.

An application-wide event filter, because key events go to whichever widget
has focus; it acts only for its own window, only on Space without modifiers,
ignores auto-repeat, and never when a text field (chat, poll form, filter)
has focus, where Space is a character.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)


def typing_in(widget: QWidget | None) -> bool:
    """True when Space typed into ``widget`` would be a character."""
    if widget is None:
        return False
    if isinstance(widget, QLineEdit | QAbstractSpinBox):
        return True
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return not widget.isReadOnly()
    return isinstance(widget, QComboBox) and widget.isEditable()


class PushToTalkKey(QObject):
    """Calls ``press()`` when Space goes down and ``release()`` when it comes up
    (or the window loses focus while it is held)."""

    def __init__(
        self, window: QWidget, press: Callable[[], bool], release: Callable[[], None]
    ) -> None:
        super().__init__(window)
        self._window = window
        self._press = press
        self._release = release
        self._held = False
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def detach(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._let_go()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(
            event, QKeyEvent
        ):
            return self._on_key(event, pressed=kind == QEvent.Type.KeyPress)
        if kind == QEvent.Type.WindowDeactivate and watched is self._window:
            self._let_go()
        return False

    def _on_key(self, event: QKeyEvent, *, pressed: bool) -> bool:
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if event.key() != Qt.Key.Key_Space or modifiers != Qt.KeyboardModifier.NoModifier:
            return False
        if QApplication.activeWindow() is not self._window:
            return False
        if typing_in(QApplication.focusWidget()):
            return False
        if event.isAutoRepeat():
            return self._held  # swallow repeats while talking
        if pressed and not self._held:
            self._held = self._press()
            return self._held
        if not pressed and self._held:
            self._let_go()
            return True
        return False

    def _let_go(self) -> None:
        if self._held:
            self._held = False
            self._release()
