"""The meeting's polls as a Qt model, and the controller that creates, votes and closes.

Results are computed in the domain (:func:`conference_gui.domain.polls.results`):
the model hands views ready tallies with whole percentages that add up to 100.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from conference_gui.domain.meeting import JoinAck, Participant, Poll
from conference_gui.domain.polls import (
    PollBook,
    PollInputError,
    may_change_vote,
    may_close,
    may_vote,
    results,
    validate_new_poll,
)
from conference_gui.domain.wire import PayloadError
from conference_gui.domain.wording import plural
from conference_gui.models.me import Me
from conference_gui.models.row_model import RowListModel
from conference_gui.services.socket_service import RequestError, SocketService

log = logging.getLogger(__name__)


class PollRole(enum.IntEnum):
    POLL = Qt.ItemDataRole.UserRole + 1  # the Poll itself
    ID = enum.auto()
    QUESTION = enum.auto()
    CLOSED = enum.auto()
    RESULTS = enum.auto()  # tuple[OptionResult, ...]
    TOTAL_VOTES = enum.auto()
    MY_VOTE = enum.auto()  # option index or None
    CAN_VOTE = enum.auto()
    CAN_CHANGE_VOTE = enum.auto()  # voted, and the poll is still open
    CAN_CLOSE = enum.auto()
    CREATOR_NAME = enum.auto()
    MINE = enum.auto()  # created by this user


class PollListModel(RowListModel[Poll]):
    """Polls, newest first.

    Signals:
        count_changed(int): number of polls.
        awaiting_vote_changed(int): open polls of others this user has not voted in (the
            Polls badge: what needs this person's attention; their own poll does not).
    """

    awaiting_vote_changed = Signal(int)
    roles = PollRole

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        name_of: Callable[[str], str | None] | None = None,
    ) -> None:
        book = PollBook()
        super().__init__(book, parent)
        self.book = book
        self._name_of = name_of
        self._viewer_id: str | None = None
        self._viewer_is_host = False
        self._awaiting = 0
        for signal in (self.modelReset, self.rowsInserted, self.rowsRemoved, self.dataChanged):
            signal.connect(self._count_awaiting)

    def set_viewer(self, user_id: str, is_host: bool) -> None:
        if (user_id, is_host) != (self._viewer_id, self._viewer_is_host):
            self._viewer_id, self._viewer_is_host = user_id, is_host
            self.emit_all_changed([PollRole.CAN_CLOSE, PollRole.MINE])
            self._count_awaiting()

    @property
    def awaiting_vote(self) -> int:
        return self._awaiting

    def _count_awaiting(self, *_: object) -> None:
        n = sum(1 for p in self.book if may_vote(p) and p.created_by != self._viewer_id)
        if n != self._awaiting:
            self._awaiting = n
            self.awaiting_vote_changed.emit(n)

    def creator_name(self, poll: Poll) -> str:
        if poll.created_by == self._viewer_id:
            return self.tr("you")
        name = self._name_of(poll.created_by) if self._name_of else None
        return name or self.tr("someone who left")

    def row_data(self, poll: Poll, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, PollRole.QUESTION):
            return poll.question
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            state = self.tr("closed") if poll.closed else self.tr("open")
            votes = plural(poll.total_votes, self.tr("%n vote"), self.tr("%n votes"))
            return f"{poll.question} ({state}, {votes})"
        if role == PollRole.POLL:
            return poll
        if role == PollRole.ID:
            return poll.id
        if role == PollRole.CLOSED:
            return poll.closed
        if role == PollRole.RESULTS:
            return results(poll, poll.my_vote)
        if role == PollRole.TOTAL_VOTES:
            return poll.total_votes
        if role == PollRole.MY_VOTE:
            return poll.my_vote
        if role == PollRole.CAN_VOTE:
            return may_vote(poll)
        if role == PollRole.CAN_CHANGE_VOTE:
            return may_change_vote(poll) and poll.my_vote is not None
        if role == PollRole.CAN_CLOSE:
            return may_close(poll, self._viewer_id, self._viewer_is_host)
        if role == PollRole.CREATOR_NAME:
            return self.creator_name(poll)
        if role == PollRole.MINE:
            return poll.created_by == self._viewer_id
        return None


class PollsController(QObject):
    """Creates polls, votes and closes them over the window's socket.

    Signals:
        poll_started(Poll): someone else started a poll.
        error_message(str): a request failed; words for the person.
    """

    poll_started = Signal(object)
    error_message = Signal(str)

    def __init__(
        self, socket: SocketService, model: PollListModel, me: Me, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._socket = socket
        self.model = model
        self.book = model.book
        self._me = me
        me.changed.connect(self._on_me_changed)
        #: Why the last request failed (for a form to show next to its fields).
        self.last_error = ""
        socket.joined.connect(self.on_socket_joined)
        socket.poll_created.connect(self.on_poll_created)
        socket.poll_updated.connect(self.on_poll_changed)
        socket.poll_closed.connect(self.on_poll_changed)

    def _on_me_changed(self, me: Participant) -> None:
        self.model.set_viewer(me.id, me.is_host)

    # -- socket events ------------------------------------------------------------
    def on_socket_joined(self, ack: JoinAck) -> None:
        self.book.reset(ack.polls)

    def on_poll_created(self, poll: Poll) -> None:
        if self.book.upsert(poll) is None and poll.created_by != self._me.id:
            self.poll_started.emit(poll)

    def on_poll_changed(self, poll: Poll) -> None:
        self.book.upsert(poll)

    # -- requests -----------------------------------------------------------------
    async def create(self, question: str, options: Iterable[str]) -> Poll | None:
        """Start a poll; returns it, or ``None`` after telling why not (error_message).

        Raises :class:`PollInputError` for input the server would refuse.
        """
        q, opts = validate_new_poll(question, options)
        poll = await self._call(
            "poll-create",
            {"question": q, "options": list(opts)},
            self.tr("Could not start the poll: %s"),
        )
        return poll

    async def vote(self, poll_id: str, option: int) -> bool:
        poll = await self._call(
            "poll-vote",
            {"pollId": poll_id, "option": option},
            self.tr("Your vote was not counted: %s"),
        )
        if poll is not None and poll.my_vote is None:
            self.book.record_vote(poll_id, option)
        return poll is not None

    async def close(self, poll_id: str) -> bool:
        poll = await self._call(
            "poll-close", {"pollId": poll_id}, self.tr("Could not close the poll: %s")
        )
        return poll is not None

    async def _call(self, event: str, payload: dict[str, Any], failure: str) -> Poll | None:
        try:
            ack = await self._socket.request(event, payload)
            poll = Poll.from_wire(ack.get("poll"))
        except RequestError as exc:
            self.last_error = failure % exc.message
            self.error_message.emit(self.last_error)
            return None
        except PayloadError as exc:
            log.warning("%s ack malformed: %s", event, exc)
            self.last_error = failure % self.tr("the server answered strangely")
            self.error_message.emit(self.last_error)
            return None
        self.last_error = ""
        self.book.upsert(poll)
        return poll


__all__ = ["PollInputError", "PollListModel", "PollRole", "PollsController"]
