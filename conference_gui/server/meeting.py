"""Live state of each meeting: who is here, raised hands, chat, polls.

This is what only matters while people are connected. One node keeps it in
memory (:class:`MeetingRegistry`); several nodes share it in PostgreSQL
(``pg_meeting.PgMeetingRegistry``), which loads a :class:`Meeting`, lets the
same methods change it and stores it back, under the meeting's row lock.
Methods enforce the rules (one vote per user, who may close a poll, ...) and
raise :class:`ApiError`; they never talk to sockets.

Handlers reach a meeting only through ``async with registry.edit(sid)`` (to
change it) or ``registry.view(sid)`` (to read it), and never await inside.

**The call connection.** A user may have the meeting open on several
connections (two windows, or a window and a reconnect the server has not yet
noticed was the same). Only one of them takes part in the call: the
*call connection*, which is the last of ``Participant.connections`` (they are
kept in join order). ``signal`` is relayed to it alone, and only it may send
``signal`` and ``media-state``. A new connection takes the call (unless it
joins with ``takeCall: false`` while another connection holds it); when the
call connection goes, the most recent remaining one takes it. Whenever the call
moves, the user's media state goes back to all-off: the new call connection
announces its own.
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


@dataclass(frozen=True, slots=True)
class Media:
    """What a participant sends right now (wire contract v2); all off until it says so."""

    audio: bool = False
    video: bool = False
    screen: bool = False


NO_MEDIA = Media()


@dataclass(slots=True)
class Participant:
    id: str
    name: str
    role: Role
    hand_raised: bool = False
    hand_raised_at: str | None = None
    #: keys of this user's live connections in join order; the user is present while
    #: non-empty, and the last one is the call connection
    connections: list[str] = field(default_factory=list)
    media: Media = NO_MEDIA
    #: those of ``connections`` whose client can carry the call through the media
    #: server (join-session ``sfu: true``); a call stays mesh while anyone's cannot
    sfu_connections: list[str] = field(default_factory=list)

    @property
    def call_connection(self) -> str | None:
        return self.connections[-1] if self.connections else None

    @property
    def call_can_use_sfu(self) -> bool:
        call = self.call_connection
        return call is not None and call in self.sfu_connections

    def snapshot(self) -> Participant:
        """A copy for an event, so later changes cannot alter what was published."""
        return replace(self, connections=[], sfu_connections=[])


@dataclass(frozen=True, slots=True)
class CallMove:
    """The user's call went from one connection to another.

    ``lost`` is the connection that had it and still lives (``None`` when it
    left); ``gained`` the one that has it now (``None`` when none is left);
    ``media_reset`` says that the user's media state was reset to all-off.
    """

    user_id: str
    lost: str | None
    gained: str | None
    media_reset: bool


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
    def connect(self, identity: Identity, key: str, *, take_call: bool = True,
                sfu: bool = False) -> tuple[Participant, bool, CallMove | None]:
        """Count a connection of this user.

        Returns the participant, ``True`` when it is the user's first connection,
        and the call's move when this connection took it from another one.
        """
        participant = self.participants.get(identity.user_id)
        first = participant is None
        if participant is None:
            participant = Participant(identity.user_id, identity.name, identity.role)
            self.participants[identity.user_id] = participant
        if key in participant.connections:
            return participant, first, None
        if sfu:
            participant.sfu_connections.append(key)
        if take_call or not participant.connections:
            previous = participant.call_connection
            participant.connections.append(key)
            return participant, first, self._moved(participant, previous)
        participant.connections.insert(0, key)  # keeps the call where it is
        return participant, first, None

    def claim_call(self, user_id: str, key: str) -> CallMove | None:
        """Move the user's call to connection ``key`` (one of its live connections)."""
        participant = self.participant(user_id)
        if key not in participant.connections:
            raise ApiError(409, "not_joined", "Send join-session first")
        previous = participant.call_connection
        if previous == key:
            return None
        participant.connections.remove(key)
        participant.connections.append(key)
        return self._moved(participant, previous)

    def disconnect(self, user_id: str, key: str) -> tuple[bool, CallMove | None]:
        """Forget a connection: ``True`` when it was the user's last (the user left),
        and the call's move when it was the call connection and another one is left."""
        participant = self.participants.get(user_id)
        if participant is None or key not in participant.connections:
            return False, None
        had_call = participant.call_connection == key
        participant.connections.remove(key)
        if key in participant.sfu_connections:
            participant.sfu_connections.remove(key)
        if not participant.connections:
            del self.participants[user_id]
            return True, None
        return False, (self._moved(participant, None) if had_call else None)

    @staticmethod
    def _moved(participant: Participant, previous: str | None) -> CallMove:
        reset = participant.media != NO_MEDIA
        participant.media = NO_MEDIA
        return CallMove(participant.id, previous, participant.call_connection, reset)

    def is_call_connection(self, user_id: str, key: str) -> bool:
        participant = self.participants.get(user_id)
        return participant is not None and participant.call_connection == key

    def set_media(self, user_id: str, key: str, media: Media) -> Participant:
        """Record what the user's call connection sends (only it may say)."""
        participant = self.participant(user_id)
        if participant.call_connection != key:
            raise ApiError(409, "not_in_call",
                           "This window is not in the call: it is open in another window")
        participant.media = media
        return participant

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

    def chat_before(self, before: str | None, limit: int) -> tuple[list[ChatMessage], bool]:
        """Up to ``limit`` messages before message ``before`` (None: the newest), oldest
        first, and whether older ones exist."""
        messages = list(self.chat)
        end = len(messages)
        if before is not None:
            end = next((i for i, m in enumerate(messages) if m.id == before), -1)
            if end < 0:
                raise ApiError(404, "not_found", "No such chat message (it may be too old)")
        start = max(0, end - limit)
        return messages[start:end], start > 0

    # --- polls ------------------------------------------------------------
    def create_poll(self, creator: Identity, question: str, options: list[str],
                    max_polls: int | None = None) -> Poll:
        if max_polls is not None and len(self.polls) >= max_polls:
            raise ApiError(409, "too_many_polls",
                           f"This meeting has the most polls it may hold ({max_polls})")
        poll = Poll(new_id(), question, options, creator.user_id)
        self.polls[poll.id] = poll
        return poll

    def poll(self, poll_id: str) -> Poll:
        try:
            return self.polls[poll_id]
        except KeyError:
            raise ApiError(404, "not_found", "No such poll") from None

    def vote(self, voter: Identity, poll_id: str, option: int) -> tuple[Poll, bool]:
        """Vote, or change one's vote, until the poll closes; ``True`` if anything changed."""
        poll = self.poll(poll_id)
        if poll.closed:
            raise ApiError(409, "poll_closed", "The poll is closed")
        if not 0 <= option < len(poll.options):
            raise ApiError(422, "invalid", f"option must be 0..{len(poll.options) - 1}")
        if poll.votes.get(voter.user_id) == option:
            return poll, False
        poll.votes[voter.user_id] = option
        return poll, True

    def drop_connections(self, prefix: str) -> tuple[list[str], list[CallMove]]:
        """Forget every connection whose key starts with ``prefix`` (a dead node's);
        returns the users who left because of it, and the calls that moved."""
        left: list[str] = []
        moves: list[CallMove] = []
        for participant in list(self.participants.values()):
            previous = participant.call_connection
            kept = [c for c in participant.connections if not c.startswith(prefix)]
            if len(kept) == len(participant.connections):
                continue
            participant.connections = kept
            participant.sfu_connections = [c for c in participant.sfu_connections if c in kept]
            if not kept:
                del self.participants[participant.id]
                left.append(participant.id)
            elif participant.call_connection != previous:
                moves.append(self._moved(participant, None))
        return left, moves

    # --- persistence (PostgreSQL registry) --------------------------------
    def to_state(self) -> dict[str, Any]:
        """Participants and polls as JSON (chat is stored apart, message by message)."""
        return {
            "participants": [
                {"id": p.id, "name": p.name, "role": p.role, "handRaised": p.hand_raised,
                 "handRaisedAt": p.hand_raised_at, "connections": list(p.connections),
                 "media": [p.media.audio, p.media.video, p.media.screen],
                 "sfu": list(p.sfu_connections)}
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
                list(p["connections"]), Media(*p.get("media", ())), list(p.get("sfu", ())))
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

    @staticmethod
    def socket_id(key: str) -> str:
        """The Socket.IO id inside a connection key (the room that reaches it on any node)."""
        return key.rpartition("/")[2]

    @asynccontextmanager
    async def edit(self, session_id: str) -> AsyncIterator[Meeting]:
        """The meeting, to change; the block must not await (it is atomic by that)."""
        yield self.get(session_id)

    @asynccontextmanager
    async def view(self, session_id: str) -> AsyncIterator[Meeting]:
        """The meeting, to read."""
        yield self.get(session_id)

    async def chat_before(self, session_id: str, before: str | None, limit: int
                          ) -> tuple[list[ChatMessage], bool]:
        """Older chat (``chat-history``): see :meth:`Meeting.chat_before`."""
        return self.get(session_id).chat_before(before, limit)

    async def end(self, session_id: str) -> None:
        """Forget an ended meeting's live state (PostgreSQL: ``end_session`` deleted it)."""
        self._meetings.pop(session_id, None)

    def attach(self, on_left: Callable[[str, str], Awaitable[None]],
               on_evicted: Callable[[], Awaitable[None]],
               on_moved: Callable[[str, CallMove], Awaitable[None]] | None = None) -> None:
        """How to announce users who left with a dead node, how to drop this node's
        connections, and how to announce calls that moved off a dead node; only a
        registry shared by several nodes needs them."""

    async def start(self) -> None:
        """Called once the storage is open."""

    async def stop(self) -> None:
        """Called before the storage closes."""
