"""The ``/video`` Socket.IO namespace: auth at connect, then meeting events with acks.

Every client event is answered through its ack, either with the result or
with ``{"error": {"code", "message"}}``; a handler never raises into
python-socketio. Changes are published on the event bus; the bridge emits
them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs

import msgspec
import socketio

from conference_gui import protocol as wire

from .auth import Identity
from .bridge import NAMESPACE, session_room
from .context import ServerContext
from .errors import ApiError, ended_error, error_body
from .events import (
    CallMoved,
    ChatPosted,
    MeetingEnded,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
    PollClosed,
    PollCreated,
    PollUpdated,
    ReactionSent,
    SignalRelayed,
)
from .ids import utc_now_iso
from .limits import RateLimiter
from .meeting import CallMove, ChatMessage, Media
from .names import clean_display_name, clean_text, has_visible
from .sfu import make_broker
from .transport import UNDECODABLE
from .validation import non_blank, parse
from .wire import chat_wire, out, participant_wire, poll_wire

log = logging.getLogger(__name__)

MAX_CHAT_LENGTH = wire.MAX_CHAT_LENGTH


class ConnectRefused(socketio.exceptions.ConnectionRefusedError):
    """Refuses a connection with ``{"code", "message"}`` as the connect_error data."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error_args = {"code": code, "message": message}


@dataclass(slots=True)
class SocketState:
    """Kept per socket with ``save_session``."""

    identity: Identity
    joined: bool = False
    #: the connection's name in the meeting's presence (``MeetingRegistry.connection_key``)
    key: str = ""


