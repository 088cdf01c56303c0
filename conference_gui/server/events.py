"""Domain events and the in-process bus that carries them.

Everything that changes a session is published here (REST and socket
handlers alike); one subscriber, the socket bridge, turns events into
Socket.IO emits. Subscribers are awaited one after the other, in publish
order, so events leave in the order they happened.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from conference_gui import protocol as wire

from .meeting import ChatMessage, Participant, Poll
from .storage import ResourceRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResourceUploaded:
    session_id: str
    resource: ResourceRecord
    revision: int


@dataclass(frozen=True, slots=True)
class ResourceDeleted:
    session_id: str
    resource_id: str
    revision: int
    #: (user id, name) of who deleted it, for the others' "Ann removed notes.txt"
    deleted_by: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ParticipantJoined:
    session_id: str
    participant: Participant


@dataclass(frozen=True, slots=True)
class ParticipantUpdated:
    session_id: str
    participant: Participant


@dataclass(frozen=True, slots=True)
class ParticipantLeft:
    session_id: str
    participant_id: str


@dataclass(frozen=True, slots=True)
class ChatPosted:
    session_id: str
    message: ChatMessage


@dataclass(frozen=True, slots=True)
class PollCreated:
    session_id: str
    poll: Poll


@dataclass(frozen=True, slots=True)
class PollUpdated:
    session_id: str
    poll: Poll


@dataclass(frozen=True, slots=True)
class PollClosed:
    session_id: str
    poll: Poll


@dataclass(frozen=True, slots=True)
class SignalRelayed:
    """WebRTC signaling for exactly one addressee."""

    session_id: str
    sender_id: str
    recipient_id: str
    #: the Socket.IO id of the addressee's call connection
    socket_id: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallMoved:
    """One connection gained or lost its user's call (see ``meeting.py``)."""

    session_id: str
    socket_id: str
    call: wire.Call  # the ``call`` object of the join ack, as it is now for that socket


@dataclass(frozen=True, slots=True)
class MeetingEnded:
    """The host ended the meeting for everyone."""

    session_id: str
    ended_by_id: str
    ended_by_name: str
    ended_at: str


@dataclass(frozen=True, slots=True)
class ReactionSent:
    """Someone reacted (thumbs up, clap, …): shown briefly over their tile."""

    session_id: str
    participant_id: str
    reaction: wire.Reaction
    sent_at: str


DomainEvent = (
    ResourceUploaded | ResourceDeleted | ParticipantJoined | ParticipantUpdated
    | ParticipantLeft | ChatPosted | PollCreated | PollUpdated | PollClosed | SignalRelayed
    | CallMoved | MeetingEnded | ReactionSent
)
Subscriber = Callable[[DomainEvent], Awaitable[None]]


class EventBus:
    """Publish/subscribe within one server process."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns the function that removes it again."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    async def publish(self, event: DomainEvent) -> None:
        """Deliver to every subscriber; one failing subscriber never stops the others."""
        for subscriber in list(self._subscribers):
            try:
                await subscriber(event)
            except Exception:
                log.exception("subscriber %r failed on %s", subscriber, type(event).__name__)
