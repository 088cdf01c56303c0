"""The server's records as the protocol's wire types (conference_gui.protocol), in one place.

Acks and emits go out as plain JSON values (:func:`out`), REST answers as
JSON bytes (``rest.py``); both are built from the same declared types the
client decodes with.
"""

from __future__ import annotations

from typing import Any

from conference_gui import protocol as wire

from .meeting import ChatMessage, Participant, Poll
from .storage import ResourceRecord, SessionRecord

JSON = dict[str, Any]


def out(value: Any) -> Any:
    """A protocol value as JSON values (what python-socketio serialises)."""
    return wire.to_json(value)


def session_wire(session: SessionRecord) -> wire.Session:
    return wire.Session(id=session.id, title=session.title)


def resource_wire(resource: ResourceRecord) -> wire.Resource:
    return wire.Resource(
        id=resource.id,
        session_id=resource.session_id,
        name=resource.name,
        size=resource.size,
        content_type=resource.content_type,
        uploaded_by=wire.Person(id=resource.uploader_id, name=resource.uploader_name),
        uploaded_at=resource.uploaded_at,
    )


def participant_wire(participant: Participant) -> wire.Participant:
    media = participant.media
    return wire.Participant(
        id=participant.id,
        name=participant.name,
        role=participant.role,
        hand_raised=participant.hand_raised,
        hand_raised_at=participant.hand_raised_at,
        media=wire.MediaState(audio=media.audio, video=media.video, screen=media.screen),
    )


def chat_wire(message: ChatMessage) -> wire.ChatMessage:
    return wire.ChatMessage(
        id=message.id,
        from_=wire.Person(id=message.sender_id, name=message.sender_name),
        text=message.text,
        sent_at=message.sent_at,
    )


def poll_wire(poll: Poll, viewer_id: str | None = None) -> wire.Poll:
    """A poll; with ``viewer_id`` (acks to one user) it also says what that user voted."""
    return wire.Poll(
        id=poll.id,
        question=poll.question,
        options=[wire.PollOption(text=text, votes=votes)
                 for text, votes in zip(poll.options, poll.tally(), strict=True)],
        closed=poll.closed,
        created_by=poll.created_by,
        my_vote=poll.votes.get(viewer_id) if viewer_id is not None else wire.UNSET,
    )


# The JSON shapes, for the test hooks and anything that wants plain values.
def resource_json(resource: ResourceRecord) -> JSON:
    return out(resource_wire(resource))


def participant_json(participant: Participant) -> JSON:
    return out(participant_wire(participant))


def chat_json(message: ChatMessage) -> JSON:
    return out(chat_wire(message))


def poll_json(poll: Poll, viewer_id: str | None = None) -> JSON:
    return out(poll_wire(poll, viewer_id))


def session_json(session: SessionRecord) -> JSON:
    return out(session_wire(session))
