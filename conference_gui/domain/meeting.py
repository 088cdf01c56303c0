"""Participants, chat messages, polls and the join acknowledgement, as parsed
from the wire. Pure data: the Qt models wrap these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conference_gui import protocol as wire
from conference_gui.domain.call import MESH_ACTIVE, NOTHING, CallInfo, MediaState
from conference_gui.domain.resources import Person
from conference_gui.domain.wire import PayloadError, decode, parse_time


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
        return cls.of(decode(data, wire.Participant))

    @classmethod
    def of(cls, p: wire.Participant) -> Participant:
        return cls(
            id=p.id,
            name=p.name,
            role=p.role,
            hand_raised=p.hand_raised,
            hand_raised_at=parse_time(p.hand_raised_at) if p.hand_raised_at is not None else None,
            media=media_of(p.media),
        )


_MEDIA = {(a, v, s): MediaState(a, v, s) for a in (False, True) for v in (False, True)
          for s in (False, True)}


def media_of(m: wire.MediaState) -> MediaState:
    return _MEDIA[m.audio, m.video, m.screen]


def call_of(c: wire.Call) -> CallInfo:
    return MESH_ACTIVE if c.mode == "mesh" and c.active else CallInfo(c.mode, c.active)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: str
    sender: Person
    text: str
    sent_at: datetime

    @classmethod
    def from_wire(cls, data: object) -> ChatMessage:
        return cls.of(decode(data, wire.ChatMessage))

    @classmethod
    def of(cls, m: wire.ChatMessage) -> ChatMessage:
        return cls(id=m.id, sender=Person(m.from_.id, m.from_.name), text=m.text,
                   sent_at=parse_time(m.sent_at))


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
        return cls.of(decode(data, wire.Poll))

    @classmethod
    def of(cls, p: wire.Poll) -> Poll:
        my_vote = p.my_vote if isinstance(p.my_vote, int) else None
        if my_vote is not None and not 0 <= my_vote < len(p.options):
            raise PayloadError("poll.myVote must be an option index or null")
        created_by = p.created_by if isinstance(p.created_by, str) else p.created_by.id
        return cls(
            id=p.id,
            question=p.question,
            options=tuple(PollOption(o.text, o.votes) for o in p.options),
            closed=p.closed,
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
    #: Older chat than ``chat`` exists on the server (``chat-history`` fetches it).
    chat_more: bool = False

    @classmethod
    def from_wire(cls, data: object) -> JoinAck:
        ack = decode(data, wire.JoinAck)
        return cls(
            me=Participant.of(ack.self_),
            participants=tuple(Participant.of(p) for p in ack.participants),
            resource_revision=ack.resource_revision,
            polls=tuple(Poll.of(p) for p in ack.polls),
            chat=tuple(ChatMessage.of(m) for m in ack.chat),
            call=call_of(ack.call),
            chat_more=ack.chat_more,
        )


@dataclass(frozen=True, slots=True)
class ChatPage:
    """An answer to ``chat-history``: older messages, oldest first, and whether there
    are older ones still."""

    messages: tuple[ChatMessage, ...]
    more: bool

    @classmethod
    def from_wire(cls, data: object) -> ChatPage:
        page = decode(data, wire.ChatHistoryAck)
        return cls(tuple(ChatMessage.of(m) for m in page.messages), page.more)


@dataclass(frozen=True, slots=True)
class MeetingEnded:
    """The host ended the meeting for everyone (``meeting-ended``)."""

    ended_by: Person
    ended_at: datetime

    @classmethod
    def from_wire(cls, data: object) -> MeetingEnded:
        event = decode(data, wire.MeetingEnded)
        return cls(Person(event.ended_by.id, event.ended_by.name), parse_time(event.ended_at))


#: The reactions of the wire contract, as people see them.
REACTION_EMOJI: dict[str, str] = {
    "thumbs-up": "👍", "clap": "👏", "laugh": "😂", "heart": "❤️", "party": "🎉",
    "surprised": "😮",
}


@dataclass(frozen=True, slots=True)
class Reaction:
    """Someone reacted (``reaction``, an addition to the wire contract)."""

    participant_id: str
    reaction: str
    sent_at: datetime

    @property
    def emoji(self) -> str:
        return REACTION_EMOJI.get(self.reaction, "")

    @classmethod
    def from_wire(cls, data: object) -> Reaction:
        event = decode(data, wire.ReactionEvent)
        return cls(event.participant_id, event.reaction, parse_time(event.sent_at))


@dataclass(frozen=True, slots=True)
class SignalMessage:
    """A WebRTC signaling message relayed by the server to exactly one peer."""

    sender_id: str
    data: dict[str, Any]

    @classmethod
    def from_wire(cls, data: object) -> SignalMessage:
        event = decode(data, wire.SignalEvent)
        return cls(sender_id=event.from_, data=event.data)
