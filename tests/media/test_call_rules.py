"""The call's pure rules and the engine's small parts, without a network: who
offers, which messages are well-formed or stale, restart backoff, who is
speaking (time passed in), picture sizes, the mix, and the gated tracks."""

from __future__ import annotations

import asyncio

import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RtpPacket

from conference_gui.domain.call import (
    MAX_SDP_CHARS,
    AnswerSignal,
    Backoff,
    BadSignal,
    ByeSignal,
    CallRoster,
    CandidateInit,
    CandidateSignal,
    MediaState,
    OfferBook,
    OfferSignal,
    SpeakingDetector,
    candidate_wire,
    check_sections,
    is_offerer,
    parse_signal,
)
from conference_gui.media.exchange import (
    FrameSlot,
    LevelMeter,
    PcmRing,
    ToneSource,
    VideoImage,
)
from conference_gui.media.jitter import MarkerJitterBuffer, use_marker_buffer
from conference_gui.media.receive import (
    MonoConverter,
    RemotePeer,
    fill_crop,
    fit_size,
    image_from_frame,
    mix,
)
from conference_gui.media.tracks import (
    FRAME_SAMPLES,
    BgraScratch,
    MicrophoneTrack,
    PictureTrack,
    frame_from_image,
)

# --------------------------------------------------------------------------- signals


def test_the_four_messages_of_the_wire_contract_parse() -> None:
    assert parse_signal({"type": "offer", "sdp": "v=0", "id": "a1"}) == OfferSignal("v=0", "a1")
    assert parse_signal({"type": "answer", "sdp": "v=0", "id": "a1"}) == AnswerSignal("v=0", "a1")
    assert parse_signal({"type": "bye"}) == ByeSignal()
    line = "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"
    assert parse_signal(
        {"type": "candidate", "id": "a1", "candidate": {"candidate": line, "sdpMid": "0"}}
    ) == CandidateSignal("a1", CandidateInit(line, "0", None))
    assert parse_signal({"type": "candidate", "id": "a1", "candidate": None}) == (
        CandidateSignal("a1", None)
    )
    # a browser's "a=candidate:" form and index-only addressing are accepted
    got = parse_signal({"type": "candidate", "id": "a1",
                        "candidate": {"candidate": "a=" + line, "sdpMLineIndex": 0}})
    assert got == CandidateSignal("a1", CandidateInit(line, None, 0))
    wire = candidate_wire("a1", CandidateInit(line, "0", 0))
    assert wire == {"type": "candidate", "id": "a1",
                    "candidate": {"candidate": line, "sdpMid": "0", "sdpMLineIndex": 0}}


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (None, "NoneType, not an object"),
        ({"type": 5}, "unknown type int"),
        ({}, "without a 'type'"),
        ({"type": "offer", "sdp": "v=0"}, "'id'"),
        ({"type": "offer", "sdp": 7, "id": "x"}, "'sdp'"),
        ({"type": "offer", "sdp": "x" * (MAX_SDP_CHARS + 1), "id": "x"}, "limit"),
        ({"type": "answer", "sdp": "v=0", "id": "i" * 201}, "limit"),
        ({"type": "candidate", "id": "x"}, "without a 'candidate' key"),
        ({"type": "candidate", "id": "x", "candidate": "candidate:1"}, "neither an object"),
        ({"type": "candidate", "id": "x", "candidate": {"candidate": "candidate:1"}},
         "neither sdpMid nor sdpMLineIndex"),
        ({"type": "candidate", "id": "x",
          "candidate": {"candidate": "candidate:1", "sdpMLineIndex": True}}, "small integer"),
        ({"type": "candidate", "id": "x",
          "candidate": {"candidate": "candidate:1", "sdpMid": ["0"]}}, "short string"),
    ],
)
def test_malformed_messages_are_refused_with_one_readable_line(data: object, says: str) -> None:
    with pytest.raises(BadSignal) as err:
        parse_signal(data)
    assert says in str(err.value)
    assert "\n" not in str(err.value)


