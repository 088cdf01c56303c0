"""A receiver that cannot decode fast enough falls behind by at most a few pictures:
the backlog is cut at the next key frame (and one is asked for), never kept."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from aiortc import RTCPeerConnection

from conference_gui.media.jitter import (
    MAX_BACKLOG,
    BoundedDecoderQueue,
    is_vp8_keyframe,
    use_bounded_decoder,
)


@dataclass
class Codec:
    name: str


@dataclass
class Frame:
    data: bytes
    timestamp: int


KEY, DELTA = b"\x10\x02\x00", b"\x11\x02\x00"  # VP8 frame tags: bit 0 clear = key frame
VP8 = Codec("VP8")


def test_vp8_key_frames_are_recognised_by_their_tag() -> None:
    assert is_vp8_keyframe(KEY) and not is_vp8_keyframe(DELTA) and not is_vp8_keyframe(b"")


def test_a_late_decoder_skips_to_the_next_key_frame_and_asks_for_one() -> None:
    ask = threading.Event()
    q = BoundedDecoderQueue(ask)
    for t in range(MAX_BACKLOG):  # the decoder has not taken any of these yet
        q.put((VP8, Frame(DELTA, t)))
    assert q.qsize() == MAX_BACKLOG and not ask.is_set()
    q.put((VP8, Frame(DELTA, 100)))  # one more: too late to be worth decoding
    assert ask.is_set() and q.qsize() == MAX_BACKLOG  # a key frame is asked for
    q.put((VP8, Frame(DELTA, 101)))  # still skipping: depends on what was dropped
    assert q.qsize() == MAX_BACKLOG
    q.put((VP8, Frame(KEY, 102)))  # the key frame replaces the whole backlog
    assert q.qsize() == 1 and q.get()[1].timestamp == 102
    assert q.dropped == MAX_BACKLOG + 2
    q.put((VP8, Frame(DELTA, 103)))  # and decoding goes on from there
    assert q.get()[1].timestamp == 103


def test_other_codecs_and_the_end_marker_pass_unchanged() -> None:
    q = BoundedDecoderQueue(threading.Event(), limit=2)
    for t in range(5):
        q.put((Codec("H264"), Frame(DELTA, t)))
    q.put(None)
    assert q.qsize() == 6 and q.dropped == 0


def test_a_video_receiver_gets_the_bounded_queue_once() -> None:
    async def main() -> None:
        pc = RTCPeerConnection()
        try:
            receiver = pc.addTransceiver("video").receiver
            assert use_bounded_decoder(receiver)
            assert not use_bounded_decoder(receiver)  # only on aiortc's own queue
        finally:
            await pc.close()

    asyncio.run(main())
