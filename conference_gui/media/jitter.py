"""A video jitter buffer that hands a frame to the decoder as soon as it is complete.

aiortc's ``JitterBuffer`` only knows a video frame is complete when the first
packet of the *next* frame arrives (a new RTP timestamp). That holds every
picture back by one frame interval: 33 ms at 30 fps, 100 ms for a screen
shared at 10 fps, and the last picture before a pause (camera turned off, a
still screen) until the pictures resume. RTP already says where a video frame
ends: the marker bit is set on its last packet (RFC 7741 for VP8, RFC 6184
for H.264). :class:`MarkerJitterBuffer` releases a frame once its packets are
contiguous from the buffer's start up to a packet with the marker bit, and
otherwise behaves exactly like aiortc's.

:class:`BoundedDecoderQueue` keeps the picture from falling ever further
behind when decoding cannot keep up (cut the backlog at a key frame).

Both are installed per receiver (:func:`use_marker_buffer`,
:func:`use_bounded_decoder`; aiortc keeps them in private attributes; the
version is pinned in ``pyproject.toml`` and the engine's tests check the
attributes are there), never globally.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import RtpPacket

log = logging.getLogger(__name__)

_ATTRIBUTE = "_RTCRtpReceiver__jitter_buffer"


class MarkerJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer, plus release on the marker bit."""

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        pli_flag, frame = super().add(packet)
        if frame is None:
            frame = self._complete_frame()
        return pli_flag, frame

    def _complete_frame(self) -> JitterFrame | None:
        """The oldest frame, if all its packets are here and the last has the marker."""
        origin = self._origin
        if origin is None:
            return None
        packets: list[RtpPacket] = []
        for count in range(self.capacity):
            packet = self._packets[(origin + count) % self.capacity]
            if packet is None or (packets and packet.timestamp != packets[0].timestamp):
                return None
            packets.append(packet)
            if packet.marker:
                frame = JitterFrame(
                    data=b"".join(p._data for p in packets),  # type: ignore[attr-defined]
                    timestamp=packet.timestamp,
                )
                self.remove(len(packets))
                return frame
        return None


def use_marker_buffer(receiver: RTCRtpReceiver) -> bool:
    """Give a video receiver a :class:`MarkerJitterBuffer` (before it receives).
    Returns False, and changes nothing, if aiortc's internals are not as expected."""
    current = getattr(receiver, _ATTRIBUTE, None)
    if type(current) is not JitterBuffer or not current._is_video:
        log.warning("aiortc's video jitter buffer is not where expected; keeping it")
        return False
    setattr(receiver, _ATTRIBUTE, MarkerJitterBuffer(capacity=current.capacity, is_video=True))
    return True


_QUEUE_ATTRIBUTE = "_RTCRtpReceiver__decoder_queue"
_ERROR_ATTRIBUTE = "_RTCRtpReceiver__decoder_error"

#: Encoded pictures that may wait for the decoder before the backlog is cut
#: (a fifth of a second at 30 fps): beyond it the picture would only grow late.
MAX_BACKLOG = 6


def is_vp8_keyframe(data: bytes) -> bool:
    """A VP8 frame's tag says key frame with bit 0 clear (RFC 6386, section 9.1)."""
    return bool(data) and data[0] & 0x01 == 0


class BoundedDecoderQueue(queue.Queue[Any]):
    """aiortc's decoder queue, with the latency bounded when decoding falls behind.

    aiortc decodes every received picture in order; on a machine that cannot
    keep up the queue (and the picture's delay) grows without end. Here, once
    ``MAX_BACKLOG`` pictures wait, new ones are dropped until a key frame
    arrives (and one is asked for, the way aiortc asks after a decoding error:
    a PLI to the sender); the key frame replaces whatever still waits, so the
    decoder jumps to the present instead of working through the past. Only
    VP8 can be cut safely this way (its key frames are easy to recognise);
    other codecs pass through unchanged.
    """

    def __init__(self, ask_key_frame: threading.Event, limit: int = MAX_BACKLOG) -> None:
        super().__init__()
        self._ask = ask_key_frame
        self._limit = limit
        self._skipping = False
        self.dropped = 0

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:  # the receiver stops
            super().put(item, block, timeout)
            return
        codec, frame = item
        if getattr(codec, "name", "") != "VP8":
            super().put(item, block, timeout)
            return
        key = is_vp8_keyframe(frame.data)
        if key and (self._skipping or self.qsize() >= self._limit):
            self._drain()
            self._skipping = False
        elif self._skipping:
            self.dropped += 1
            return
        elif self.qsize() >= self._limit:
            log.info("the decoder is %d pictures behind: waiting for a key frame", self.qsize())
            self._skipping = True
            self.dropped += 1
            self._ask.set()  # aiortc sends a PLI with the next packet
            return
        super().put(item, block, timeout)

    def _drain(self) -> None:
        with self.mutex:
            dropped = [i for i in self.queue if i is not None]
            kept = [i for i in self.queue if i is None]
            self.queue.clear()
            self.queue.extend(kept)
            self.dropped += len(dropped)


def use_bounded_decoder(receiver: RTCRtpReceiver) -> bool:
    """Give a video receiver a :class:`BoundedDecoderQueue` (before it receives).
    Returns False, and changes nothing, if aiortc's internals are not as expected."""
    current = getattr(receiver, _QUEUE_ATTRIBUTE, None)
    ask = getattr(receiver, _ERROR_ATTRIBUTE, None)
    if type(current) is not queue.Queue or not isinstance(ask, threading.Event) \
            or current.qsize():
        log.warning("aiortc's decoder queue is not where expected; keeping it")
        return False
    setattr(receiver, _QUEUE_ATTRIBUTE, BoundedDecoderQueue(ask))
    return True
