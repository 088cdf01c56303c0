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

It is installed per receiver by :func:`use_marker_buffer` (aiortc keeps the
buffer in a private attribute; the version is pinned in ``pyproject.toml``
and the engine's tests check the attribute is there), never globally.
"""

from __future__ import annotations

import logging

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
