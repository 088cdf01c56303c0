"""The meeting window's one Socket.IO connection, as a QObject with signals.

This is the only module of the client that imports ``socketio``. The main
window creates one :class:`SocketService` and hands it to every part that
needs the meeting's live events; parts connect to its signals and call
:meth:`SocketService.request`. That single shared connection is the whole fix
for the web client's stale panel and dead badge.

Reconnecting is owned here rather than left to python-socketio, because its
client only reconnects after a transport drop, not after a server-side
disconnect (which is what a restarting server sends), and it would keep
retrying a token the server refuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import socketio
from PySide6.QtCore import QCoreApplication, QObject, Signal, SignalInstance

from conference_gui import protocol as wire
from conference_gui.domain.call import CallInfo, MediaState
from conference_gui.domain.meeting import (
    ChatMessage,
    JoinAck,
    MeetingEnded,
    Participant,
    Poll,
    Reaction,
    SignalMessage,
    call_of,
)
from conference_gui.domain.refusals import explain, sentence
from conference_gui.domain.resources import ResourceDeleted, ResourceUploaded
from conference_gui.domain.trust import ServerTrust
from conference_gui.domain.wire import PayloadError, decode
from conference_gui.services import tls

log = logging.getLogger(__name__)

NAMESPACE = "/video"


class ConnectionState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"
    ERROR = "error"


class RequestError(Exception):
    """A request over the socket that did not succeed, with a code and a human message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Codes after which retrying cannot help: the server will keep saying no (or keeps
# presenting a certificate we refuse).
_FATAL_CODES = {"unauthorized", "token_expired", "forbidden", "not_found", "ended", *tls.CODES}


class SocketService(QObject):
    """One ``/video`` connection for one meeting window.

    Signals:
        state_changed(state: str, detail: str): connection state and a human detail.
        joined(JoinAck): after every successful (re)join — resync from it.
        resource_uploaded(ResourceUploaded), resource_deleted(ResourceDeleted)
        participant_joined(Participant), participant_updated(Participant),
        participant_left(str participant id)
        chat_message(ChatMessage)
        poll_created(Poll), poll_updated(Poll), poll_closed(Poll)
        signal_received(SignalMessage): a WebRTC signal addressed to us.
        call_moved(CallInfo): this window's part in the call changed (``active`` false:
            the call is now in another window of the same user; true: it is back here).
        reaction_received(Reaction): someone reacted (thumbs up, clap, ...).
        meeting_ended(MeetingEnded): the host ended the meeting for everyone; the server
            closes the connection and refuses to reconnect it (code ``ended``).
        call_mode_changed(wire.CallModeEvent): the call goes through the SFU or peer to peer.
        sfu_published(str) / sfu_unpublished(str): a participant's media is (no longer)
            on the SFU (docs/WIRE.md, "The SFU").
        malformed_event(str event, str reason): a payload we dropped.
    """

    state_changed = Signal(str, str)
    joined = Signal(object)
    resource_uploaded = Signal(object)
    resource_deleted = Signal(object)
    participant_joined = Signal(object)
    participant_updated = Signal(object)
    participant_left = Signal(str)
    chat_message = Signal(object)
    poll_created = Signal(object)
    poll_updated = Signal(object)
    poll_closed = Signal(object)
    signal_received = Signal(object)
    call_moved = Signal(object)
    meeting_ended = Signal(object)
    reaction_received = Signal(object)
    call_mode_changed = Signal(object)
    sfu_published = Signal(str)
    sfu_unpublished = Signal(str)
    malformed_event = Signal(str, str)

    def __init__(
        self,
        server_url: str,
        session_id: str,
        user_id: str,
        token: str,
        parent: QObject | None = None,
        *,
        connect_timeout: float = 5.0,
        retry_delay: float = 0.5,
        retry_delay_max: float = 5.0,
        trust: ServerTrust | None = None,
    ) -> None:
        super().__init__(parent)
        self._url = server_url.rstrip("/")
        #: how to check an https server's certificate (pinned, or CA-verified)
        self.trust = trust
        self.session_id = session_id
        self.user_id = user_id
        self._token = token
        self._connect_timeout = connect_timeout
        self._retry_delay = retry_delay
        self._retry_delay_max = retry_delay_max
        self._state = ConnectionState.DISCONNECTED
        self._detail = ""
        self._attempt = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._dropped = asyncio.Event()
        self._last_refusal: dict[str, Any] | None = None
        self._joined = False
        self._sio = socketio.AsyncClient(
            handle_sigint=False, reconnection=False, logger=False, engineio_logger=False,
            websocket_extra_options=tls.websocket_ssl(self._url, trust),
        )
        self._register_handlers()

    # -- state ------------------------------------------------------------
    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def detail(self) -> str:
        return self._detail

    @property
    def is_ready(self) -> bool:
        """Connected and joined: requests can be sent."""
        return self._state is ConnectionState.CONNECTED and self._joined

    @property
    def sid(self) -> str | None:
        """The engine.io session id of the live connection (for tests and logs)."""
        return self._sio.get_sid(NAMESPACE) if self._sio.connected else None

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        if (state, detail) == (self._state, self._detail):
            return
        self._state, self._detail = state, detail
        log.info("socket %s %s", state.value, detail)
        self.state_changed.emit(state.value, detail)

    # -- lifecycle --------------------------------------------------------
    def start(self) -> None:
        """Begin connecting (and keep reconnecting) on the running asyncio loop."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = _loop().create_task(self._run(), name="socket-service")
            self._task.add_done_callback(self._on_task_done)

    async def stop(self) -> None:
        """Disconnect cleanly; safe to call twice and before start()."""
        self._stopping = True
        self._dropped.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._disconnect_quietly()
        self._joined = False
        self._set_state(ConnectionState.DISCONNECTED, "")

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("socket loop crashed", exc_info=task.exception())
            self._set_state(ConnectionState.ERROR, self.tr("Connection failed unexpectedly."))

    async def _disconnect_quietly(self) -> None:
        with contextlib.suppress(Exception):
            await self._sio.disconnect()
        # python-socketio leaves its aiohttp session open after disconnect().
        http = getattr(self._sio.eio, "http", None)
        if http is not None and not http.closed:
            with contextlib.suppress(Exception):
                await http.close()

    def _connect_url(self) -> str:
        # The seed's query shape; the token also travels in `auth`.
        query = urlencode(
            {"sessionId": self.session_id, "userId": self.user_id, "token": self._token}
        )
        return f"{self._url}?{query}"

    async def _run(self) -> None:
        while not self._stopping:
            if self._attempt == 0:
                self._set_state(ConnectionState.CONNECTING, "")
            else:
                self._set_state(
                    ConnectionState.RECONNECTING, self.tr("attempt %n", "", self._attempt)
                )
            try:
                await self._connect_once()
            except RequestError as exc:
                if exc.code in _FATAL_CODES:
                    await self._disconnect_quietly()
                    self._set_state(ConnectionState.ERROR, _human(exc.code, exc.message))
                    return
                await self._disconnect_quietly()
                await self._backoff(_human(exc.code, exc.message))
                continue
            self._attempt = 0
            await self._dropped.wait()
            self._joined = False
            if self._stopping:
                return
            self._attempt = 1
            self._set_state(ConnectionState.RECONNECTING, self.tr("attempt %n", "", 1))
            await asyncio.sleep(self._retry_delay * random.uniform(0.5, 1.0))

    async def _backoff(self, why: str) -> None:
        self._attempt += 1
        delay = min(self._retry_delay * 2 ** min(self._attempt - 1, 10), self._retry_delay_max)
        self._set_state(
            ConnectionState.RECONNECTING,
            self.tr("attempt %n", "", self._attempt) + ": " + why.rstrip("."),
        )
        await asyncio.sleep(delay * random.uniform(0.75, 1.0))

    async def _connect_once(self) -> None:
        self._last_refusal = None
        self._dropped.clear()
        try:
            await self._sio.connect(
                self._connect_url(),
                auth={"token": self._token},
                transports=["websocket"],
                namespaces=[NAMESPACE],
                wait_timeout=self._connect_timeout,
            )
        except socketio.exceptions.ConnectionError as exc:
            certificate = tls.certificate_refusal(exc, self.trust)
            if certificate is not None:
                raise RequestError(*certificate) from exc
            refusal: dict[str, Any] = self._last_refusal or {}
            code = str(refusal.get("code") or "unreachable")
            message = str(refusal.get("message") or exc)
            raise RequestError(code, message) from exc
        try:
            ack = await self._sio.call(
                "join-session",
                # sfu: this client carries the call through the media server too
                {"sessionId": self.session_id, "sfu": True},
                namespace=NAMESPACE,
                timeout=self._connect_timeout,
            )
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError) as exc:
            raise RequestError("timeout", "the server did not answer join-session") from exc
        _raise_ack_error(ack)
        try:
            info = JoinAck.from_wire(ack)
        except PayloadError as exc:
            raise RequestError("bad_ack", f"join-session answered badly: {exc}") from exc
        self._joined = True
        self._set_state(ConnectionState.CONNECTED, "")
        self.joined.emit(info)

    # -- requests ---------------------------------------------------------
    async def request(
        self, event: str, payload: dict[str, Any], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Send an event and wait for its ack; errors raise :class:`RequestError`.

        The timeout is short on purpose: python-socketio keeps a call waiting
        after a disconnect until it expires, and a button must not hang that long.
        """
        if not self.is_ready:
            raise RequestError("offline", self.tr("Not connected to the meeting."))
        try:
            ack = await self._sio.call(event, payload, namespace=NAMESPACE, timeout=timeout)
        except socketio.exceptions.TimeoutError as exc:
            raise RequestError("timeout", self.tr("The server did not answer in time.")) from exc
        except socketio.exceptions.BadNamespaceError as exc:
            raise RequestError("offline", self.tr("Not connected to the meeting.")) from exc
        _raise_ack_error(ack)
        if not isinstance(ack, dict):
            raise RequestError("bad_ack", f"{event} answered with {type(ack).__name__}")
        return ack

    async def send_signal(self, to: str, data: dict[str, Any]) -> None:
        """Relay a WebRTC signaling message to participant ``to`` (only them).

        The addressee gets it as :attr:`signal_received`; errors raise
        :class:`RequestError` (e.g. ``not_found`` when ``to`` is not in the meeting).
        """
        await self.request("signal", {"to": to, "data": data})

    async def send_media_state(self, media: MediaState) -> None:
        """Announce what this window sends (everyone gets ``participant_updated``).

        Raises :class:`RequestError` ``not_in_call`` when the call is in another window.
        """
        await self.request("media-state", media.to_wire())

    async def send_reaction(self, reaction: str) -> None:
        """React (one of :data:`conference_gui.domain.meeting.REACTION_EMOJI`'s names)."""
        await self.request("reaction", {"reaction": reaction})

    async def end_meeting(self) -> None:
        """End the meeting for everyone (host only; else RequestError ``forbidden``).

        Everyone, this window included, then gets :attr:`meeting_ended`.
        """
        await self.request("end-meeting", {})

    async def vote(self, poll_id: str, option: int) -> Poll:
        """Vote, or change one's vote, until the poll closes; the answer's ``my_vote``
        is the vote that counts now."""
        ack = await self.request("poll-vote", {"pollId": poll_id, "option": option})
        try:
            return _poll(ack)
        except PayloadError as exc:
            raise RequestError("bad_ack", f"poll-vote answered badly: {exc}") from exc

    async def claim_call(self) -> CallInfo:
        """Move this user's call into this window ("Use this window")."""
        ack = await self.request("call-claim", {})
        try:
            return _call_moved(ack)
        except PayloadError as exc:
            raise RequestError("bad_ack", f"call-claim answered badly: {exc}") from exc

    # -- incoming events --------------------------------------------------
    def _register_handlers(self) -> None:
        on = self._sio.on
        on("connect", self._on_connect, namespace=NAMESPACE)
        on("connect_error", self._on_connect_error, namespace=NAMESPACE)
        on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        typed: dict[str, tuple[Callable[[object], object], SignalInstance]] = {
            "resource-uploaded": (ResourceUploaded.from_wire, self.resource_uploaded),
            "resource-deleted": (ResourceDeleted.from_wire, self.resource_deleted),
            "participant-joined": (_participant, self.participant_joined),
            "participant-updated": (_participant, self.participant_updated),
            "participant-left": (_participant_id, self.participant_left),
            "chat-message": (_chat, self.chat_message),
            "poll-created": (_poll, self.poll_created),
            "poll-updated": (_poll, self.poll_updated),
            "poll-closed": (_poll, self.poll_closed),
            "signal": (SignalMessage.from_wire, self.signal_received),
            "call-moved": (_call_moved, self.call_moved),
            "meeting-ended": (MeetingEnded.from_wire, self.meeting_ended),
            "reaction": (Reaction.from_wire, self.reaction_received),
            "call-mode": (_call_mode, self.call_mode_changed),
            "sfu-published": (_sfu_publisher, self.sfu_published),
            "sfu-unpublished": (_sfu_publisher, self.sfu_unpublished),
        }
        for event, (parse, signal) in typed.items():
            on(event, self._relay(event, parse, signal), namespace=NAMESPACE)
        on("*", self._on_unknown, namespace=NAMESPACE)

    def _relay(
        self, event: str, parse: Callable[[object], object], signal: SignalInstance
    ) -> Callable[..., None]:
        # Synchronous on purpose: handlers run in arrival order, never interleaved.
        def handler(*args: object) -> None:
            payload = args[0] if len(args) == 1 else list(args)
            try:
                value = parse(payload)
            except PayloadError as exc:
                log.warning("dropped malformed %s event: %s", event, exc)
                self.malformed_event.emit(event, str(exc))
                return
            signal.emit(value)

        return handler

    def _on_unknown(self, event: str, *args: object) -> None:
        log.info("ignored unknown event %r", event)

    def _on_connect(self, *_args: object) -> None:
        # Extra arguments only come from a server emitting an event named "connect".
        log.debug("namespace connected")

    def _on_connect_error(self, data: object = None) -> None:
        if isinstance(data, dict):
            self._last_refusal = data

    def _on_disconnect(self, reason: object = None) -> None:
        self._joined = False
        self._dropped.set()


def _loop() -> asyncio.AbstractEventLoop:
    """The running loop, or the one set for this thread (a qasync loop not yet running)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


def _participant(data: object) -> Participant:
    return Participant.of(decode(data, wire.ParticipantEvent).participant)


def _participant_id(data: object) -> str:
    return decode(data, wire.ParticipantLeft).participant_id


def _chat(data: object) -> ChatMessage:
    return ChatMessage.of(decode(data, wire.ChatEvent).message)


def _poll(data: object) -> Poll:
    return Poll.of(decode(data, wire.PollEvent).poll)


def _call_moved(data: object) -> CallInfo:
    return call_of(decode(data, wire.CallMoved).call)


def _call_mode(data: object) -> wire.CallModeEvent:
    return decode(data, wire.CallModeEvent)


def _sfu_publisher(data: object) -> str:
    return decode(data, wire.SfuPublisherEvent).participant_id


def _raise_ack_error(ack: object) -> None:
    if isinstance(ack, dict) and isinstance(ack.get("error"), dict):
        err = ack["error"]
        raise RequestError(str(err.get("code", "error")), str(err.get("message", "request failed")))


#: At connect, two codes mean something more particular than the general table says.
_AT_CONNECT = {
    "forbidden": "This sign-in belongs to another meeting.",
    "not_found": "This meeting no longer exists.",
}


def _human(code: str, message: str) -> str:
    """Turn a refusal into words a participant can act on (one table: domain.refusals)."""
    if code in tls.CODES:
        return message  # those words already, and what the check found
    text = _AT_CONNECT.get(code) or sentence(explain(code, message))
    return QCoreApplication.translate("SocketService", text)
