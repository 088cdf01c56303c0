"""Chat history: messages in arrival order, own messages pending until acked.

An own message is listed at once as *pending*; the server's ack (or its
broadcast, whichever comes first) turns it *sent*; a failed request turns it
*failed*, and a retry sends the same entry again. The history is keyed by
the server's message id, so a message delivered twice (broadcast and ack,
replayed history after a reconnect) is listed once.

No Qt here: the chat model adapts this to Qt.
"""

from __future__ import annotations

import enum
import itertools
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from conference_gui.domain.meeting import ChatMessage
from conference_gui.domain.resources import Person
from conference_gui.domain.rows import ObservableRows, RowObserver

#: The server refuses longer messages (``MAX_CHAT_LENGTH`` there); checked before sending.
MAX_CHAT_LENGTH = 4000


class SendState(enum.Enum):
    PENDING = "pending"  # sent, no ack yet
    SENT = "sent"  # the server has it
    FAILED = "failed"  # the request failed: offer a retry


@dataclass(frozen=True, slots=True)
class ChatEntry:
    """One row of the chat.

    ``key`` never changes for the life of the row (own messages get a local
    key before the server names them); ``message_id`` is the server's id once known.
    """

    key: str
    message_id: str | None
    sender: Person
    text: str
    sent_at: datetime
    state: SendState
    own: bool
    error: str = ""


class ChatInputError(ValueError):
    """Text that cannot be sent, with a message for the person."""