def test_an_offer_must_have_audio_video_video() -> None:
    check_sections("v=0\r\nm=audio 9 X 0\r\nm=video 9 X 0\r\nm=video 9 X 0\r\n", "offer")
    for sdp in ("", "m=audio 9 X 0\r\nm=video 9 X 0\r\n",
                "m=video 9 X 0\r\nm=audio 9 X 0\r\nm=video 9 X 0\r\n",
                "m=audio 9\r\nm=video 9\r\nm=video 9\r\nm=application 9\r\n"):
        with pytest.raises(BadSignal):
            check_sections(sdp, "offer")


# --------------------------------------------------------------------------- who offers


def test_the_smaller_id_offers_and_joins_before_the_ack_are_ignored() -> None:
    assert is_offerer("a", "b") and not is_offerer("b", "a")
    roster = CallRoster()
    assert not roster.add("x")  # participant-joined before my ack: the ack covers it
    plan = roster.join("m", ["a", "m", "z", "", "z"])
    assert plan.listed == ("a", "z") and plan.gone == ()
    assert roster.offers_to("z") and not roster.offers_to("a")
    assert roster.add("q") and not roster.add("m")
    plan = roster.join("m", ["z"])  # after a reconnect: a and q have gone meanwhile
    assert plan.listed == ("z",) and plan.gone == ("a", "q")
    assert roster.remove("z") and not roster.remove("z")
    roster.add("b")
    assert roster.leave() == ("b",) and not roster.joined and not roster.add("c")
    assert MediaState(audio=True).to_wire() == {"audio": True, "video": False, "screen": False}


def test_only_the_current_offer_id_of_a_pair_counts() -> None:
    book = OfferBook()
    first = book.start("bob")
    second = book.start("bob")
    assert first != second
    assert book.is_current("bob", second) and not book.is_current("bob", first)
    book.adopt("cara", "theirs")
    assert book.current("cara") == "theirs"
    book.forget("bob")
    assert not book.is_current("bob", second)