def _depth(value: object, limit: int) -> int:
    """How deeply ``value`` nests (stops counting past ``limit``); no recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children)
    return deepest


def _query_value(environ: dict[str, Any], key: str) -> str | None:
    values = parse_qs(environ.get("QUERY_STRING", "")).get(key)
    return values[0] if values else None


class VideoNamespace(socketio.AsyncNamespace):
    def __init__(self, ctx: ServerContext) -> None:
        super().__init__(NAMESPACE)
        self._ctx = ctx
        #: set when the server stops: its connections close, nobody "leaves"
        self.shutting_down = False
        config = ctx.config
        #: per event: a token bucket per participant (session id, user id)
        self._rates = {event: RateLimiter(rate, burst)
                       for event, (rate, burst) in config.event_rates.items()}
        #: live connections per (session id, user id) on this node
        self._connections: dict[tuple[str, str], int] = {}
        #: the SFU (docs/WIRE.md, "The SFU"): the call's mode and Janus's signaling
        self.sfu = make_broker(config, ctx.storage, ctx.meetings)
        # join-session is handled apart: it is the one event allowed before joining.
        # Each payload is decoded into its protocol type (wire.CLIENT_EVENTS) first.
        self._events: dict[str, Callable[[SocketState, Any], Awaitable[Any]]] = {
            "raise-hand": self.on_raise_hand,
            "lower-hand": self.on_lower_hand,
            "chat-message": self.on_chat_message,
            "poll-create": self.on_poll_create,
            "poll-vote": self.on_poll_vote,
            "poll-close": self.on_poll_close,
            "signal": self.on_signal,
            "media-state": self.on_media_state,
            "call-claim": self.on_call_claim,
            "chat-history": self.on_chat_history,
            "end-meeting": self.on_end_meeting,
            "reaction": self.on_reaction,
            "sfu-publish": self.on_sfu_publish,
            "sfu-subscribe": self.on_sfu_subscribe,
            "sfu-answer": self.on_sfu_answer,
            "sfu-unsubscribe": self.on_sfu_unsubscribe,
            "sfu-leave": self.on_sfu_leave,
        }
        #: sessions this node knows are ended (their events are refused at once)
        self._ended: set[str] = set()
        self._closing: set[asyncio.Task[None]] = set()
        assert set(self._events) | {"join-session"} == set(wire.CLIENT_EVENTS)

    # --- dispatch -------------------------------------------------------------
    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Route ``kebab-case`` events to ``on_snake_case`` and turn failures into error acks."""
        if event == "connect":
            return await self.on_connect(*args)
        if event == "disconnect":
            return await self.on_disconnect(*args)
        sid: str = args[0]
        payload = args[1] if len(args) > 1 else None
        if event == UNDECODABLE:
            return error_body("bad_request", "The message could not be decoded: not JSON, "
                              "or nested too deeply")
        handler = self._events.get(event)
        if handler is None and event != "join-session":
            return error_body("unknown_event", f"Unknown event {event[:100]!r}")
        kind = wire.CLIENT_EVENTS[event]
        try:
            if handler is None:
                join = parse(payload, wire.JoinSession)
                state = await self._state(sid)
                if state is not None:
                    self._check_rate(state, event)
                return out(await self.on_join_session(sid, join))
            state = await self._joined(sid)
            # Malformed payloads are refused before they count: they cost a parse only.
            body = parse(payload, kind)
            self._check_rate(state, event)
            return out(await handler(state, body))
        except ApiError as exc:
            return exc.body()
        except Exception:
            log.exception("event %r failed", event)
            return error_body("internal", "Internal server error")

    def _check_rate(self, state: SocketState, event: str) -> None:
        limiter = self._rates.get(event)
        identity = state.identity
        if limiter is not None and not limiter.allow((identity.session_id, identity.user_id)):
            raise ApiError(429, "rate_limited",
                           f"Too many '{event}' messages; wait a moment and try again")

    async def _state(self, sid: str) -> SocketState | None:
        try:
            state = await self.get_session(sid)
        except KeyError:  # the connection is already gone
            return None
        return state if isinstance(state, SocketState) else None

    async def _joined(self, sid: str) -> SocketState:
        state = await self._state(sid)
        if state is None or not state.joined:
            raise ApiError(409, "not_joined", "Send join-session first")
        if state.identity.session_id in self._ended:
            raise ended_error()
        return state

    async def _set_hand(self, session_id: str, user_id: str, raised: bool) -> None:
        async with self._ctx.meetings.edit(session_id) as meeting:
            changed = meeting.set_hand(user_id, raised)
            participant = meeting.participant(user_id).snapshot()
        if changed:
            await self._ctx.bus.publish(ParticipantUpdated(session_id, participant))

    # --- lifecycle ------------------------------------------------------------
    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        token = token or _query_value(environ, "token")
        if not isinstance(token, str) or not token:
            raise ConnectRefused("unauthorized", "A token is required (auth: {token})")
        try:
            identity = self._ctx.tokens.verify(token)
        except ApiError as exc:
            raise ConnectRefused(exc.code, exc.message) from None
        wanted_session = _query_value(environ, "sessionId")
        wanted_user = _query_value(environ, "userId")
        if wanted_session not in (None, identity.session_id) or wanted_user not in (
            None, identity.user_id
        ):
            raise ConnectRefused("unauthorized", "The token does not open this session")
        session = await self._ctx.storage.get_session(identity.session_id)
        if session is not None and session.ended_at is not None:
            raise ConnectRefused("ended", "The host ended this meeting")
        who = (identity.session_id, identity.user_id)
        limit = self._ctx.config.connections_per_user
        if self._connections.get(who, 0) >= limit:
            raise ConnectRefused("too_many_connections",
                                 f"This sign-in already has {limit} connections to the meeting")
        self._connections[who] = self._connections.get(who, 0) + 1
        await self.save_session(sid, SocketState(identity))

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        state = await self._state(sid)
        if state is None:
            return
        who = (state.identity.session_id, state.identity.user_id)
        left_here = self._connections.get(who, 1) - 1
        if left_here > 0:
            self._connections[who] = left_here
        else:
            self._connections.pop(who, None)
            for limiter in self._rates.values():
                limiter.forget(who)
        if not state.joined:
            return
        session_id, user_id = state.identity.session_id, state.identity.user_id
        if session_id in self._ended:
            return  # its live state is gone with it
        session = await self._ctx.storage.get_session(session_id)
        if session is None or session.ended_at is not None:  # ended on another node
            return
        async with self._ctx.meetings.edit(session_id) as meeting:
            left, move = meeting.disconnect(user_id, state.key)
        await self.sfu.leave(state.key)
        if self.shutting_down:
            # Nobody left: the server is going away. Telling the others "X left"
            # would make their windows end calls that do not need the server.
            return
        if left:
            await self._ctx.bus.publish(ParticipantLeft(session_id, user_id))
        if move is not None:
            await self.publish_call_move(session_id, move)
        if left or move is not None:
            await self.sfu.review(session_id)

    # --- the call ---------------------------------------------------------------
    async def call_mode(self, session_id: str) -> str:
        """How this session's call carries media: ``"mesh"``, or ``"sfu"`` while it
        goes through the media server (``sfu/broker.py``; always mesh without one)."""
        return await self.sfu.mode(session_id)

    async def call_json(self, session_id: str, active: bool) -> wire.Call:
        """The ``call`` object of the join ack and of ``call-moved``."""
        return wire.Call(mode=await self.call_mode(session_id), active=active)

    async def publish_call_move(self, session_id: str, move: CallMove) -> None:
        """Tell the connections whose call status changed, and everyone of a media reset."""
        socket_id = self._ctx.meetings.socket_id
        if move.lost is not None:
            await self.sfu.leave(move.lost)
            await self._ctx.bus.publish(CallMoved(
                session_id, socket_id(move.lost), await self.call_json(session_id, False)))
        if move.gained is not None:
            await self._ctx.bus.publish(CallMoved(
                session_id, socket_id(move.gained), await self.call_json(session_id, True)))
        if move.media_reset:
            async with self._ctx.meetings.view(session_id) as meeting:
                participant = meeting.participants.get(move.user_id)
                snapshot = participant.snapshot() if participant is not None else None
            if snapshot is not None:
                await self._ctx.bus.publish(ParticipantUpdated(session_id, snapshot))

    # --- events ---------------------------------------------------------------
    async def on_join_session(self, sid: str, body: wire.JoinSession) -> wire.JoinAck:
        requested, take_call = body.session_id, body.take_call
        state = await self._state(sid)
        if state is None:  # pragma: no cover - connect always saves a state
            raise ApiError(401, "unauthorized", "Not authenticated")
        identity = state.identity
        if requested != identity.session_id:
            raise ApiError(403, "forbidden", "The token does not open that session")
        session = await self._ctx.storage.get_session(identity.session_id)
        if session is None:
            raise ApiError(404, "not_found", "No such session")
        if session.ended_at is not None:
            self._ended.add(session.id)
            raise ended_error()
        meetings = self._ctx.meetings
        move: CallMove | None = None
        if not state.joined:
            try:
                async with meetings.edit(identity.session_id) as meeting:
                    # Check and count the connection with no await in between: a
                    # disconnect handled meanwhile would otherwise leave a ghost (it
                    # sees ``joined`` at once, and waits for this change to be stored).
                    if not self.server.manager.is_connected(sid, NAMESPACE):
                        raise ApiError(409, "not_connected", "The connection is closing")
                    state.key = meetings.connection_key(sid)
                    participant, first, move = meeting.connect(
                        identity, state.key, take_call=take_call)
                    participant = participant.snapshot()
                    state.joined = True
            except BaseException:
                state.joined = False  # not stored (e.g. the database failed): join again
                raise
            await self.save_session(sid, state)
            # Rooms first, revision after: an upload between the two is then
            # seen twice (harmless) instead of never.
            await self.enter_room(sid, session_room(identity.session_id))
            if first:
                await self._ctx.bus.publish(ParticipantJoined(identity.session_id, participant))
            if move is not None:
                await self.publish_call_move(identity.session_id, replace(move, gained=None))
            await self.sfu.review(identity.session_id)
        revision = await self._ctx.storage.revision(identity.session_id)
        mode = await self.call_mode(identity.session_id)
        async with meetings.view(identity.session_id) as meeting:
            chat, chat_more = self._recent_chat(list(meeting.chat))
            return wire.JoinAck(
                self_=participant_wire(meeting.participant(identity.user_id)),
                participants=[participant_wire(p) for p in meeting.participants.values()],
                resource_revision=revision,
                polls=[poll_wire(p, identity.user_id) for p in meeting.polls.values()],
                chat=[chat_wire(m) for m in chat],
                chat_more=chat_more,
                call=wire.Call(
                    mode=mode, active=meeting.is_call_connection(identity.user_id, state.key)),
            )

    def _recent_chat(self, chat: list[ChatMessage]) -> tuple[list[ChatMessage], bool]:
        """The newest messages that fit the join ack's budget, oldest first; and whether
        older ones were left out (the client fetches them with ``chat-history``)."""
        config = self._ctx.config
        budget = config.join_chat_kb * 1024
        taken = 0
        for message in reversed(chat):
            cost = len(message.text.encode()) + len(message.sender_name.encode()) + 160
            if taken == config.join_chat_messages or cost > budget:
                break
            budget -= cost
            taken += 1
        kept = chat[len(chat) - taken:] if taken else []
        return kept, taken < len(chat)

    async def on_chat_history(self, state: SocketState, body: wire.ChatHistory
                              ) -> wire.ChatHistoryAck:
        messages, more = await self._ctx.meetings.chat_before(
            state.identity.session_id, body.before, body.limit)
        return wire.ChatHistoryAck(messages=[chat_wire(m) for m in messages], more=more)

    async def on_end_meeting(self, state: SocketState, body: wire.Empty) -> wire.Ok:
        """The host ends the meeting for everyone: ``meeting-ended`` to all, their
        connections closed, the meeting's files deleted, later joins refused (410)."""
        identity = state.identity
        if not identity.is_host:
            raise ApiError(403, "forbidden", "Only the host can end the meeting")
        session_id = identity.session_id
        ended_at = utc_now_iso()
        async with self._ctx.meetings.view(session_id) as meeting:  # who to disconnect
            keys = [key for p in meeting.participants.values() for key in p.connections]
        removed = await self._ctx.storage.end_session(session_id, ended_at)
        if removed is None:
            raise ended_error()
        self._ended.add(session_id)
        await self._ctx.meetings.end(session_id)
        await self._ctx.bus.publish(
            MeetingEnded(session_id, identity.user_id, identity.name, ended_at))
        for resource_id in removed:
            await self._ctx.blobs.remove(resource_id)
        # Everyone's connection is closed once the event had time to arrive (with Redis
        # it comes back to this node through Redis too), the caller's after its ack.
        task = asyncio.ensure_future(self._close_all(
            [self._ctx.meetings.socket_id(key) for key in keys]))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        log.info("meeting %s ended by its host; %d file(s) deleted", session_id, len(removed))
        return wire.Ok()

    async def _close_all(self, socket_ids: list[str], delay: float = 1.0) -> None:
        await asyncio.sleep(delay)
        for socket_id in socket_ids:
            try:  # a socket on another node is closed by that node (Redis)
                await self.server.disconnect(socket_id, namespace=NAMESPACE)
            except Exception:
                log.warning("could not close connection %s", socket_id, exc_info=True)

    async def on_raise_hand(self, state: SocketState, body: wire.RaiseHand) -> wire.Ok:
        await self._set_hand(state.identity.session_id, state.identity.user_id, body.raised)
        return wire.Ok()

    async def on_lower_hand(self, state: SocketState, body: wire.LowerHand) -> wire.Ok:
        participant_id = body.participant_id
        if not state.identity.is_host:
            raise ApiError(403, "forbidden", "Only the host can lower someone's hand")
        await self._set_hand(state.identity.session_id, participant_id, False)
        return wire.Ok()

    async def on_chat_message(self, state: SocketState, body: wire.ChatSend) -> wire.ChatAck:
        text = clean_text(body.text)
        if not has_visible(text):
            raise ApiError(422, "invalid", "'text' must contain something visible")
        if len(text) > MAX_CHAT_LENGTH:
            raise ApiError(422, "invalid", f"'text' must be at most {MAX_CHAT_LENGTH} characters")
        session_id = state.identity.session_id
        async with self._ctx.meetings.edit(session_id) as meeting:
            message = meeting.post(state.identity, text)
        await self._ctx.bus.publish(ChatPosted(session_id, message))
        return wire.ChatAck(message=chat_wire(message))

    async def on_poll_create(self, state: SocketState, body: wire.PollCreate) -> wire.PollAck:
        # Count and lengths are checked by the type (wire.PollCreate).
        question = clean_display_name(body.question, wire.MAX_QUESTION_LENGTH)
        non_blank(question, "question")
        options = [clean_display_name(o, wire.MAX_OPTION_LENGTH) for o in body.options]
        if not all(options):
            raise ApiError(422, "invalid", "Options must not be blank")
        if len({o.casefold() for o in options}) != len(options):
            raise ApiError(422, "invalid", "Options must differ from each other")
        session_id = state.identity.session_id
        async with self._ctx.meetings.edit(session_id) as meeting:
            poll = meeting.create_poll(state.identity, question, options,
                                       self._ctx.config.max_polls).snapshot()
        await self._ctx.bus.publish(PollCreated(session_id, poll))
        return wire.PollAck(poll=poll_wire(poll, state.identity.user_id))

    async def on_poll_vote(self, state: SocketState, body: wire.PollVote) -> wire.PollAck:
        poll_id, option = body.poll_id, body.option
        session_id = state.identity.session_id
        async with self._ctx.meetings.edit(session_id) as meeting:
            poll, changed = meeting.vote(state.identity, poll_id, option)
            poll = poll.snapshot()
        if changed:  # the same vote again is acknowledged without an event
            await self._ctx.bus.publish(PollUpdated(session_id, poll))
        return wire.PollAck(poll=poll_wire(poll, state.identity.user_id))

    async def on_poll_close(self, state: SocketState, body: wire.PollClose) -> wire.PollAck:
        poll_id = body.poll_id
        session_id = state.identity.session_id
        async with self._ctx.meetings.edit(session_id) as meeting:
            poll, changed = meeting.close_poll(state.identity, poll_id)
            poll = poll.snapshot()
        if changed:
            await self._ctx.bus.publish(PollClosed(session_id, poll))
        return wire.PollAck(poll=poll_wire(poll, state.identity.user_id))

    async def on_signal(self, state: SocketState, body: wire.SignalSend) -> wire.Ok:
        recipient, data = body.to, body.data
        self._check_signal_size(data)
        identity = state.identity
        if recipient == identity.user_id:
            raise ApiError(422, "invalid", "A participant cannot signal itself")
        async with self._ctx.meetings.view(identity.session_id) as meeting:
            addressee = meeting.participants.get(recipient)
            target = addressee.call_connection if addressee is not None else None
            in_call = meeting.is_call_connection(identity.user_id, state.key)
        if target is None:
            raise ApiError(404, "not_found", "The addressee is not in this session")
        if not in_call:
            raise ApiError(409, "not_in_call",
                           "This window is not in the call: it is open in another window")
        await self._ctx.bus.publish(SignalRelayed(
            identity.session_id, identity.user_id, recipient,
            self._ctx.meetings.socket_id(target), data))
        return wire.Ok()

    def _check_signal_size(self, data: dict[str, Any]) -> None:
        config = self._ctx.config
        if _depth(data, config.max_signal_depth) > config.max_signal_depth:
            raise ApiError(413, "too_large",
                           f"Signal data nests deeper than {config.max_signal_depth} levels")
        size = len(msgspec.json.encode(data))
        if size > config.max_signal_kb * 1024:
            raise ApiError(413, "too_large",
                           f"Signal data is {size} bytes; at most {config.max_signal_kb} KiB")

    async def on_media_state(self, state: SocketState, body: wire.MediaState) -> wire.Ok:
        media = Media(body.audio, body.video, body.screen)
        session_id = state.identity.session_id
        async with self._ctx.meetings.edit(session_id) as meeting:
            participant = meeting.set_media(state.identity.user_id, state.key, media).snapshot()
        # Always announced (SPEC: "the server then sends participant-updated"), also
        # when nothing changed: a client that re-announces after a reconnect is
        # answered the same way as one announcing a change.
        await self._ctx.bus.publish(ParticipantUpdated(session_id, participant))
        return wire.Ok()

    async def on_reaction(self, state: SocketState, body: wire.ReactionSend) -> wire.Ok:
        """A reaction goes to everyone in the meeting (the sender included)."""
        session_id = state.identity.session_id
        await self._ctx.bus.publish(
            ReactionSent(session_id, state.identity.user_id, body.reaction, utc_now_iso())
        )
        return wire.Ok()

    async def on_call_claim(self, state: SocketState, body: wire.Empty) -> wire.CallAck:
        """Move the user's call to this connection ("Use this window")."""
        session_id = state.identity.session_id
        async with self._ctx.meetings.edit(session_id) as meeting:
            move = meeting.claim_call(state.identity.user_id, state.key)
        if move is not None:
            await self.publish_call_move(session_id, replace(move, gained=None))
        return wire.CallAck(call=await self.call_json(session_id, True))

    # --- the SFU (sfu/broker.py; docs/WIRE.md, "The SFU") --------------------------
    async def _sfu_caller(self, state: SocketState) -> tuple[str, str]:
        """The session and user of a call connection (only it takes part in the call)."""
        identity = state.identity
        async with self._ctx.meetings.view(identity.session_id) as meeting:
            in_call = meeting.is_call_connection(identity.user_id, state.key)
        if not in_call:
            raise ApiError(409, "not_in_call",
                           "This window is not in the call: it is open in another window")
        return identity.session_id, identity.user_id

    def _check_sdp_size(self, sdp: str) -> None:
        limit = self._ctx.config.max_signal_kb * 1024
        if len(sdp.encode()) > limit:
            raise ApiError(413, "too_large",
                           f"The SDP is over {self._ctx.config.max_signal_kb} KiB")

    async def on_sfu_publish(self, state: SocketState, body: wire.SfuPublish
                             ) -> wire.SfuPublishAck:
        self._check_sdp_size(body.sdp)
        session_id, user_id = await self._sfu_caller(state)
        return await self.sfu.publish(state.key, session_id, user_id, body)

    async def on_sfu_subscribe(self, state: SocketState, body: wire.SfuSubscribe
                               ) -> wire.SfuSubscribeAck:
        session_id, user_id = await self._sfu_caller(state)
        return await self.sfu.subscribe(state.key, session_id, user_id, body)

    async def on_sfu_answer(self, state: SocketState, body: wire.SfuAnswer) -> wire.Ok:
        self._check_sdp_size(body.sdp)
        await self._sfu_caller(state)
        return await self.sfu.answer(state.key, body)

    async def on_sfu_unsubscribe(self, state: SocketState, body: wire.SfuUnsubscribe
                                 ) -> wire.Ok:
        return await self.sfu.unsubscribe(state.key, body)

    async def on_sfu_leave(self, state: SocketState, body: wire.Empty) -> wire.Ok:
        return await self.sfu.leave(state.key)

    # --- server-side views and controls (runner, test hooks) ------------------
    async def _socket_ids(self, session_id: str | None) -> list[tuple[str, str]]:
        """``(socket id, engine.io id)`` of live connections, optionally of one session."""
        found = []
        manager = self.server.manager
        for sid, eio_sid in manager.get_participants(NAMESPACE, None):
            if not manager.is_connected(sid, NAMESPACE):  # connecting or going away
                continue
            state = await self._state(sid)
            if state is not None and session_id in (None, state.identity.session_id):
                found.append((sid, eio_sid))
        return found

    async def connection_count(self, session_id: str | None = None) -> int:
        return len(await self._socket_ids(session_id))

    async def drop_connections(self, session_id: str | None = None) -> None:
        """Close connections at the transport, as a network drop would.

        A Socket.IO "server disconnect" would tell clients not to come back;
        closing the engine.io transport instead lets them reconnect on their
        own, which is what reconnect tests and server restarts need. This
        uses engine.io internals (pinned to python-socketio 5).
        """
        eio = self.server.eio
        for _sid, eio_sid in await self._socket_ids(session_id):
            socket = eio.sockets.get(eio_sid)
            if socket is None:
                continue
            # close() runs the disconnect handlers (which still read the session),
            # then the socket is forgotten and its writer / pending long-poll ended.
            await socket.close(wait=False, abort=True, reason=eio.reason.TRANSPORT_CLOSE)
            eio.sockets.pop(eio_sid, None)
            await socket.queue.put(None)
