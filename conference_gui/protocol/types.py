"""Every JSON shape of the wire contract, declared once (SPEC section 2, v1 and v2,
and the additions in docs/WIRE.md).

The server validates what it receives with these types and builds what it sends
with them; the client decodes what it receives with the same types; the OpenAPI
document is generated from them. Unknown fields are ignored everywhere (a newer
peer may add keys); only the error object is closed.

Field names are the wire's (``rename="camel"``); ``from`` and ``self`` are Python
keywords and are renamed by hand. Lengths are generous sanity bounds for what
anyone may send; the server's own, tighter rules (display names of 64
characters after cleaning, ...) are applied by the server after decoding.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field

# --- building blocks ----------------------------------------------------------------

Id = Annotated[str, Meta(min_length=1, max_length=200, description="An opaque id")]
Name = Annotated[str, Meta(min_length=1, max_length=1024)]
#: An ISO-8601 UTC time; kept as text so what the server wrote is what is sent.
Timestamp = Annotated[str, Meta(min_length=1, max_length=64,
                                extra_json_schema={"format": "date-time"})]
Revision = Annotated[int, Meta(ge=0)]
Role = Literal["host", "participant"]
#: Raw text fields of requests, before the server cleans them (display names, titles).
RawField = Annotated[str, Meta(max_length=1000)]

MAX_QUESTION_LENGTH = 500
MAX_OPTION_LENGTH = 200
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_CHAT_LENGTH = 4000
#: A chat message before cleaning (``\r\n`` becomes ``\n``, invisible characters go).
MAX_RAW_CHAT_LENGTH = 4 * MAX_CHAT_LENGTH


class _Wire(Struct, rename="camel", frozen=True, kw_only=True):
    """Base of every wire object: camelCase keys, immutable, unknown keys ignored."""


class Empty(_Wire, frozen=True, kw_only=True):
    """A payload without fields (``{}``)."""


class Ok(_Wire, frozen=True, kw_only=True):
    ok: Literal[True] = True


# --- errors -----------------------------------------------------------------------

class ErrorDetail(_Wire, forbid_unknown_fields=True, frozen=True, kw_only=True):
    code: Annotated[str, Meta(min_length=1)]
    message: Annotated[str, Meta(min_length=1)]


class Error(_Wire, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Every refusal, over HTTP and in socket acks: show ``message``, branch on ``code``."""

    error: ErrorDetail


# --- people and meeting state -------------------------------------------------------

class Person(_Wire, frozen=True, kw_only=True):
    id: Id
    name: Name


class MediaState(_Wire, frozen=True, kw_only=True):
    """What a participant sends right now (v2); all three keys are required."""

    audio: bool
    video: bool
    screen: bool


MEDIA_OFF = MediaState(audio=False, video=False, screen=False)


class Participant(_Wire, frozen=True, kw_only=True):
    id: Id
    name: Name
    role: Role
    hand_raised: bool = False
    #: (addition) when the hand went up, or null
    hand_raised_at: Timestamp | None = None
    #: (v2) what the participant sends; a v1 peer's participant has none: all off
    media: MediaState = MEDIA_OFF


class ChatMessage(_Wire, frozen=True, kw_only=True):
    id: Id
    from_: Person = field(name="from")
    text: Annotated[str, Meta(min_length=1, max_length=100_000)]
    sent_at: Timestamp


class PollOption(_Wire, frozen=True, kw_only=True):
    text: Annotated[str, Meta(min_length=1, max_length=1000)]
    votes: Annotated[int, Meta(ge=0)]


class Poll(_Wire, frozen=True, kw_only=True):
    id: Id
    question: Annotated[str, Meta(min_length=1, max_length=2000)]
    options: Annotated[list[PollOption], Meta(min_length=1)]
    #: the creator's user id (``{"id", "name"}`` from other servers is accepted too)
    created_by: Id | Person
    closed: bool = False
    #: (addition) in answers to one user only: that user's vote, or null
    my_vote: int | UnsetType | None = UNSET


class Call(_Wire, frozen=True, kw_only=True):
    """(addition) How this connection takes part in the call (docs/WIRE.md)."""

    mode: Annotated[str, Meta(min_length=1, max_length=32)] = "mesh"
    #: is this connection its user's call connection?
    active: bool = True


# --- REST -----------------------------------------------------------------------

class Session(_Wire, frozen=True, kw_only=True):
    id: Id
    title: str


class Resource(_Wire, frozen=True, kw_only=True):
    id: Id
    session_id: Id
    name: Name
    size: Annotated[int, Meta(ge=0)]
    content_type: Annotated[str, Meta(max_length=255)]
    uploaded_by: Person
    uploaded_at: Timestamp