def test_restarts_back_off_to_a_cap() -> None:
    backoff = Backoff(first=0.5, cap=15.0)
    assert [backoff.delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    assert backoff.delay(10_000) == 15.0


# --------------------------------------------------------------------------- speaking


def feed(detector: SpeakingDetector, level: float, start: float, seconds: float,
         step: float = 0.05) -> list[bool]:
    out = []
    for i in range(round(seconds / step)):
        out.append(detector.update(level, start + i * step))
    return out


def test_speaking_starts_after_a_second_of_sound_and_stops_after_two_of_silence() -> None:
    d = SpeakingDetector()
    states = feed(d, 0.2, 0.0, 1.5)
    first = states.index(True)
    assert 0.95 <= first * 0.05 <= 1.05
    states = feed(d, 0.0, 1.5, 3.0)
    assert all(states[: round(1.95 / 0.05)])  # still speaking through pauses
    assert not states[-1] and 1.95 <= states.index(False) * 0.05 <= 2.05


def test_a_cough_is_not_speech_and_pauses_between_words_do_not_flicker() -> None:
    d = SpeakingDetector()
    assert not any(feed(d, 0.5, 0.0, 0.2))  # a 200 ms cough
    assert not any(feed(d, 0.0, 0.2, 1.0))
    t, states = 1.2, []
    for _ in range(10):  # words: 300 ms of sound, 150 ms of pause
        states += feed(d, 0.2, t, 0.3)
        states += feed(d, 0.0, t + 0.3, 0.15)
        t += 0.45
    assert states[-1] and True in states
    after_on = states[states.index(True):]
    assert all(after_on), "no flicker once speaking"
    # coughs a second apart never add up to speech
    d = SpeakingDetector()
    for k in range(5):
        assert not any(feed(d, 0.5, k * 1.0, 0.2))
        assert not any(feed(d, 0.0, k * 1.0 + 0.2, 0.8))


# --------------------------------------------------------------------------- pictures and sound


def test_pictures_fit_the_tile_keeping_their_aspect() -> None:
    assert fit_size(640, 480, None) == (640, 480)
    assert fit_size(640, 480, (320, 320)) == (320, 240)
    assert fit_size(1920, 1080, (400, 400)) == (400, 225)
    assert fit_size(640, 480, (1280, 720)) == (960, 720)
    assert fit_size(640, 480, (0, 300)) is None  # hidden tile: nothing converted
    assert fit_size(640, 480, (531, 400)) == (530, 398)  # even widths: swscale's fast path


def test_a_remote_picture_arrives_at_the_tiles_size_frame_after_frame() -> None:
    """The engine keeps its scaler between decoded frames; each picture is the frame
    itself scaled, exactly what a one-off conversion gives."""
    rng = np.random.default_rng(3)
    for _ in range(3):  # a new decoded frame object each time, as from the decoder
        bgra = rng.integers(0, 256, (480, 640, 4), dtype=np.uint8)
        decoded = av.VideoFrame.from_ndarray(bgra, format="bgra").reformat(format="yuv420p")
        image = image_from_frame(decoded, (532, 399), 5.0)
        assert image is not None and (image.width, image.height) == (532, 399)
        assert image.pixels.flags.c_contiguous and image.captured == 5.0
        alone = decoded.reformat(width=532, height=399, format="bgra").to_ndarray()
        # swscale's threads may round a few pixels at their slices' seams differently
        assert np.mean(image.pixels != alone) < 1e-4
    assert image_from_frame(decoded, (0, 0), 5.0) is None  # a hidden tile: no work


def test_a_camera_tile_is_filled_with_the_middle_of_the_picture() -> None:
    """Bob's 4:3 camera in Ann's 16:9 tile: the engine cuts out the middle rows that
    show and scales only those, to exactly the tile's size; a portrait tile gets the
    middle columns; a hidden tile gets nothing."""
    assert fill_crop(640, 480, (532, 299)) == ((0, 60, 640, 360), (532, 299))
    assert fill_crop(640, 480, (300, 400)) == ((140, 0, 360, 480), (300, 400))
    assert fill_crop(640, 480, (320, 240)) == ((0, 0, 640, 480), (320, 240))  # same shape
    assert fill_crop(640, 480, (531, 301)) == ((0, 58, 640, 362), (530, 301))  # even sizes
    assert fill_crop(640, 480, (0, 0)) is None
    rng = np.random.default_rng(5)
    bgra = rng.integers(0, 256, (480, 640, 4), dtype=np.uint8)
    decoded = av.VideoFrame.from_ndarray(bgra, format="bgra").reformat(format="yuv420p")
    for _ in range(2):  # the second time through the kept cut frame and scaler
        image = image_from_frame(decoded, (532, 299), 7.0, fill=True)
        assert image is not None and (image.width, image.height) == (532, 299)
        assert image.pixels.flags.c_contiguous and image.captured == 7.0
        # The reference: the decoded picture's middle rows (its Y, U and V planes cut
        # the same way), scaled by a one-off conversion.
        planes = decoded.to_ndarray()  # yuv420p: Y rows, then U, then V
        y, u, v = planes[:480], planes[480:600].reshape(240, 320), planes[600:].reshape(240, 320)
        middle = np.concatenate((y[60:420].ravel(), u[30:210].ravel(), v[30:210].ravel()))
        alone = (
            av.VideoFrame.from_ndarray(middle.reshape(540, 640), format="yuv420p")
            .reformat(width=532, height=299, format="bgra")
            .to_ndarray()
        )
        assert np.mean(image.pixels != alone) < 1e-4
    assert image_from_frame(decoded, (0, 0), 7.0, fill=True) is None


def test_each_sent_picture_is_its_own_frame_though_the_copy_buffer_is_kept() -> None:
    """The track copies pictures into one kept BGRA frame (no buffer and converter made
    per picture); what goes out is the same as a fresh conversion, and a later picture
    never changes a frame the encoders may still be holding."""
    rng = np.random.default_rng(7)
    first = rng.integers(0, 256, (241, 321, 4), dtype=np.uint8)  # odd: loses a row and column
    second = rng.integers(0, 256, (241, 321, 4), dtype=np.uint8)
    scratch = BgraScratch()

    def fresh(pixels: np.ndarray) -> np.ndarray:  # a new frame and converter, as before
        bgra = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels[:240, :320]), format="bgra")
        return bgra.reformat(format="yuv420p", threads=1).to_ndarray()

    sent = frame_from_image(VideoImage(first, 0.0), 90, scratch)
    kept = sent.to_ndarray().copy()
    assert (sent.width, sent.height, sent.format.name, sent.pts) == (320, 240, "yuv420p", 90)
    assert np.array_equal(kept, fresh(first))
    later = frame_from_image(VideoImage(second, 0.0), 180, scratch)
    assert np.array_equal(sent.to_ndarray(), kept)  # untouched by the next picture
    assert np.array_equal(later.to_ndarray(), fresh(second))
    bigger = frame_from_image(VideoImage(np.zeros((480, 640, 4), np.uint8), 0.0), 0, scratch)
    assert (bigger.width, bigger.height) == (640, 480)  # a new size: a new kept frame


