"""Participants: who is here — the dock, its badge, raise hand, join/leave toasts.

The roster itself belongs to the session (the call, polls and chat need it
too); this feature shows it and sends raise/lower-hand requests.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolButton

from conference_gui.domain.meeting import Participant
from conference_gui.domain.wording import plural
from conference_gui.session import MeetingSession
from conference_gui.ui.badge_button import describe_button
from conference_gui.ui.icons import icon
from conference_gui.ui.main_window import MainWindow
from conference_gui.ui.participants_dock import ParticipantsDock


class ParticipantsFeature(QObject):
    """Installs the Participants dock, its button and the raise-hand button.

    Parts: ``model`` (the session's roster), ``controller``, ``dock``, ``button``,
    ``raise_hand_action``, ``raise_hand_button``.
    """

    name = "participants"

    def __init__(self, session: MeetingSession, window: MainWindow) -> None:
        super().__init__(window)
        self._session = session
        self._window = window
        self.model = session.roster
        self.controller = session.participants
        self.dock = ParticipantsDock(self.model, self.controller, session.me, window)
        window.add_dock(self.dock, shortcut="Ctrl+Shift+P")
        self.button = window.control_bar.add_dock_button(
            "participantsButton",
            self.tr("Participants"),
            "participants",
            self.dock.toggleViewAction(),
        )
        self.model.count_changed.connect(self.button.setBadgeCount)
        self.model.count_changed.connect(self._describe)
        self.model.raised_count_changed.connect(self._describe)
        self.button.setBadgeCount(self.model.rowCount())

        self.raise_hand_action = QAction(icon("raise-hand"), self.tr("Raise hand"), window)
        self.raise_hand_action.setObjectName("raiseHandAction")
        self.raise_hand_action.setCheckable(True)
        self.raise_hand_action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.raise_hand_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.raise_hand_action.triggered.connect(self.controller.request_hand)
        window.addAction(self.raise_hand_action)
        self.raise_hand_button = QToolButton(window.control_bar)
        self.raise_hand_button.setObjectName("raiseHandButton")
        self.raise_hand_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.raise_hand_button.setDefaultAction(self.raise_hand_action)
        window.control_bar.add_tool_button(self.raise_hand_button)
        session.me.hand_changed.connect(self._show_my_hand)
        self._show_my_hand(session.me.hand_raised)

        self.controller.error_message.connect(window.show_error)
        self.controller.someone_joined.connect(self._toast_joined)
        self.controller.someone_left.connect(self._toast_left)
        self.controller.hand_raised.connect(self._toast_hand)
        session.socket.state_changed.connect(self._update_online)
        self._update_online()
        self._describe()

    def _update_online(self, *_: object) -> None:
        self.raise_hand_action.setEnabled(self._session.socket.is_ready)

    def _show_my_hand(self, raised: bool) -> None:
        self.raise_hand_action.setChecked(raised)
        self.raise_hand_action.setText(self.tr("Lower hand") if raised else self.tr("Raise hand"))
        self.raise_hand_action.setToolTip(
            (self.tr("Lower your hand") if raised else self.tr("Raise your hand"))
            + " (Ctrl+Shift+H)"
        )

    def _describe(self, *_: object) -> None:
        raised = self.model.raised_count
        describe_button(
            self.button,
            self.tr("Participants"),
            [
                plural(
                    self.model.rowCount(),
                    self.tr("%n in the meeting"),
                    self.tr("%n in the meeting"),
                ),
                plural(raised, self.tr("%n hand raised"), self.tr("%n hands raised"))
                if raised
                else "",
            ],
        )

    def _toast_joined(self, p: Participant) -> None:
        self._window.notify(self.tr("%s joined") % p.name, "participants")

    def _toast_left(self, p: Participant) -> None:
        self._window.notify(self.tr("%s left") % p.name, "leave")

    def _toast_hand(self, p: Participant) -> None:
        self._window.notify(
            self.tr("%s raised their hand") % p.name, "raise-hand", important=True
        )
