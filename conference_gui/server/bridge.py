"""The one place where domain events become Socket.IO emits.

Session events go to the room ``session:<sid>`` (sender included); a
``signal`` goes only to the addressee's call connection, and ``call-moved``
only to the connection it concerns - both to the room named after that
socket's id, which python-socketio keeps for every socket. With a
message-queue client manager (Redis) the same emits reach sockets on other
nodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from conference_gui import protocol as wire

from .events import (
    CallMoved,
    ChatPosted,
    DomainEvent,
    EventBus,
    MeetingEnded,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
    PollClosed,
    PollCreated,
    PollUpdated,
    ReactionSent,
    ResourceDeleted,
    ResourceUploaded,
    SignalRelayed,
)
from .wire import JSON, chat_wire, out, participant_wire, poll_wire, resource_wire

NAMESPACE = "/video"


def session_room(session_id: str) -> str:
    return f"session:{session_id}"


def to_emit(event: DomainEvent) -> tuple[str, JSON, str]:
    """``(event name, payload, room)`` for a domain event."""
    room = session_room(event.session_id)
    payload: wire.Struct
    match event:
        case ResourceUploaded(resource=resource, revision=revision):
            name = "resource-uploaded"
            payload = wire.ResourceUploaded(resource=resource_wire(resource), revision=revision)
        case ResourceDeleted(resource_id=resource_id, revision=revision, deleted_by=by):
            name = "resource-deleted"
            payload = wire.ResourceDeleted(
                resource_id=resource_id,
                revision=revision,
                deleted_by=wire.Person(id=by[0], name=by[1]) if by is not None else None,
            )
        case ParticipantJoined(participant=participant):
            name = "participant-joined"
            payload = wire.ParticipantEvent(participant=participant_wire(participant))
        case ParticipantUpdated(participant=participant):
            name = "participant-updated"
            payload = wire.ParticipantEvent(participant=participant_wire(participant))
        case ParticipantLeft(participant_id=participant_id):
            name = "participant-left"
            payload = wire.ParticipantLeft(participant_id=participant_id)
        case ChatPosted(message=message):
            name, payload = "chat-message", wire.ChatEvent(message=chat_wire(message))
        case PollCreated(poll=poll):
            name, payload = "poll-created", wire.PollEvent(poll=poll_wire(poll))
        case PollUpdated(poll=poll):
            name, payload = "poll-updated", wire.PollEvent(poll=poll_wire(poll))
        case PollClosed(poll=poll):
            name, payload = "poll-closed", wire.PollEvent(poll=poll_wire(poll))
        case SignalRelayed(sender_id=sender, socket_id=socket_id, data=data):
            name, payload = "signal", wire.SignalEvent(from_=sender, data=data)
            room = socket_id
        case CallMoved(socket_id=socket_id, call=call):
            name, payload, room = "call-moved", wire.CallMoved(call=call), socket_id
        case MeetingEnded(ended_by_id=by_id, ended_by_name=by_name, ended_at=at):
            name = "meeting-ended"
            payload = wire.MeetingEnded(ended_by=wire.Person(id=by_id, name=by_name),
                                        ended_at=at)
        case ReactionSent(participant_id=pid, reaction=reaction, sent_at=at):
            name = "reaction"
            payload = wire.ReactionEvent(participant_id=pid, reaction=reaction, sent_at=at)
        case _:  # pragma: no cover
            raise TypeError(f"no emit for {type(event).__name__}")
    return name, out(payload), room


#: Longest an emit may take. With Redis an emit is a PUBLISH; a Redis that stopped
#: answering must not hold the per-meeting ordering lock (``Storage.ordered``) for
#: ever. An emit given up is a lost message, which clients heal by revision.
EMIT_TIMEOUT_SECONDS = 5.0


class SocketBridge:
    """Subscribes to the bus and emits each event to its room in ``/video``."""

    def __init__(self, sio: Any, timeout: float = EMIT_TIMEOUT_SECONDS) -> None:
        self._sio = sio
        self._timeout = timeout

    def attach(self, bus: EventBus) -> Callable[[], None]:
        return bus.subscribe(self.forward)

    async def forward(self, event: DomainEvent) -> None:
        name, payload, room = to_emit(event)
        await asyncio.wait_for(
            self._sio.emit(name, payload, room=room, namespace=NAMESPACE), self._timeout
        )
