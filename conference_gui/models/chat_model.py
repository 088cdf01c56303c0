"""The chat as a Qt model, and the controller that sends and receives messages.

Own messages show at once as *pending*; the server's ack makes them *sent*;
a failed send stays listed as *failed* with its reason until retried or
discarded. Text is data: the model never marks it up, views draw it as plain text.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from conference_gui.domain.chat import (
    ChatEntry,
    ChatHistory,
    SendState,
    UnreadCounter,
    clean_outgoing,
)
from conference_gui.domain.meeting import ChatMessage, ChatPage, JoinAck
from conference_gui.domain.resources import Person
from conference_gui.domain.wire import PayloadError
from conference_gui.models.me import Me
from conference_gui.models.row_model import RowListModel
from conference_gui.services.socket_service import RequestError, SocketService
from conference_gui.tasks import TaskKeeper

log = logging.getLogger(__name__)


class ChatRole(enum.IntEnum):
    ENTRY = Qt.ItemDataRole.UserRole + 1  # the ChatEntry itself
    KEY = enum.auto()
    SENDER_NAME = enum.auto()
    TEXT = enum.auto()
    SENT_AT = enum.auto()
    STATE = enum.auto()  # SendState value string: "pending" | "sent" | "failed"
    OWN = enum.auto()
    ERROR = enum.auto()


class ChatListModel(RowListModel[ChatEntry]):
    """The meeting's messages, oldest first."""

    roles = ChatRole

    def __init__(self, parent: QObject | None = None) -> None:
        history = ChatHistory()
        super().__init__(history, parent)
        self.history = history

    def sender_label(self, e: ChatEntry) -> str:
        return self.tr("You") if e.own else e.sender.name

    def describe(self, e: ChatEntry) -> str:
        when = e.sent_at.astimezone().strftime("%H:%M")
        text = self.tr("%1 at %2: %3").replace("%1", self.sender_label(e))
        text = text.replace("%2", when).replace("%3", e.text)
        if e.state is SendState.PENDING:
            text += " " + self.tr("(sending…)")
        elif e.state is SendState.FAILED:
            text += " " + self.tr("(not sent: %s)") % e.error
        return text

    def row_data(self, e: ChatEntry, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return e.text
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self.describe(e)
        if role == ChatRole.ENTRY:
            return e
        if role == ChatRole.KEY:
            return e.key
        if role == ChatRole.SENDER_NAME:
            return self.sender_label(e)
        if role == ChatRole.TEXT:
            return e.text
        if role == ChatRole.SENT_AT:
            return e.sent_at
        if role == ChatRole.STATE:
            return e.state.value
        if role == ChatRole.OWN:
            return e.own
        if role == ChatRole.ERROR:
            return e.error
        return None

    def texts(self) -> list[str]:
        return [e.text for e in self.history]


class ChatController(QObject):
    """Sends chat messages over the window's socket and feeds the chat model.

    Signals:
        unread_changed(int): messages from others not yet seen (the Chat badge).
        message_received(ChatEntry): a new message from someone else.
        error_message(str): a send failed, in words for the person.
        older_available_changed(bool): whether the server has older messages than the
            first row (the join ack carries only recent chat; :meth:`load_older`).
    """

    unread_changed = Signal(int)
    message_received = Signal(object)
    error_message = Signal(str)
    older_available_changed = Signal(bool)

    #: Messages fetched per :meth:`load_older`.
    OLDER_PAGE = 50

    def __init__(
        self, socket: SocketService, model: ChatListModel, me: Me, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._socket = socket
        self.model = model
        self.history = model.history
        self.history.me_id = me.id
        self._me = me
        self._unread = UnreadCounter()
        self._tasks = TaskKeeper("chat")
        self._older = False
        self._loading_older = False
        socket.joined.connect(self.on_socket_joined)
        socket.chat_message.connect(self.on_chat_message)

    @property
    def unread(self) -> int:
        return self._unread.count

    @property
    def has_older(self) -> bool:
        return self._older

    def _set_older(self, more: bool) -> None:
        if more != self._older:
            self._older = more
            self.older_available_changed.emit(more)

    async def load_older(self) -> int:
        """Fetch the page of messages before the first row; returns how many were added."""
        before = self.history.oldest_message_id()
        if self._loading_older or not self._older or before is None:
            return 0
        self._loading_older = True
        try:
            ack = await self._socket.request(
                "chat-history", {"before": before, "limit": self.OLDER_PAGE})
            page = ChatPage.from_wire(ack)
        except RequestError as exc:
            self.error_message.emit(self.tr("Earlier messages not loaded: %s") % exc.message)
            return 0
        except PayloadError as exc:
            log.warning("chat-history ack malformed: %s", exc)
            return 0
        finally:
            self._loading_older = False
        added = self.history.prepend_older(page.messages)
        self._set_older(page.more)
        return added

    def request_older(self) -> None:
        """:meth:`load_older` in the background (a button's slot)."""
        self._tasks.spawn(self._load_older_quietly())

    async def _load_older_quietly(self) -> None:
        await self.load_older()

    # -- reading ------------------------------------------------------------------
    def set_reading(self, reading: bool) -> None:
        """The chat is (or is no longer) on screen; seeing it clears the unread count."""
        if self._unread.set_reading(reading):
            self.unread_changed.emit(self._unread.count)

    # -- socket events --------------------------------------------------------------
    def on_socket_joined(self, ack: JoinAck) -> None:
        # History the server replays is not "new": it does not count as unread.
        self.history.receive_history(ack.chat)
        if not self._older or self.history.oldest_message_id() in {m.id for m in ack.chat}:
            self._set_older(ack.chat_more)

    def on_chat_message(self, message: ChatMessage) -> None:
        entry = self.history.receive(message)
        if entry is None:
            return
        if not entry.own:
            self.message_received.emit(entry)
        if self._unread.message_arrived(entry.own):
            self.unread_changed.emit(self._unread.count)

    # -- sending ----------------------------------------------------------------------
    def send(self, text: str) -> str:
        """List ``text`` as pending and send it; returns its key.

        Raises :class:`~conference_gui.domain.chat.ChatInputError` for blank or
        over-long text (nothing is listed then).
        """
        clean = clean_outgoing(text)
        key = self.history.add_pending(Person(self._me.id, self._me.name), clean)
        self._tasks.spawn(self._deliver(key, clean))
        return key

    def retry(self, key: str) -> None:
        """Send a failed message again."""
        try:
            text = self.history.retry(key)
        except KeyError:
            return
        self._tasks.spawn(self._deliver(key, text))

    def discard(self, key: str) -> None:
        self.history.discard(key)

    async def _deliver(self, key: str, text: str) -> None:
        try:
            ack = await self._socket.request("chat-message", {"text": text})
            message = ChatMessage.from_wire(ack.get("message"))
        except RequestError as exc:
            self.history.fail(key, exc.message)
            self.error_message.emit(self.tr("Message not sent: %s") % exc.message)
            return
        except PayloadError as exc:
            log.warning("chat-message ack malformed: %s", exc)
            self.history.fail(key, self.tr("the server answered strangely"))
            return
        self.history.acknowledge(key, message)

    async def shutdown(self) -> None:
        await self._tasks.shutdown()