def test_a_level_is_the_rms_of_the_last_window_of_sound() -> None:
    meter = LevelMeter(window=0.1)
    assert meter.level(0.0) == 0.0
    meter.push(np.full(960, -32768, dtype=np.int16), 0.0)  # full scale, no overflow
    assert meter.level(0.0) == 1.0
    meter.push(np.zeros(960, dtype=np.int16), 0.05)  # half the window silent
    assert abs(meter.level(0.05) - 0.5**0.5) < 1e-9
    assert meter.level(0.12) == 0.0  # the loud chunk is out of the window, silence stays
    assert meter.level(0.2) == 0.0  # nothing heard for a window: nothing at all
    tone = (np.sin(np.arange(960) / 10) * 0.3 * 32767).astype(np.int16)
    meter.push(tone, 1.0)
    assert abs(meter.level(1.0) - 0.3 / 2**0.5) < 0.002


def test_the_mix_sums_and_clips_and_waits_for_a_peer_to_fill() -> None:
    a, b = RemotePeer("a"), RemotePeer("b")
    loud = np.full(FRAME_SAMPLES * 2, 30_000, dtype=np.int16)
    a.heard(loud, 0.0)
    b.heard(loud, 0.0)
    out = mix([a, b])
    assert out.dtype == np.int16 and out.shape == (FRAME_SAMPLES,)
    assert int(out.min()) == 32767  # clipped, not wrapped
    c = RemotePeer("c")
    c.heard(np.full(FRAME_SAMPLES, 1000, dtype=np.int16), 0.0)  # one step only: not yet
    assert int(mix([c]).max()) == 0
    c.heard(np.full(FRAME_SAMPLES, 1000, dtype=np.int16), 0.0)
    assert int(mix([c]).max()) == 1000
    assert int(mix([]).max()) == 0


def test_stereo_opus_output_becomes_mono() -> None:
    frame = av.AudioFrame.from_ndarray(
        np.array([[100, 300, -100, -300]], dtype=np.int16), format="s16", layout="stereo"
    )
    frame.sample_rate = 48_000
    assert MonoConverter().convert(frame).tolist() == [200, -200]
    slow = av.AudioFrame.from_ndarray(np.zeros((1, 160), dtype=np.int16), format="s16",
                                      layout="mono")
    slow.sample_rate = 8_000
    assert MonoConverter().convert(slow).dtype == np.int16


