"""Live state of each meeting: who is here, raised hands, chat, polls.

This is what only matters while people are connected. One node keeps it in
memory (:class:`MeetingRegistry`); several nodes share it in PostgreSQL
(``pg_meeting.PgMeetingRegistry``), which loads a :class:`Meeting`, lets the
same methods change it and stores it back, under the meeting's row lock.
Methods enforce the rules (one vote per user, who may close a poll, ...) and
raise :class:`ApiError`; they never talk to sockets.

Handlers reach a meeting only through ``async with registry.edit(sid)`` (to
change it) or ``registry.view(sid)`` (to read it), and never await inside.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from .auth import Identity, Role
from .errors import ApiError
from .ids import new_id, utc_now_iso

CHAT_HISTORY = 200


@dataclass(slots=True)
class Participant:
    id: str
    name: str
    role: Role
    hand_raised: bool = False
    hand_raised_at: str | None = None
    #: socket ids of this user's live connections; the user is present while non-empty
    connections: set[str] = field(default_factory=set)

    def snapshot(self) -> Participant:
        """A copy for an event, so later changes cannot alter what was published."""
        return replace(self, connections=set())


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: str
    sender_id: str
    sender_name: str
    text: str
    sent_at: str


@dataclass(slots=True)
class Poll:
    id: str
    question: str
    options: list[str]
    created_by: str
    votes: dict[str, int] = field(default_factory=dict)  # user id -> option index
    closed: bool = False

    def snapshot(self) -> Poll:
        return replace(self, options=list(self.options), votes=dict(self.votes))

    def tally(self) -> list[int]:
        counts = [0] * len(self.options)
        for option in self.votes.values():
            counts[option] += 1
        return counts


class Meeting:
    """One session's live state."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.participants: dict[str, Participant] = {}
        self.polls: dict[str, Poll] = {}
        self.chat: deque[ChatMessage] = deque(maxlen=CHAT_HISTORY)

    # --- presence -------------------------------------------------------
    def connect(self, identity: Identity, socket_id: str) -> tuple[Participant, bool]:
        """Count a connection of this user; ``True`` when it is the user's first."""
        participant = self.participants.get(identity.user_id)
        first = participant is None
        if participant is None:
            participant = Participant(identity.user_id, identity.name, identity.role)
            self.participants[identity.user_id] = participant
        participant.connections.add(socket_id)
        return participant, first

    def disconnect(self, user_id: str, socket_id: str) -> bool:
        """Forget a connection; ``True`` when it was the user's last (the user left)."""
        participant = self.participants.get(user_id)
        if participant is None:
            return False
        participant.connections.discard(socket_id)
        if participant.connections:
            return False
        del self.participants[user_id]
        return True

    def participant(self, user_id: str) -> Participant:
        try:
            return self.participants[user_id]
        except KeyError:
            raise ApiError(404, "not_found", "No such participant in this session") from None

    def set_hand(self, user_id: str, raised: bool) -> bool:
        """Raise or lower a hand; ``True`` if anything changed."""
        participant = self.participant(user_id)
        if participant.hand_raised == raised:
            return False
        participant.hand_raised = raised
        participant.hand_raised_at = utc_now_iso() if raised else None
        return True

    # --- chat -------------------------------------------------------------
    def post(self, sender: Identity, text: str) -> ChatMessage:
        message = ChatMessage(new_id(), sender.user_id, sender.name, text, utc_now_iso())
        self.chat.append(message)
        return message

    # --- polls ------------------------------------------------------------
    def create_poll(self, creator: Identity, question: str, options: list[str]) -> Poll:
        poll = Poll(new_id(), question, options, creator.user_id)
        self.polls[poll.id] = poll
        return poll

    def poll(self, poll_id: str) -> Poll:
        try:
            return self.polls[poll_id]
        except KeyError:
            raise ApiError(404, "not_found", "No such poll") from None

    def vote(self, voter: Identity, poll_id: str, option: int) -> Poll:
        poll = self.poll(poll_id)
        if poll.closed:
            raise ApiError(409, "poll_closed", "The poll is closed")
        if voter.user_id in poll.votes:
            raise ApiError(409, "already_voted", "You have already voted in this poll")
        if not 0 <= option < len(poll.options):
            raise ApiError(422, "invalid", f"option must be 0..{len(poll.options) - 1}")
        poll.votes[voter.user_id] = option
        return poll

    def drop_connections(self, prefix: str) -> list[str]:
        """Forget every connection whose key starts with ``prefix`` (a dead node's);
        returns the users who left because of it."""
        left = []
        for participant in list(self.participants.values()):
            gone = {c for c in participant.connections if c.startswith(prefix)}
            if gone:
                participant.connections -= gone
                if not participant.connections:
                    del self.participants[participant.id]
                    left.append(participant.id)
        return left

    # --- persistence (PostgreSQL registry) --------------------------------
    def to_state(self) -> dict[str, Any]:
        """Participants and polls as JSON (chat is stored apart, message by message)."""
        return {
            "participants": [
                {"id": p.id, "name": p.name, "role": p.role, "handRaised": p.hand_raised,
                 "handRaisedAt": p.hand_raised_at, "connections": sorted(p.connections)}
                for p in self.participants.values()
            ],
            "polls": [
                {"id": p.id, "question": p.question, "options": p.options,
                 "createdBy": p.created_by, "votes": p.votes, "closed": p.closed}
                for p in self.polls.values()
            ],
        }

    @classmethod
    def from_state(cls, session_id: str, state: dict[str, Any],
                   chat: Iterable[ChatMessage] = ()) -> Meeting:
        meeting = cls(session_id)
        for p in state.get("participants", []):
            meeting.participants[p["id"]] = Participant(
                p["id"], p["name"], p["role"], p["handRaised"], p["handRaisedAt"],
                set(p["connections"]))
        for p in state.get("polls", []):
            meeting.polls[p["id"]] = Poll(p["id"], p["question"], list(p["options"]),
                                          p["createdBy"], dict(p["votes"]), p["closed"])
        meeting.chat.extend(chat)
        return meeting

    def close_poll(self, closer: Identity, poll_id: str) -> tuple[Poll, bool]:
        """Close a poll (creator or host only); ``True`` if it was open."""
        poll = self.poll(poll_id)
        if closer.user_id != poll.created_by and not closer.is_host:
            raise ApiError(403, "forbidden", "Only the poll's creator or the host can close it")
        if poll.closed:
            return poll, False
        poll.closed = True
        return poll, True


class MeetingRegistry:
    """All meetings of this server process, in memory, created on first use."""

    def __init__(self) -> None:
        self._meetings: dict[str, Meeting] = {}

    def get(self, session_id: str) -> Meeting:
        meeting = self._meetings.get(session_id)
        if meeting is None:
            meeting = self._meetings[session_id] = Meeting(session_id)
        return meeting

    def connection_key(self, socket_id: str) -> str:
        """How a connection is named in ``Participant.connections``."""
        return socket_id

    @asynccontextmanager
    async def edit(self, session_id: str) -> AsyncIterator[Meeting]:
        """The meeting, to change; the block must not await (it is atomic by that)."""
        yield self.get(session_id)

    @asynccontextmanager
    async def view(self, session_id: str) -> AsyncIterator[Meeting]:
        """The meeting, to read."""
        yield self.get(session_id)

    def attach(self, on_left: Callable[[str, str], Awaitable[None]],
               on_evicted: Callable[[], Awaitable[None]]) -> None:
        """How to announce users who left with a dead node, and how to drop this node's
        connections; only a registry shared by several nodes needs them."""

    async def start(self) -> None:
        """Called once the storage is open."""

    async def stop(self) -> None:
        """Called before the storage closes."""