class CreateSessionBody(_Wire, frozen=True, kw_only=True):
    title: RawField
    name: RawField


class JoinSessionBody(_Wire, frozen=True, kw_only=True):
    name: RawField
    invite: RawField


class SessionCreated(_Wire, frozen=True, kw_only=True):
    session: Session
    user_id: Id
    token: str
    invite: str


class SessionJoined(_Wire, frozen=True, kw_only=True):
    session: Session
    user_id: Id
    token: str


class ResourceList(_Wire, frozen=True, kw_only=True):
    revision: Revision
    resources: list[Resource]


class ResourceStored(_Wire, frozen=True, kw_only=True):
    resource: Resource
    revision: Revision


class RevisionAnswer(_Wire, frozen=True, kw_only=True):
    revision: Revision


class ServerInfo(_Wire, frozen=True, kw_only=True):
    version: str
    max_upload_bytes: Annotated[int, Meta(ge=1)]


# --- Socket.IO: client -> server payloads ------------------------------------------

class JoinSession(_Wire, frozen=True, kw_only=True):
    session_id: str
    #: (addition) false: do not take the call from another connection of this user
    take_call: bool = True


class RaiseHand(_Wire, frozen=True, kw_only=True):
    raised: bool


class LowerHand(_Wire, frozen=True, kw_only=True):
    participant_id: str


class ChatSend(_Wire, frozen=True, kw_only=True):
    text: Annotated[str, Meta(max_length=MAX_RAW_CHAT_LENGTH)]


class PollCreate(_Wire, frozen=True, kw_only=True):
    question: Annotated[str, Meta(max_length=MAX_QUESTION_LENGTH)]
    options: Annotated[
        list[Annotated[str, Meta(max_length=MAX_OPTION_LENGTH)]],
        Meta(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS),
    ]


class PollVote(_Wire, frozen=True, kw_only=True):
    poll_id: str
    option: int


class PollClose(_Wire, frozen=True, kw_only=True):
    poll_id: str


class SignalSend(_Wire, frozen=True, kw_only=True):
    to: str
    data: dict[str, Any]


class ChatHistory(_Wire, frozen=True, kw_only=True):
    """(addition) Older chat: the messages before ``before`` (a message id; null: the newest)."""

    before: str | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 50


# --- Socket.IO: acks and server -> client events ------------------------------------

class JoinAck(_Wire, frozen=True, kw_only=True):
    self_: Participant = field(name="self")
    participants: list[Participant]
    resource_revision: Revision
    polls: list[Poll] = []
    #: (addition) recent chat, oldest first
    chat: list[ChatMessage] = []
    #: (addition) older chat exists: fetch it with ``chat-history``
    chat_more: bool = False
    #: (addition, v2) this connection's part in the call
    call: Call = Call()


class ChatAck(_Wire, frozen=True, kw_only=True):
    message: ChatMessage


class PollAck(_Wire, frozen=True, kw_only=True):
    poll: Poll


class CallAck(_Wire, frozen=True, kw_only=True):
    call: Call


class ChatHistoryAck(_Wire, frozen=True, kw_only=True):
    """Messages oldest first; ``more``: there are older ones still."""

    messages: list[ChatMessage]
    more: bool


class ResourceUploaded(_Wire, frozen=True, kw_only=True):
    resource: Resource
    revision: Revision


class ResourceDeleted(_Wire, frozen=True, kw_only=True):
    resource_id: Id
    revision: Revision
    #: who deleted it (an addition: docs/WIRE.md); null from older servers
    deleted_by: Person | None = None


class ParticipantEvent(_Wire, frozen=True, kw_only=True):
    """``participant-joined`` and ``participant-updated``."""

    participant: Participant


class ParticipantLeft(_Wire, frozen=True, kw_only=True):
    participant_id: Id


class ChatEvent(_Wire, frozen=True, kw_only=True):
    """``chat-message`` from the server."""

    message: ChatMessage


class PollEvent(_Wire, frozen=True, kw_only=True):
    """``poll-created``, ``poll-updated``, ``poll-closed``."""

    poll: Poll


class SignalEvent(_Wire, frozen=True, kw_only=True):
    from_: Id = field(name="from")
    data: dict[str, Any]


class CallMoved(_Wire, frozen=True, kw_only=True):
    call: Call


#: The reactions a participant can send (names, not free text: a reaction is not chat).
REACTIONS = ("thumbs-up", "clap", "laugh", "heart", "party", "surprised")
Reaction = Literal["thumbs-up", "clap", "laugh", "heart", "party", "surprised"]


class ReactionSend(_Wire, frozen=True, kw_only=True):
    """``reaction`` (an addition): shown briefly over the sender's tile everywhere."""

    reaction: Reaction