def test_tracks_send_only_while_their_gate_is_open() -> None:
    async def story() -> None:
        ring = PcmRing()
        ring.write(np.full(100, 7, dtype=np.int16))
        mic = MicrophoneTrack()
        mic.set_source(ring)
        waiting = asyncio.ensure_future(mic.recv())
        await asyncio.sleep(0.1)
        assert not waiting.done()  # off: nothing, not even silence
        mic.set_on(True)
        frame = await asyncio.wait_for(waiting, 1.0)
        samples = frame.to_ndarray().reshape(-1, 2)[:, 0]
        assert samples.shape == (FRAME_SAMPLES,)
        assert samples[:100].tolist() == [7] * 100 and not samples[100:].any()  # padded
        mic.set_source(ToneSource())
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(5):
            await mic.recv()
        assert 0.07 <= loop.time() - start <= 0.2  # paced at 20 ms
        mic.set_on(False)
        blocked = asyncio.ensure_future(mic.recv())
        await asyncio.sleep(0.05)
        assert not blocked.done()
        mic.stop()  # stopping wakes and ends it
        with pytest.raises(MediaStreamError):
            await asyncio.wait_for(blocked, 1.0)

        slot = FrameSlot()
        cam = PictureTrack(fps=50, repeat_after=10.0)
        cam.set_slot(slot)
        cam.set_on(True)
        pending = asyncio.ensure_future(cam.recv())
        await asyncio.sleep(0.05)
        assert not pending.done()  # no picture yet
        px = np.zeros((241, 321, 4), dtype=np.uint8)
        slot.put(VideoImage(px, 0.0))
        frame = await asyncio.wait_for(pending, 1.0)
        assert (frame.width, frame.height, frame.format.name) == (320, 240, "yuv420p")
        again = asyncio.ensure_future(cam.recv())
        await asyncio.sleep(0.1)
        assert not again.done()  # same picture, not repeated before repeat_after
        slot.put(VideoImage(px, 1.0))
        await asyncio.wait_for(again, 1.0)
        cam.stop()

        # a new picture goes out when it is put, not at the track's next tick
        slow = PictureTrack(fps=5, repeat_after=10.0)
        slow.set_slot(slot)
        slow.set_on(True)
        await slow.recv()
        first = loop.time()
        pending = asyncio.ensure_future(slow.recv())
        await asyncio.sleep(0.25)  # past the 5 fps limit (0.2 s)
        assert not pending.done()
        slot.put(VideoImage(px, 2.0))
        await asyncio.wait_for(pending, 1.0)
        assert loop.time() - first < 0.33  # a 5 fps ticker would send at 0.4 s
        slow.stop()
        assert slot._listeners == ()  # stopping let go of the slot

    asyncio.run(story())


# --------------------------------------------------------------------------- jitter buffer


def packet(seq: int, ts: int, marker: bool, data: bytes = b"x") -> RtpPacket:
    p = RtpPacket(payload_type=97, sequence_number=seq, timestamp=ts)
    p.marker = 1 if marker else 0
    p._data = data  # type: ignore[attr-defined]  # what aiortc's depayloader sets
    return p


def test_a_video_frame_leaves_the_jitter_buffer_on_its_last_packet() -> None:
    """aiortc would hold each frame until the next one starts (+1 frame of latency)."""
    buf = MarkerJitterBuffer(capacity=128, is_video=True)
    assert buf.add(packet(10, 1000, False, b"a"))[1] is None
    frame = buf.add(packet(11, 1000, True, b"b"))[1]
    assert frame is not None and frame.data == b"ab" and frame.timestamp == 1000
    # out of order: complete only when the gap is filled
    assert buf.add(packet(12, 2000, False, b"c"))[1] is None
    assert buf.add(packet(14, 2000, True, b"e"))[1] is None
    frame = buf.add(packet(13, 2000, False, b"d"))[1]
    assert frame is not None and frame.data == b"cde"
    # a frame whose marker is lost still leaves when the next one starts (aiortc's rule)
    assert buf.add(packet(15, 3000, False, b"f"))[1] is None
    frame = buf.add(packet(17, 4000, False, b"h"))[1]
    assert frame is None  # 16 missing: neither rule releases anything yet
    frame = buf.add(packet(16, 3000, False, b"g"))[1]
    assert frame is not None and frame.data == b"fg"
    plain = JitterBuffer(capacity=128, is_video=True)
    assert plain.add(packet(1, 5, True))[1] is None  # the floor: waits for the next frame


def test_the_engine_finds_aiortcs_jitter_buffer_where_it_expects_it() -> None:
    async def check() -> None:
        pc = RTCPeerConnection()
        receiver = pc.addTransceiver("video").receiver
        assert use_marker_buffer(receiver)
        assert isinstance(receiver._RTCRtpReceiver__jitter_buffer, MarkerJitterBuffer)  # type: ignore[attr-defined]
        assert not use_marker_buffer(receiver)  # only once, only over aiortc's own
        await pc.close()

    asyncio.run(check())


def test_a_slot_tells_its_listeners_and_survives_a_broken_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slot = FrameSlot()
    heard: list[int] = []

    def broken() -> None:
        raise RuntimeError("reader bug")

    slot.add_listener(broken)
    slot.add_listener(lambda: heard.append(slot.seq))
    assert slot.put(None) == 1 and heard == [1]
    assert "FrameSlot listener failed" in caplog.text
    slot.remove_listener(broken)
    slot.put(None)
    assert heard == [1, 2] and len(slot._listeners) == 1
