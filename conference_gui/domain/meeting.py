"""Participants, chat messages, polls and the join acknowledgement, as parsed
from the wire. Pure data: the Qt models wrap these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conference_gui.domain.call import MESH_ACTIVE, NOTHING, CallInfo, MediaState
from conference_gui.domain.resources import Person
from conference_gui.domain.wire import PayloadError, get_bool, get_int, get_str, parse_time


def _obj(data: object, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PayloadError(f"{what} must be an object")
    return data


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    name: str
    role: str  # "host" | "participant"
    hand_raised: bool
    hand_raised_at: datetime | None = None
    #: what this participant sends right now (wire contract v2; all off before v2)
    media: MediaState = NOTHING

    @property
    def is_host(self) -> bool:
        return self.role == "host"

    @classmethod
    def from_wire(cls, data: object) -> Participant:
        d = _obj(data, "participant")
        role = get_str(d, "role", max_len=32)
        if role not in ("host", "participant"):
            raise PayloadError(f"unknown role {role!r}")
        raised_at = d.get("handRaisedAt")
        media = d.get("media")
        return cls(
            id=get_str(d, "id", max_len=200),
            name=get_str(d, "name", max_len=1024),
            role=role,
            hand_raised=get_bool(d, "handRaised", False),
            hand_raised_at=parse_time(raised_at) if raised_at is not None else None,
            media=media_from_wire(media) if media is not None else NOTHING,
        )


def media_from_wire(data: object) -> MediaState:
    d = _obj(data, "media")
    return MediaState(get_bool(d, "audio"), get_bool(d, "video"), get_bool(d, "screen"))


def call_from_wire(data: object) -> CallInfo:
    d = _obj(data, "call")
    return CallInfo(get_str(d, "mode", max_len=32), get_bool(d, "active"))


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: str
    sender: Person
    text: str
    sent_at: datetime

    @classmethod
    def from_wire(cls, data: object) -> ChatMessage:
        d = _obj(data, "message")
        sender = _obj(d.get("from"), "message.from")
        return cls(
            id=get_str(d, "id", max_len=200),
            sender=Person(
                get_str(sender, "id", max_len=200), get_str(sender, "name", max_len=1024)
            ),
            text=get_str(d, "text", max_len=100_000),
            sent_at=parse_time(d.get("sentAt")),
        )


@dataclass(frozen=True, slots=True)
class PollOption:
    text: str
    votes: int


@dataclass(frozen=True, slots=True)
class Poll:
    id: str
    question: str
    options: tuple[PollOption, ...]
    closed: bool
    created_by: str
    #: The option this client's user voted for, when the server says (acks carry
    #: ``myVote``; room broadcasts do not, so ``None`` there means "not said").
    my_vote: int | None = None

    @property
    def total_votes(self) -> int:
        return sum(o.votes for o in self.options)

    @classmethod
    def from_wire(cls, data: object) -> Poll:
        d = _obj(data, "poll")
        raw_options = d.get("options")
        if not isinstance(raw_options, list) or not raw_options:
            raise PayloadError("poll.options must be a non-empty list")
        options = []
        for raw in raw_options:
            o = _obj(raw, "poll option")
            votes = get_int(o, "votes")
            if votes < 0:
                raise PayloadError("poll votes must not be negative")
            options.append(PollOption(get_str(o, "text", max_len=1000), votes))
        created_by = d.get("createdBy")
        if isinstance(created_by, dict):  # tolerate {"id", "name"} as well as an id
            created_by = created_by.get("id")
        if not isinstance(created_by, str):
            raise PayloadError("poll.createdBy must be a user id")
        my_vote = d.get("myVote")
        if my_vote is not None and (
            not isinstance(my_vote, int)
            or isinstance(my_vote, bool)
            or not 0 <= my_vote < len(options)
        ):
            raise PayloadError("poll.myVote must be an option index or null")
        return cls(
            id=get_str(d, "id", max_len=200),
            question=get_str(d, "question", max_len=2000),
            options=tuple(options),
            closed=get_bool(d, "closed", False),
            created_by=created_by,
            my_vote=my_vote,
        )


@dataclass(frozen=True, slots=True)
class JoinAck:
    """What ``join-session`` answers: who we are and the state to start from."""

    me: Participant
    participants: tuple[Participant, ...]
    resource_revision: int
    polls: tuple[Poll, ...]
    #: Recent chat, oldest first, if the server sends it (optional ``chat`` key).
    chat: tuple[ChatMessage, ...] = ()
    #: This connection's part in the call (v2; a server without it: mesh, active).
    call: CallInfo = MESH_ACTIVE

    @classmethod
    def from_wire(cls, data: object) -> JoinAck:
        d = _obj(data, "join-session ack")
        people = d.get("participants")
        polls = d.get("polls", [])
        chat = d.get("chat", [])
        if not isinstance(people, list) or not isinstance(polls, list):
            raise PayloadError("participants and polls must be lists")
        if not isinstance(chat, list):
            raise PayloadError("chat must be a list")
        rev = get_int(d, "resourceRevision")
        if rev < 0:
            raise PayloadError("resourceRevision must not be negative")
        return cls(
            me=Participant.from_wire(d.get("self")),
            participants=tuple(Participant.from_wire(p) for p in people),
            resource_revision=rev,
            polls=tuple(Poll.from_wire(p) for p in polls),
            chat=tuple(ChatMessage.from_wire(m) for m in chat),
            call=call_from_wire(d["call"]) if d.get("call") is not None else MESH_ACTIVE,
        )


@dataclass(frozen=True, slots=True)
class SignalMessage:
    """A WebRTC signaling message relayed by the server to exactly one peer."""

    sender_id: str
    data: dict[str, Any]

    @classmethod
    def from_wire(cls, data: object) -> SignalMessage:
        d = _obj(data, "signal")
        return cls(
            sender_id=get_str(d, "from", max_len=200), data=_obj(d.get("data"), "signal.data")
        )