class ReactionEvent(_Wire, frozen=True, kw_only=True):
    participant_id: Id
    reaction: Reaction
    sent_at: str


class MeetingEnded(_Wire, frozen=True, kw_only=True):
    """(addition) The host ended the meeting for everyone; its files are deleted."""

    ended_by: Person
    ended_at: Timestamp


# --- Socket.IO: the SFU (docs/WIRE.md, "The SFU") -----------------------------------

#: An SDP from a client or from the media server (the server also applies --max-signal-kb).
Sdp = Annotated[str, Meta(min_length=1, max_length=256 * 1024)]
#: What one media section of a subscription carries.
SfuSection = Literal["audio", "camera", "screen"]
CallModeName = Literal["mesh", "sfu"]


class SfuPublish(_Wire, frozen=True, kw_only=True):
    """``sfu-publish``: the client's offer (audio, camera, screen; candidates inside)."""

    sdp: Sdp


class SfuPublishAck(_Wire, frozen=True, kw_only=True):
    """The media server's answer, and who publishes there now (the sender excluded)."""

    sdp: Sdp
    publishers: list[Id] = []


class SfuSubscribe(_Wire, frozen=True, kw_only=True):
    """``sfu-subscribe``: receive ``participantId``'s media through the SFU."""

    participant_id: Id


class SfuSubscribeAck(_Wire, frozen=True, kw_only=True):
    """The media server's offer for one subscription; ``sections`` names its m-lines in order."""

    subscription: Id
    participant_id: Id
    sdp: Sdp
    sections: list[SfuSection]


class SfuAnswer(_Wire, frozen=True, kw_only=True):
    """``sfu-answer``: the client's answer to a subscription's offer."""

    subscription: Id
    sdp: Sdp


class SfuUnsubscribe(_Wire, frozen=True, kw_only=True):
    subscription: Id


class CallModeEvent(_Wire, frozen=True, kw_only=True):
    """``call-mode`` (to everyone in the session): how the call carries media from now on.

    ``reason`` says why a call went back to the mesh while it is big
    (``"media-server-lost"``), else null.
    """

    mode: CallModeName
    reason: Annotated[str, Meta(max_length=64)] | None = None


class SfuPublisherEvent(_Wire, frozen=True, kw_only=True):
    """``sfu-published`` / ``sfu-unpublished`` (to everyone in the session)."""

    participant_id: Id


#: Every client -> server event and the type of its payload.
CLIENT_EVENTS: dict[str, type[Struct]] = {
    "join-session": JoinSession,
    "raise-hand": RaiseHand,
    "lower-hand": LowerHand,
    "chat-message": ChatSend,
    "poll-create": PollCreate,
    "poll-vote": PollVote,
    "poll-close": PollClose,
    "signal": SignalSend,
    "media-state": MediaState,
    "call-claim": Empty,
    "chat-history": ChatHistory,
    "end-meeting": Empty,
    "reaction": ReactionSend,
    "sfu-publish": SfuPublish,
    "sfu-subscribe": SfuSubscribe,
    "sfu-answer": SfuAnswer,
    "sfu-unsubscribe": SfuUnsubscribe,
    "sfu-leave": Empty,
}

#: Every server -> client event and the type of its payload.
SERVER_EVENTS: dict[str, type[Struct]] = {
    "resource-uploaded": ResourceUploaded,
    "resource-deleted": ResourceDeleted,
    "participant-joined": ParticipantEvent,
    "participant-updated": ParticipantEvent,
    "participant-left": ParticipantLeft,
    "chat-message": ChatEvent,
    "poll-created": PollEvent,
    "poll-updated": PollEvent,
    "poll-closed": PollEvent,
    "signal": SignalEvent,
    "call-moved": CallMoved,
    "meeting-ended": MeetingEnded,
    "reaction": ReactionEvent,
    "call-mode": CallModeEvent,
    "sfu-published": SfuPublisherEvent,
    "sfu-unpublished": SfuPublisherEvent,
}

#: The successful ack of every client -> server event (a refusal is an :class:`Error`).
CLIENT_ACKS: dict[str, type[Struct]] = {
    "join-session": JoinAck,
    "raise-hand": Ok,
    "lower-hand": Ok,
    "chat-message": ChatAck,
    "poll-create": PollAck,
    "poll-vote": PollAck,
    "poll-close": PollAck,
    "signal": Ok,
    "media-state": Ok,
    "call-claim": CallAck,
    "chat-history": ChatHistoryAck,
    "end-meeting": Ok,
    "reaction": Ok,
    "sfu-publish": SfuPublishAck,
    "sfu-subscribe": SfuSubscribeAck,
    "sfu-answer": Ok,
    "sfu-unsubscribe": Ok,
    "sfu-leave": Ok,
}