def clean_outgoing(text: str) -> str:
    """What would be sent for ``text``: line endings unified, outer blank lines dropped.

    Raises :class:`ChatInputError` for blank or over-long text.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # As the server cleans it, so our pending copy matches its broadcast.
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    text = text.strip("\n").rstrip()
    if not text.strip():
        raise ChatInputError("Type a message first.")
    if len(text) > MAX_CHAT_LENGTH:
        raise ChatInputError(
            f"That message is {len(text)} characters long; "
            f"the meeting accepts up to {MAX_CHAT_LENGTH}."
        )
    return text


def utc_now() -> datetime:
    return datetime.now(UTC)


class ChatHistory(ObservableRows[ChatEntry]):
    """The messages of one meeting window, oldest first (new rows are appended)."""

    def __init__(
        self,
        me_id: str | None = None,
        observer: RowObserver | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(observer)
        self.me_id = me_id
        self._clock = clock
        self._row_by_key: dict[str, int] = {}
        self._key_by_message: dict[str, str] = {}
        #: Own rows the server has not named yet (pending or failed), oldest first.
        self._unconfirmed: list[str] = []
        self._local = itertools.count(1)

    # -- reading ------------------------------------------------------------
    def row_of(self, key: str) -> int | None:
        return self._row_by_key.get(key)

    def entry(self, key: str) -> ChatEntry | None:
        row = self._row_by_key.get(key)
        return None if row is None else self._rows[row]

    def has_message(self, message_id: str) -> bool:
        return message_id in self._key_by_message

    def count(self, state: SendState) -> int:
        return sum(1 for e in self._rows if e.state is state)

    # -- own messages ---------------------------------------------------------
    def add_pending(self, sender: Person, text: str) -> str:
        """List an own message as pending; returns its key for ack/fail/retry."""
        key = f"local-{next(self._local)}"
        entry = ChatEntry(key, None, sender, text, self._clock(), SendState.PENDING, own=True)
        self._append([entry])
        return key

    def acknowledge(self, key: str, message: ChatMessage) -> None:
        """The server acked the send of ``key`` with ``message``."""
        row = self._row_by_key.get(key)
        if row is None:
            return
        holder = self._key_by_message.get(message.id)
        if holder is not None and holder != key:
            other = self._row_by_key[holder]
            if holder.startswith("local-"):
                # The broadcast was matched to another own entry with the same text
                # (indistinguishable): hand the id over; that entry's own ack names
                # it again.
                self._replace(
                    other,
                    replace(self._rows[other], message_id=None, state=SendState.PENDING),
                )
                self._unconfirmed.append(holder)
                self._unconfirmed.sort(key=self._row_by_key.__getitem__)
            else:
                # The broadcast was listed as a row of its own (the server changed the
                # text, so it did not match): keep our row, drop the copy.
                self._key_by_message.pop(message.id, None)
                self._remove_row(other)
                self._reindex()
                row = self._row_by_key[key]
        self._confirm(row, message)

    def fail(self, key: str, reason: str) -> None:
        """Sending ``key`` failed; a message that meanwhile arrived stays sent."""
        row = self._row_by_key.get(key)
        if row is None or self._rows[row].state is not SendState.PENDING:
            return
        self._replace(row, replace(self._rows[row], state=SendState.FAILED, error=reason))

    def retry(self, key: str) -> str:
        """Make a failed entry pending again; returns the text to send."""
        row = self._row_by_key.get(key)
        if row is None or self._rows[row].state is not SendState.FAILED:
            raise KeyError(f"no failed message {key!r}")
        entry = replace(self._rows[row], state=SendState.PENDING, error="")
        self._replace(row, entry)
        return entry.text

    def discard(self, key: str) -> None:
        """Remove a failed own message (the person gave up on it)."""
        row = self._row_by_key.get(key)
        if row is None or self._rows[row].state is not SendState.FAILED:
            return
        self._remove_row(row)
        self._unconfirmed.remove(key)
        self._reindex()

    # -- messages from the server ---------------------------------------------
    def receive(self, message: ChatMessage) -> ChatEntry | None:
        """A message from the server; returns the new row, or ``None`` if already listed.

        Our own message's broadcast confirms the oldest pending (or failed:
        the server did get it) own entry with the same text instead of adding
        a second row.
        """
        if message.id in self._key_by_message or self._confirms_own(message):
            return None
        entry = self._entry_for(message)
        self._append([entry])
        return entry

    def receive_history(self, messages: Iterable[ChatMessage]) -> int:
        """Merge history (e.g. after a reconnect) in one insert; returns how many rows were new."""
        new: list[ChatEntry] = []
        seen: set[str] = set()
        for m in messages:
            if m.id in self._key_by_message or m.id in seen or self._confirms_own(m):
                continue
            seen.add(m.id)
            new.append(self._entry_for(m))
        self._append(new)
        return len(new)

    def prepend_older(self, messages: Iterable[ChatMessage]) -> int:
        """Older history (``chat-history``, oldest first) above the first row, in one
        insert; returns how many rows were new."""
        new: list[ChatEntry] = []
        seen: set[str] = set()
        for m in messages:
            if m.id in self._key_by_message or m.id in seen:
                continue
            seen.add(m.id)
            new.append(self._entry_for(m))
        if new:
            self._insert_rows(0, new)
            self._reindex()
        return len(new)

    def oldest_message_id(self) -> str | None:
        """The id of the first row the server named (where older history continues)."""
        return next((e.message_id for e in self._rows if e.message_id is not None), None)

    # -- internals ------------------------------------------------------------
    def _confirms_own(self, message: ChatMessage) -> bool:
        """If ``message`` is the broadcast of an own unconfirmed row, confirm that row."""
        if message.sender.id != self.me_id:
            return False
        for key in self._unconfirmed:
            row = self._row_by_key[key]
            if self._rows[row].text == message.text:
                self._confirm(row, message)
                return True
        return False

    def _entry_for(self, message: ChatMessage) -> ChatEntry:
        return ChatEntry(
            key=f"msg-{message.id}",
            message_id=message.id,
            sender=message.sender,
            text=message.text,
            sent_at=message.sent_at,
            state=SendState.SENT,
            own=message.sender.id == self.me_id,
        )

    def _append(self, entries: list[ChatEntry]) -> None:
        first = len(self._rows)
        for row, entry in enumerate(entries, first):
            self._row_by_key[entry.key] = row
            if entry.message_id is not None:
                self._key_by_message[entry.message_id] = entry.key
            elif entry.own:
                self._unconfirmed.append(entry.key)
        self._insert_rows(first, entries)

    def _replace(self, row: int, entry: ChatEntry) -> None:
        old = self._rows[row]
        if old.message_id is not None and old.message_id != entry.message_id:
            self._key_by_message.pop(old.message_id, None)
        if entry.message_id is not None:
            self._key_by_message[entry.message_id] = entry.key
        self._replace_row(row, entry)

    def _confirm(self, row: int, message: ChatMessage) -> None:
        key = self._rows[row].key
        if key in self._unconfirmed:
            self._unconfirmed.remove(key)
        # The server's time and name are the truth for everyone.
        entry = replace(
            self._rows[row],
            message_id=message.id,
            sender=message.sender,
            text=message.text,
            sent_at=message.sent_at,
            state=SendState.SENT,
            error="",
        )
        self._replace(row, entry)

    def _reindex(self) -> None:
        self._row_by_key = {e.key: i for i, e in enumerate(self._rows)}
        self._key_by_message = {e.message_id: e.key for e in self._rows if e.message_id is not None}


class UnreadCounter:
    """Messages from others that arrived while the chat was not being read."""

    def __init__(self) -> None:
        self.count = 0
        self.reading = False

    def message_arrived(self, own: bool) -> bool:
        """Count a new message; ``True`` if the count changed."""
        if own or self.reading:
            return False
        self.count += 1
        return True

    def set_reading(self, reading: bool) -> bool:
        """The chat became visible (clears the count) or hidden; ``True`` if the count changed."""
        self.reading = reading
        if reading and self.count:
            self.count = 0
            return True
        return False
