"""The JSON shapes of wire contract v1 and v2, built in one place."""

from __future__ import annotations

from typing import Any

from .meeting import ChatMessage, Participant, Poll
from .storage import ResourceRecord, SessionRecord

JSON = dict[str, Any]


def session_json(session: SessionRecord) -> JSON:
    return {"id": session.id, "title": session.title}


def resource_json(resource: ResourceRecord) -> JSON:
    return {
        "id": resource.id,
        "sessionId": resource.session_id,
        "name": resource.name,
        "size": resource.size,
        "contentType": resource.content_type,
        "uploadedBy": {"id": resource.uploader_id, "name": resource.uploader_name},
        "uploadedAt": resource.uploaded_at,
    }


def participant_json(participant: Participant) -> JSON:
    return {
        "id": participant.id,
        "name": participant.name,
        "role": participant.role,
        "handRaised": participant.hand_raised,
        "handRaisedAt": participant.hand_raised_at,
        "media": {"audio": participant.media.audio, "video": participant.media.video,
                  "screen": participant.media.screen},
    }


def chat_json(message: ChatMessage) -> JSON:
    return {
        "id": message.id,
        "from": {"id": message.sender_id, "name": message.sender_name},
        "text": message.text,
        "sentAt": message.sent_at,
    }


def poll_json(poll: Poll, viewer_id: str | None = None) -> JSON:
    """A poll; with ``viewer_id`` (acks to one user) it also says what that user voted."""
    body: JSON = {
        "id": poll.id,
        "question": poll.question,
        "options": [
            {"text": text, "votes": votes}
            for text, votes in zip(poll.options, poll.tally(), strict=True)
        ],
        "closed": poll.closed,
        "createdBy": poll.created_by,
    }
    if viewer_id is not None:
        body["myVote"] = poll.votes.get(viewer_id)
    return body
