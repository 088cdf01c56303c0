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

from .events import (
    CallMoved,
    ChatPosted,
    DomainEvent,
    EventBus,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
    PollClosed,
    PollCreated,
    PollUpdated,
    ResourceDeleted,
    ResourceUploaded,
    SignalRelayed,
)
from .wire import JSON, chat_json, participant_json, poll_json, resource_json

NAMESPACE = "/video"


def session_room(session_id: str) -> str:
    return f"session:{session_id}"


def to_emit(event: DomainEvent) -> tuple[str, JSON, str]:
    """``(event name, payload, room)`` for a domain event."""
    room = session_room(event.session_id)
    match event:
        case ResourceUploaded(resource=resource, revision=revision):
            return "resource-uploaded", {"resource": resource_json(resource),
                                         "revision": revision}, room
        case ResourceDeleted(resource_id=resource_id, revision=revision):
            return "resource-deleted", {"resourceId": resource_id, "revision": revision}, room
        case ParticipantJoined(participant=participant):
            return "participant-joined", {"participant": participant_json(participant)}, room
        case ParticipantUpdated(participant=participant):
            return "participant-updated", {"participant": participant_json(participant)}, room
        case ParticipantLeft(participant_id=participant_id):
            return "participant-left", {"participantId": participant_id}, room
        case ChatPosted(message=message):
            return "chat-message", {"message": chat_json(message)}, room
        case PollCreated(poll=poll):
            return "poll-created", {"poll": poll_json(poll)}, room
        case PollUpdated(poll=poll):
            return "poll-updated", {"poll": poll_json(poll)}, room
        case PollClosed(poll=poll):
            return "poll-closed", {"poll": poll_json(poll)}, room
        case SignalRelayed(sender_id=sender, socket_id=socket_id, data=data):
            return "signal", {"from": sender, "data": data}, socket_id
        case CallMoved(socket_id=socket_id, call=call):
            return "call-moved", {"call": call}, socket_id
    raise TypeError(f"no emit for {type(event).__name__}")  # pragma: no cover


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
