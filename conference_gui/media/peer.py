"""One WebRTC connection to one peer, for one offer id (aiortc ``RTCPeerConnection``).

A :class:`PeerLink` is made either to offer or to answer; a replacing offer
makes a new link and the old one is closed (links are never renegotiated).
Its SDP always has the three sections of wire contract v2 — audio, camera
video, screen video, all ``sendrecv`` — because the link adds exactly those
three transceivers, each with its sender's track, *before* any description
is set: in an answer, aiortc then matches the offer's sections to them in
order and answers ``sendrecv`` (transceivers aiortc creates itself for a
remote offer come up ``recvonly``).

``MAX_BUNDLE``: every section rides one ICE/DTLS transport. With aiortc's
default (``balanced``) the two video sections can get separate transports and
the second one may stay silently dead.

Runs on the engine loop only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Literal

import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from conference_gui.domain.call import CandidateInit
from conference_gui.media.ice import IcePolicy
from conference_gui.media.jitter import use_bounded_decoder, use_marker_buffer
from conference_gui.media.receive import MonoConverter, RemotePeer, Source, image_from_frame
from conference_gui.media.stats import PeerStats, SectionCounters, section_counters, snapshot
from conference_gui.media.stats import transport_bytes as _transport_bytes
from conference_gui.media.tasks import OwnedTasks

log = logging.getLogger(__name__)

Role = Literal["offerer", "answerer"]
SECTIONS: tuple[str, str, str] = ("audio", "camera", "screen")
CLOSE_TIMEOUT = 5.0
#: Trickled candidates one connection accepts (a browser sends a handful).
MAX_REMOTE_CANDIDATES = 64


def _codec_preferences(kind: str) -> list[RTCRtpCodecCapability]:
    """Video is VP8 (with its RTX) only.

    Every WebRTC endpoint has VP8 (RFC 7742) and Janus rooms are made VP8;
    aiortc's H.264 costs ~3× the CPU, and without it the bundle needs no x264,
    the last GPL library it carried (docs/PACKAGING.md). An endpoint that can
    only do H.264 gets a failed negotiation, logged, instead of a picture."""
    codecs = list(RTCRtpSender.getCapabilities(kind).codecs)
    if kind != "video":
        return codecs
    return [c for c in codecs if c.mimeType.lower() in ("video/vp8", "video/rtx")]


class PeerLink:
    """An ``RTCPeerConnection`` to ``pid`` for offer ``offer_id``, with its receivers.

    ``on_state(link)`` is called (on the loop) whenever the connection state
    changes, and with state ``"failed"`` when it is not connected within
    ``connect_timeout`` seconds; ``on_picture(pid, source)`` for every picture
    received.
    """

    def __init__(
        self,
        pid: str,
        offer_id: str,
        role: Role,
        *,
        policy: IcePolicy,
        tracks: list[MediaStreamTrack],
        remote: RemotePeer,
        on_state: Callable[[PeerLink], None],
        on_picture: Callable[[str, Source], None],
        on_closed: Callable[[PeerLink], None],
        connect_timeout: float,
    ) -> None:
        self.pid = pid
        self.offer_id = offer_id
        self.role: Role = role
        self.remote = remote
        self._on_state = on_state
        self._on_picture = on_picture
        self._on_closed = on_closed
        self._closing: asyncio.Future[None] | None = None
        self._connect_timeout = connect_timeout
        self._tasks = OwnedTasks(f"link {pid}/{offer_id[:8]}")
        self._pending: list[CandidateInit | None] = []
        self._candidates = 0
        self._remote_set = False
        self._receiving = False
        self._timed_out = False
        self.closed = False
        self.ever_connected = False
        self.stats: PeerStats | None = None
        config = RTCConfiguration(
            iceServers=[RTCIceServer(urls=url) for url in policy.ice_servers],
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
        )
        self.pc = RTCPeerConnection(config)
        self.transceivers: list[RTCRtpTransceiver] = []
        for track in tracks:
            transceiver = self.pc.addTransceiver(track, direction="sendrecv")
            transceiver.setCodecPreferences(_codec_preferences(track.kind))
            if track.kind == "video":
                use_marker_buffer(transceiver.receiver)  # a frame interval less latency
                use_bounded_decoder(transceiver.receiver)  # late pictures are cut, not kept
            self.transceivers.append(transceiver)
        self.pc.on("connectionstatechange", self._state_changed)
        self._tasks.spawn(self._watch_connect(), "connect-timeout")

    # --- state ----------------------------------------------------------------
    @property
    def state(self) -> str:
        """new / connecting / connected / failed / closed (also failed after the timeout)."""
        if self.closed:
            return "closed"
        state = str(self.pc.connectionState)
        if self._timed_out and state != "connected":
            return "failed"
        return state

    @property
    def has_remote(self) -> bool:
        return self._remote_set

    @property
    def awaiting_answer(self) -> bool:
        return self.role == "offerer" and not self._remote_set and not self.closed

    def healthy(self) -> bool:
        """Connected, or on its way (both descriptions set, ICE running)."""
        state = self.state
        return state == "connected" or (self._remote_set and state in ("new", "connecting"))

    def _state_changed(self) -> None:
        if self.pc.connectionState == "connected":
            self.ever_connected = True
        if not self.closed:
            self._on_state(self)

    async def _watch_connect(self) -> None:
        await asyncio.sleep(self._connect_timeout)
        if not self.closed and self.pc.connectionState != "connected":
            log.info("%s: not connected after %.0f s", self, self._connect_timeout)
            self._timed_out = True
            self._on_state(self)

    def __repr__(self) -> str:
        return f"PeerLink({self.pid!r}, {self.role}, {self.offer_id[:8]})"

    # --- negotiation ----------------------------------------------------------
    async def create_offer(self) -> str:
        """The offer's SDP (with every local candidate in it: aiortc gathers first)."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept_offer(self, sdp: str) -> str:
        """Apply the peer's offer; returns our answer's SDP."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        self._remote_set = True
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self._flush_candidates()
        self._start_receiving()
        return str(self.pc.localDescription.sdp)

    async def accept_answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        self._remote_set = True
        await self._flush_candidates()
        self._start_receiving()

    async def add_candidate(self, init: CandidateInit | None) -> None:
        """A trickled remote candidate (None: no more). Kept until the remote
        description is set (a browser may send them right behind its offer).
        Beyond :data:`MAX_REMOTE_CANDIDATES` they are ignored (ValueError for the
        first one ignored): a peer must not make the ICE agent's check list grow
        without end."""
        if init is not None:
            self._candidates += 1
            if self._candidates > MAX_REMOTE_CANDIDATES:
                if self._candidates == MAX_REMOTE_CANDIDATES + 1:
                    raise ValueError(
                        f"more than {MAX_REMOTE_CANDIDATES} candidates; the rest are ignored"
                    )
                return
        if not self._remote_set:
            self._pending.append(init)
            return
        await self._add(init)

    async def _flush_candidates(self) -> None:
        pending, self._pending = self._pending, []
        for init in pending:
            await self._add(init)

    async def _add(self, init: CandidateInit | None) -> None:
        if init is None:
            await self.pc.addIceCandidate(None)
            return
        body = init.candidate.split(":", 1)[1]
        try:
            candidate = candidate_from_sdp(body)
        except (AssertionError, ValueError, IndexError) as exc:
            raise ValueError(f"unreadable candidate {body[:60]!r}") from exc
        # Everything is bundled on the first section's transport; aiortc ignores
        # a candidate addressed to a bundled section, so address the first one.
        first = self.transceivers[0]
        candidate.sdpMid = first.mid
        candidate.sdpMLineIndex = 0
        try:
            await self.pc.addIceCandidate(candidate)
        except ValueError as exc:  # e.g. after end-of-candidates
            log.debug("%s: candidate not added: %s", self, exc)

    # --- receiving ------------------------------------------------------------
    def _start_receiving(self) -> None:
        if self._receiving:
            return
        self._receiving = True
        for section, transceiver in zip(SECTIONS, self.transceivers, strict=True):
            track = transceiver.receiver.track
            if track is None:
                continue
            if section == "audio":
                self._tasks.spawn(self._hear(track), "hear")
            else:
                source: Source = "camera" if section == "camera" else "screen"
                self._tasks.spawn(self._watch(track, source), f"watch-{source}")

    async def _hear(self, track: MediaStreamTrack) -> None:
        converter = MonoConverter()
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, av.AudioFrame):
                self.remote.heard(converter.convert(frame), time.monotonic())

    async def _watch(self, track: MediaStreamTrack, source: Source) -> None:
        slot = self.remote.slots[source]
        while True:
            try:
                frame = _newest(track, await track.recv())
            except MediaStreamError:
                return
            if not isinstance(frame, av.VideoFrame):
                continue
            now = time.monotonic()
            self.remote.pictures[source] += 1
            self.remote.last_picture[source] = now
            self._on_picture(self.pid, source)
            wanted, fill = slot.wanted()
            image = image_from_frame(frame, wanted, now, fill=fill)
            if image is not None:
                slot.put(image)

    # --- stats ----------------------------------------------------------------
    async def take_stats(self) -> PeerStats:
        """A new snapshot (rates against the previous one), kept in :attr:`stats`."""
        sections: dict[str, SectionCounters] = {}
        rtts: list[float | None] = []
        bytes_in = bytes_out = 0
        for section, transceiver in zip(SECTIONS, self.transceivers, strict=True):
            sent = await transceiver.sender.getStats()
            got = await transceiver.receiver.getStats()
            items = list(sent.values()) + list(got.values())
            rate = 48_000 if section == "audio" else 90_000
            sections[section], rtt = section_counters(items, rate)
            rtts.append(rtt)
            if section == "audio":
                bytes_in, bytes_out = _transport_bytes(items)
        self.stats = snapshot(
            time.monotonic(), self.state, sections, rtts, bytes_in, bytes_out, self.stats
        )
        return self.stats

    # --- closing --------------------------------------------------------------
    async def close(self) -> None:
        """Stop receiving and close the connection. Idempotent, bounded, and
        shielded: a caller that is cancelled meanwhile does not leave the
        connection (and aiortc's decoder threads) half closed."""
        self.closed = True
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        try:
            await self._tasks.close()
            await asyncio.wait_for(self.pc.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            log.error("%s: closing took over %.0f s", self, CLOSE_TIMEOUT)
        finally:
            self._on_closed(self)


def _newest(track: MediaStreamTrack, frame: av.frame.Frame | av.packet.Packet) -> object:
    """Latest picture wins: skip decoded frames already queued behind ``frame``
    (the loop was busy), so a tile never plays catch-up. Relies on aiortc's
    ``RemoteStreamTrack._queue``; without it, every frame is shown."""
    queue = getattr(track, "_queue", None)
    if not isinstance(queue, asyncio.Queue):
        return frame
    while not queue.empty():
        newer = queue.get_nowait()
        if newer is None:  # the track ended behind this frame
            track.stop()
            raise MediaStreamError
        frame = newer
    return frame
