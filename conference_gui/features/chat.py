"""Chat: the dock, its unread badge, and a toast when someone mentions you."""

from __future__ import annotations

from PySide6.QtCore import QObject

from conference_gui.domain.chat import ChatEntry
from conference_gui.models.chat_model import ChatController, ChatListModel
from conference_gui.session import MeetingSession
from conference_gui.ui.chat_dock import ChatDock
from conference_gui.ui.main_window import MainWindow
from conference_gui.ui.notifier import mentions

#: A mention toast quotes at most this many characters of the message.
EXCERPT = 120


class ChatFeature(QObject):
    """Installs the Chat dock and its button.

    Parts: ``model``, ``controller``, ``dock``, ``button``.
    """

    name = "chat"

    def __init__(self, session: MeetingSession, window: MainWindow) -> None:
        super().__init__(window)
        self._session = session
        self._window = window
        self.model = ChatListModel(self)
        self.controller = ChatController(session.socket, self.model, session.me, self)
        self.dock = ChatDock(self.model, self.controller, window)
        window.add_dock(self.dock, shortcut="Ctrl+Shift+C")
        self.button = window.control_bar.add_dock_button(
            "chatButton", self.tr("Chat"), "chat", self.dock.toggleViewAction()
        )
        self.button.setBadgeAccent(True)  # unread messages: "something new"
        self.controller.unread_changed.connect(self.button.setBadgeCount)
        self.dock.visibilityChanged.connect(self.controller.set_reading)
        self.controller.set_reading(self.dock.isVisible())
        self.controller.error_message.connect(window.show_error)
        self.controller.message_received.connect(self._notify_mention)
        session.on_shutdown(self.name, self.controller.shutdown)

    def _notify_mention(self, entry: ChatEntry) -> None:
        me = self._session.me
        if me.known and mentions(entry.text, me.name):
            text = entry.text if len(entry.text) <= EXCERPT else entry.text[: EXCERPT - 1] + "…"
            self._window.notify(
                self.tr("%s mentioned you: %s") % (entry.sender.name, text), "chat", important=True
            )
