"""Participants, chat and polls docks, the raise-hand button and toasts, for one window.

:class:`MeetingDocks` is the wiring: it builds the models and controllers
over the window's one :class:`SocketService`, the docks over those models,
their control-bar buttons (each badge observes a model, never a number of
its own), and the toasts that tell about other people's actions. It opens
no connection of its own.
"""

from __future__ import annotations

import logging
from collections import deque

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QToolButton

from conference_gui.domain.chat import ChatEntry
from conference_gui.domain.meeting import Participant, Poll
from conference_gui.domain.resources import Resource, ResourceUploaded
from conference_gui.domain.wording import plural
from conference_gui.models.chat_model import ChatController, ChatListModel
from conference_gui.models.participants_model import ParticipantListModel, ParticipantsController
from conference_gui.models.polls_model import PollListModel, PollsController
from conference_gui.services.settings import AppSettings
from conference_gui.services.socket_service import SocketService
from conference_gui.ui.badge_button import BadgeToolButton
from conference_gui.ui.chat_dock import ChatDock
from conference_gui.ui.control_bar import ControlBar
from conference_gui.ui.icons import icon
from conference_gui.ui.notifier import Notifier, mentions
from conference_gui.ui.participants_dock import ParticipantsDock
from conference_gui.ui.polls_dock import PollsDock
from conference_gui.ui.toast import ToastHost

log = logging.getLogger(__name__)

#: Files shared within this long are announced in one toast.
SHARED_TOAST_DELAY_MS = 250

_TOAST_SETTING = "notifications/toasts"


