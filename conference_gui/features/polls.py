"""Polls: the dock, its "waiting for your vote" badge, and a toast for new polls."""

from __future__ import annotations

from PySide6.QtCore import QObject

from conference_gui.domain.meeting import Poll
from conference_gui.domain.wording import plural
from conference_gui.models.polls_model import PollListModel, PollsController
from conference_gui.session import MeetingSession
from conference_gui.ui.badge_button import describe_button
from conference_gui.ui.main_window import MainWindow
from conference_gui.ui.polls_dock import PollsDock


class PollsFeature(QObject):
    """Installs the Polls dock and its button.

    Parts: ``model``, ``controller``, ``dock``, ``button``.
    """

    name = "polls"

    def __init__(self, session: MeetingSession, window: MainWindow) -> None:
        super().__init__(window)
        self._session = session
        self._window = window
        self.model = PollListModel(self, name_of=session.name_of)
        self.controller = PollsController(session.socket, self.model, session.me, self)
        self.dock = PollsDock(self.model, self.controller, window)
        window.add_dock(self.dock, shortcut="Ctrl+Shift+O")
        self.button = window.control_bar.add_dock_button(
            "pollsButton", self.tr("Polls"), "polls", self.dock.toggleViewAction()
        )
        self.button.setBadgeAccent(True)  # open polls waiting for our vote
        self.model.awaiting_vote_changed.connect(self.button.setBadgeCount)
        self.model.awaiting_vote_changed.connect(self._describe)
        self.controller.error_message.connect(window.show_error)
        self.controller.poll_started.connect(self._toast_poll)
        session.on_shutdown(self.name, self.dock.shutdown)
        self._describe()

    def _describe(self, *_: object) -> None:
        n = self.model.awaiting_vote
        waiting = plural(
            n, self.tr("%n poll waiting for your vote"), self.tr("%n polls waiting for your vote")
        )
        describe_button(self.button, self.tr("Polls"), [waiting if n else ""])

    def _toast_poll(self, poll: Poll) -> None:
        who = self._session.name_of(poll.created_by) or self.tr("Someone")
        self._window.notify(self.tr("%s started a poll: %s") % (who, poll.question), "polls")
