"""The meeting's control bar: the buttons features add, then Leave."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QSizePolicy, QToolBar, QToolButton, QWidget

from conference_gui.ui.badge_button import BadgeToolButton
from conference_gui.ui.icons import icon


class ControlBar(QToolBar):
    """Buttons along the bottom of the meeting window.

    Features add their buttons (a dock's toggle with a badge, a call toggle);
    a badge always observes a model, the bar keeps no number of its own.

    Signals:
        leave_requested(): the person pressed Leave.
    """

    leave_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Meeting controls"), parent)
        self.setObjectName("controlBar")
        self.setMovable(False)
        self.setFloatable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)

        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._spacer = self.addWidget(spacer)  # meeting buttons go before it, Leave after

        self.leave_action = QAction(icon("leave"), self.tr("Leave"), self)
        self.leave_action.setObjectName("leaveAction")
        self.leave_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.leave_action.triggered.connect(self.leave_requested)
        self.addAction(self.leave_action)
        leave_button = self.widgetForAction(self.leave_action)
        if leave_button is not None:
            leave_button.setObjectName("leaveButton")

    def add_dock_button(
        self,
        object_name: str,
        label: str,
        icon_name: str,
        action: QAction,
        describe: Callable[[int], str] | None = None,
    ) -> BadgeToolButton:
        """A checkable button with a badge mirroring a dock's toggle action, before the spacer."""
        button = BadgeToolButton(label, self, describe=describe)
        button.setObjectName(object_name)
        button.setIcon(icon(icon_name))
        button.setText(label)
        button.setCheckable(True)
        button.setChecked(action.isChecked())
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        button.clicked.connect(lambda checked: _show_dock(action, checked))
        action.toggled.connect(button.setChecked)
        self.insertWidget(self._spacer, button)
        return button

    def add_tool_button(self, button: QToolButton) -> None:
        """Any other button (raise hand, microphone, camera), before the spacer."""
        self.insertWidget(self._spacer, button)


def _show_dock(toggle: QAction, shown: bool) -> None:
    """Show or hide a dock through its toggle action.

    ``setChecked`` alone would not do: a dock's toggleViewAction acts on
    ``triggered``. Showing also raises the dock when it shares a tab.
    """
    if toggle.isChecked() != shown:
        toggle.trigger()
    if shown:
        dock = toggle.parent()
        if isinstance(dock, QDockWidget):
            dock.raise_()