class MeetingDocks(QObject):
    """Creates the meeting docks and their control-bar buttons for one window.

    Public parts (tests and the window use them): ``participants_model``,
    ``participants``, ``participants_dock``, ``participants_button``;
    ``chat_model``, ``chat``, ``chat_dock``, ``chat_button``; ``polls_model``,
    ``polls``, ``polls_dock``, ``polls_button``; ``raise_hand_action``,
    ``raise_hand_button``; ``toasts`` (a :class:`ToastHost`).
    """

    def __init__(self, window: QMainWindow, socket: SocketService, control_bar: ControlBar) -> None:
        super().__init__(window)
        self._window = window
        self._socket = socket
        self._control_bar = control_bar
        area = Qt.DockWidgetArea.RightDockWidgetArea

        # -- models and controllers (no widgets) ---------------------------------
        self.participants_model = ParticipantListModel(self)
        self.participants = ParticipantsController(socket, self.participants_model, self)
        self.chat_model = ChatListModel(self)
        self.chat = ChatController(socket, self.chat_model, self)
        self.polls_model = PollListModel(self, name_of=self._name_of)
        self.polls = PollsController(socket, self.polls_model, self)

        # -- docks (created in this order: the View menu numbers them so) ------------
        self.participants_dock = ParticipantsDock(
            self.participants_model, self.participants, window
        )
        self.chat_dock = ChatDock(self.chat_model, self.chat, window)
        self.polls_dock = PollsDock(self.polls_model, self.polls, window)
        for dock in (self.participants_dock, self.chat_dock, self.polls_dock):
            window.addDockWidget(area, dock)
            dock.hide()

        # -- control-bar buttons -------------------------------------------------------
        self.participants_button = control_bar.add_dock_button(
            "participantsButton",
            self.tr("Participants"),
            "participants",
            self.participants_dock.toggleViewAction(),
        )
        self.participants_model.count_changed.connect(self.participants_button.setBadgeCount)
        self.participants_model.raised_count_changed.connect(self._describe_participants)
        self.participants_model.count_changed.connect(self._describe_participants)

        self.raise_hand_action = QAction(icon("raise-hand"), self.tr("Raise hand"), window)
        self.raise_hand_action.setObjectName("raiseHandAction")
        self.raise_hand_action.setCheckable(True)
        self.raise_hand_action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.raise_hand_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.raise_hand_action.triggered.connect(self.participants.request_hand)
        window.addAction(self.raise_hand_action)
        self.raise_hand_button = QToolButton(control_bar)
        self.raise_hand_button.setObjectName("raiseHandButton")
        self.raise_hand_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.raise_hand_button.setDefaultAction(self.raise_hand_action)
        control_bar.add_tool_button(self.raise_hand_button)
        self.participants.my_hand_changed.connect(self._show_my_hand)

        self.chat_button = control_bar.add_dock_button(
            "chatButton", self.tr("Chat"), "chat", self.chat_dock.toggleViewAction()
        )
        self.chat_button.setBadgeAccent(True)  # unread messages: "something new"
        self.chat.unread_changed.connect(self.chat_button.setBadgeCount)
        self.chat_dock.visibilityChanged.connect(self.chat.set_reading)
        self.chat.set_reading(self.chat_dock.isVisible())

        self.polls_button = control_bar.add_dock_button(
            "pollsButton", self.tr("Polls"), "polls", self.polls_dock.toggleViewAction()
        )
        self.polls_button.setBadgeAccent(True)  # open polls waiting for our vote
        self.polls_model.awaiting_vote_changed.connect(self.polls_button.setBadgeCount)
        self.polls_model.awaiting_vote_changed.connect(self._describe_polls)

        # -- errors, toasts ------------------------------------------------------------------
        for controller in (self.participants, self.chat, self.polls):
            controller.error_message.connect(self._show_error)
        self.toasts = ToastHost(window)
        self._settings = getattr(window, "settings", None)
        if isinstance(self._settings, AppSettings):
            self.toasts.setEnabled(self._settings.toasts_enabled())
            self._settings.changed.connect(self._on_setting_changed)
        self.notifier = Notifier(
            window, self.toasts, self._settings if isinstance(self._settings, AppSettings) else None
        )
        self.chat.message_received.connect(self._notify_mention)
        self._toasted_resources: deque[str] = deque(maxlen=200)
        self._shared: list[Resource] = []
        self._shared_timer = QTimer(self)
        self._shared_timer.setSingleShot(True)
        self._shared_timer.setInterval(SHARED_TOAST_DELAY_MS)
        self._shared_timer.timeout.connect(self._toast_shared)
        self.participants.someone_joined.connect(self._toast_joined)
        self.participants.someone_left.connect(self._toast_left)
        self.participants.hand_raised.connect(self._toast_hand)
        self.polls.poll_started.connect(self._toast_poll)
        socket.resource_uploaded.connect(self._toast_resource)
        socket.state_changed.connect(self._update_online)
        self._update_online()
        self._describe_participants()
        self._describe_polls()

    # -- small helpers ----------------------------------------------------------------
    def _name_of(self, user_id: str) -> str | None:
        p = self.participants_model.roster.get(user_id)
        return p.name if p is not None else None

    def _show_error(self, message: str) -> None:
        bar = self._window.statusBar()
        bar.showMessage(message, 8000)

    def _update_online(self, *_: object) -> None:
        self.raise_hand_action.setEnabled(self._socket.is_ready)

    def _show_my_hand(self, raised: bool) -> None:
        self.raise_hand_action.setChecked(raised)
        self.raise_hand_action.setText(self.tr("Lower hand") if raised else self.tr("Raise hand"))
        self.raise_hand_action.setToolTip(
            (self.tr("Lower your hand") if raised else self.tr("Raise your hand"))
            + " (Ctrl+Shift+H)"
        )

    def _describe_participants(self, *_: object) -> None:
        _describe(
            self.participants_button,
            self.tr("Participants"),
            [
                plural(
                    self.participants_model.rowCount(),
                    self.tr("%n in the meeting"),
                    self.tr("%n in the meeting"),
                ),
                plural(
                    self.participants_model.raised_count,
                    self.tr("%n hand raised"),
                    self.tr("%n hands raised"),
                )
                if self.participants_model.raised_count
                else "",
            ],
        )

    def _describe_polls(self, *_: object) -> None:
        n = self.polls_model.awaiting_vote
        _describe(
            self.polls_button,
            self.tr("Polls"),
            [
                plural(
                    n,
                    self.tr("%n poll waiting for your vote"),
                    self.tr("%n polls waiting for your vote"),
                )
                if n
                else ""
            ],
        )

    # -- toasts ---------------------------------------------------------------------------
    def _on_setting_changed(self, key: str) -> None:
        if key == _TOAST_SETTING and isinstance(self._settings, AppSettings):
            self.toasts.setEnabled(self._settings.toasts_enabled())

    def _toast(self, text: str, icon_name: str, *, important: bool = False) -> None:
        title = self._window.windowTitle()
        self.notifier.notify(title, text, icon_name, important=important)

    def _notify_mention(self, entry: ChatEntry) -> None:
        me = self.participants.me
        if me is not None and mentions(entry.text, me.name):
            excerpt = entry.text if len(entry.text) <= 120 else entry.text[:119] + "…"
            text = self.tr("%s mentioned you: %s") % (entry.sender.name, excerpt)
            self._toast(text, "chat", important=True)

    def _toast_joined(self, p: Participant) -> None:
        self._toast(self.tr("%s joined") % p.name, "participants")

    def _toast_left(self, p: Participant) -> None:
        self._toast(self.tr("%s left") % p.name, "leave")

    def _toast_hand(self, p: Participant) -> None:
        self._toast(self.tr("%s raised their hand") % p.name, "raise-hand", important=True)

    def _toast_poll(self, poll: Poll) -> None:
        who = self._name_of(poll.created_by) or self.tr("Someone")
        self._toast(self.tr("%s started a poll: %s") % (who, poll.question), "polls")

    def _toast_resource(self, event: ResourceUploaded) -> None:
        """Collect shared files; one toast per burst, shown after the event's frame.

        Building a toast costs milliseconds on the GUI thread: done per event,
        a burst of uploads would both flood the screen and slow the list.
        """
        res = event.resource
        me = self.participants.me.id if self.participants.me else self._socket.user_id
        if res.uploaded_by.id == me or res.id in self._toasted_resources:
            return
        self._toasted_resources.append(res.id)
        self._shared.append(res)
        if not self._shared_timer.isActive():
            self._shared_timer.start()

    def _toast_shared(self) -> None:
        shared, self._shared = self._shared, []
        if not shared:
            return
        people = {r.uploaded_by.name for r in shared}
        if len(shared) == 1:
            text = self.tr("%s shared %s") % (shared[0].uploaded_by.name, shared[0].name)
        elif len(people) == 1:
            text = self.tr("%s shared %d files") % (shared[0].uploaded_by.name, len(shared))
        else:
            text = self.tr("%d files were shared") % len(shared)
        self._toast(text, "resources", important=True)

    # -- lifecycle --------------------------------------------------------------------------
    async def shutdown(self) -> None:
        """Cancel background work before the window closes."""
        await self.polls_dock.shutdown()
        await self.participants.shutdown()
        await self.chat.shutdown()
        self._shared_timer.stop()
        self.toasts.clear()
        self.notifier.hide()


def _describe(button: BadgeToolButton, label: str, parts: list[str]) -> None:
    """Accessible name and tooltip: the button's label, then what its badge means."""
    text = ", ".join([label, *(p for p in parts if p)])
    button.setAccessibleName(text)
    button.setToolTip(text)
