"""The wire contract with peers that are not our engine: a plain aiortc participant
written by hand (as a browser page would be), stale and replacing messages, and
garbage from a peer, which must cost one log line and nothing else."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from aiortc import RTCPeerConnection

from conference_gui.domain.call import section_kinds

from .support import (
    BLUE,
    GREEN,
    RED,
    Party,
    RawPeer,
    Switchboard,
    close_to,
    colour_at,
    describe,
    join_all,
    strip_candidates,
    wait_until,
)

pytestmark = pytest.mark.timeout(40)

People = Callable[..., Party]
RawPeers = Callable[..., RawPeer]


def _sections(sdp: str) -> list[tuple[str, str]]:
    """(kind, direction) of each media section."""
    out: list[tuple[str, str]] = []
    for block in sdp.split("m=")[1:]:
        kind = block.split(" ", 1)[0]
        direction = next(
            (d for d in ("sendrecv", "sendonly", "recvonly", "inactive") if f"a={d}" in block), ""
        )
        out.append((kind, direction))
    return out


def _first_video_codec(sdp: str) -> str:
    block = sdp.split("m=video", 1)[1]
    payload = block.split("\r\n", 1)[0].split()[2]
    for line in block.split("\r\n"):
        if line.startswith(f"a=rtpmap:{payload} "):
            return line.split(" ", 1)[1].split("/", 1)[0]
    return ""


def _video_codecs(sdp: str) -> set[str]:
    """Codec names in every video section (rtpmap lines)."""
    names: set[str] = set()
    for block in sdp.split("m=video")[1:]:
        block = block.split("m=", 1)[0]
        names |= {
            line.split(" ", 1)[1].split("/", 1)[0]
            for line in block.split("\r\n")
            if line.startswith("a=rtpmap:")
        }
    return names


def test_a_browser_like_peer_that_trickles_candidates_before_its_answer(
    people: People, raw_peers: RawPeers, board: Switchboard
) -> None:
    """Ann's engine offers to "zed", a hand-written aiortc participant that answers
    without candidates in its SDP and trickles them — even before the answer
    arrives. The offer follows the SPEC; the call works both ways."""
    ann = people("ann", colour=RED, right=BLUE)
    zed = raw_peers("zed", colour=GREEN)
    ann.engine.join("ann", ["ann", "zed"])
    offer = zed.wait_message("offer")
    assert _sections(offer["sdp"]) == [
        ("audio", "sendrecv"), ("video", "sendrecv"), ("video", "sendrecv")
    ]
    assert _first_video_codec(offer["sdp"]) == "VP8"
    # VP8 only: no H.264, so the bundle needs no x264 (docs/PACKAGING.md)
    assert _video_codecs(offer["sdp"]) == {"VP8", "rtx"}
    assert "a=group:BUNDLE 0 1 2" in offer["sdp"]
    assert "127.0.0.1" in offer["sdp"]  # the loopback candidate (media/ice.py)

    async def answer() -> str:
        pc = await zed.three_sections()
        await pc.setRemoteDescription(describe(offer["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    sdp, candidates = strip_candidates(zed.run(answer()))
    assert candidates
    for line, index in candidates:  # candidates first: the engine must keep them
        zed.send("ann", {"type": "candidate", "id": offer["id"],
                         "candidate": {"candidate": line, "sdpMid": str(index),
                                       "sdpMLineIndex": index}})
    zed.send("ann", {"type": "candidate", "id": offer["id"], "candidate": None})
    zed.send("ann", {"type": "answer", "sdp": sdp, "id": offer["id"]})
    ann.connected_to("zed")

    def green_at_ann() -> bool:
        seen = ann.sees("zed")
        return seen is not None and close_to(colour_at(seen.pixels, 0.5), GREEN)

    wait_until(green_at_ann, what="zed's picture at Ann")
    wait_until(lambda: len(zed.frames) > 0, what="Ann's picture at zed")
    got = zed.frames[-1].to_ndarray(format="bgra")
    assert close_to(colour_at(got, 0.25), RED) and close_to(colour_at(got, 0.75), BLUE)
    assert not ann.of("problem")


def test_ann_answers_a_browser_like_offer_with_three_sendrecv_sections(
    people: People, raw_peers: RawPeers
) -> None:
    """"able" has the smaller id, so it offers (trickling its candidates after the
    offer); Ann's answer keeps all three sections sendrecv and echoes the id."""
    ann = people("ann", colour=BLUE)
    able = raw_peers("able", colour=GREEN)
    ann.engine.join("ann", ["able", "ann"])

    async def offer() -> str:
        pc = await able.three_sections()
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    sdp, candidates = strip_candidates(able.run(offer()))
    able.send("ann", {"type": "offer", "sdp": sdp, "id": "browser-1"})
    for line, _ in candidates:
        able.send("ann", {"type": "candidate", "id": "browser-1",
                          "candidate": {"candidate": line, "sdpMid": "0",
                                        "sdpMLineIndex": None}})
    answer = able.wait_message("answer")
    assert answer["id"] == "browser-1"
    assert "H264" in _video_codecs(sdp)  # able offers H.264 too; Ann takes VP8 only
    assert _video_codecs(answer["sdp"]) == {"VP8", "rtx"}
    assert _sections(answer["sdp"]) == [
        ("audio", "sendrecv"), ("video", "sendrecv"), ("video", "sendrecv")
    ]
    pc = able.pcs[-1]
    able.run(pc.setRemoteDescription(describe(answer["sdp"], "answer")))
    ann.connected_to("able")
    wait_until(lambda: len(able.frames) > 0, what="Ann's picture at able")
    assert close_to(colour_at(able.frames[-1].to_ndarray(format="bgra"), 0.5), BLUE)
    wait_until(lambda: ann.sees("able") is not None, what="able's picture at Ann")


def test_a_new_offer_replaces_the_pair_and_a_stale_answer_or_candidate_is_ignored(
    people: People, raw_peers: RawPeers, board: Switchboard
) -> None:
    ann = people("ann", moving=True)
    able = raw_peers("able", colour=GREEN)
    ann.engine.join("ann", ["able", "ann"])

    def connect(offer_id: str) -> RTCPeerConnection:
        async def go() -> str:
            pc = await able.three_sections()
            await pc.setLocalDescription(await pc.createOffer())
            return str(pc.localDescription.sdp)

        mark = len(able.inbox)
        able.send("ann", {"type": "offer", "sdp": able.run(go()), "id": offer_id})
        answer = able.wait_message("answer", after=mark)
        assert answer["id"] == offer_id
        pc = able.pcs[-1]
        able.run(pc.setRemoteDescription(describe(answer["sdp"], "answer")))
        return pc

    first = connect("one")
    ann.connected_to("able")
    mark = len(ann.events)
    second = connect("two")
    ann.wait_event("peer_state", "able", "connected", after=mark)
    wait_until(lambda: first.connectionState == "closed", what="the replaced connection closed")
    wait_until(lambda: second.connectionState == "connected", what="the new one connected")

    # An answer or candidate for the old offer id changes nothing.
    ann.engine.handle_signal("able", {"type": "answer", "sdp": "v=0\r\n" + "m=audio\r\n"
                                      "m=video\r\nm=video\r\n", "id": "one"})
    ann.engine.handle_signal("able", {"type": "candidate", "id": "one", "candidate": {
        "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0"}})
    frames = len(able.frames)
    wait_until(lambda: len(able.frames) > frames + 2, what="media still flowing")
    assert second.connectionState == "connected"
    assert not ann.of("problem")
    assert not [ev for ev in ann.events[mark:]
                if ev.kind == "peer_state" and ev.args[1] in ("failed", "closed")]


def test_ann_ignores_a_stale_answer_and_uses_the_current_one(
    people: People, raw_peers: RawPeers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="conference_gui.media")
    ann = people("ann")
    zed = raw_peers("zed")
    ann.engine.join("ann", ["ann", "zed"])
    offer = zed.wait_message("offer")

    async def answer() -> str:
        pc = await zed.three_sections()
        await pc.setRemoteDescription(describe(offer["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    sdp = zed.run(answer())
    zed.send("ann", {"type": "answer", "sdp": sdp, "id": "an-old-offer"})
    wait_until(lambda: "stale answer from zed ignored" in caplog.text, what="the answer handled")
    assert ann.states("zed") == ["new"]
    zed.send("ann", {"type": "answer", "sdp": sdp, "id": offer["id"]})
    ann.connected_to("zed")
    assert not ann.of("problem")


BAD_INPUTS: list[tuple[str, object, object]] = [
    ("not a dict", "ann", "hello"),
    ("a list", "ann", [1, 2, 3]),
    ("no type", "ann", {"sdp": "x"}),
    ("unknown type", "ann", {"type": "renegotiate-please", "id": "1"}),
    ("garbage SDP", "ann", {"type": "offer", "sdp": "this is not SDP", "id": "g1"}),
    ("SDP of the right shape but nonsense", "ann", {
        "type": "offer", "id": "g2",
        "sdp": "v=0\r\nm=audio 9 X 0\r\nm=video 9 X 0\r\nm=video 9 X 0\r\n"}),
    ("a 1 MB SDP", "ann", {"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 200_000, "id": "big"}),
    ("an offer with one section", "ann", {"type": "offer", "id": "g3",
                                          "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"}),
    ("a candidate that is not one", "ann", {"type": "candidate", "id": "x",
                                            "candidate": {"candidate": "rubbish", "sdpMid": "0"}}),
    ("an answer without id", "ann", {"type": "answer", "sdp": "v=0"}),
    ("a candidate for a pair that does not exist", "nobody", {
        "type": "candidate", "id": "x",
        "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0"}}),
    ("an answer from a stranger", "stranger", {"type": "answer", "sdp": "v=0", "id": "x"}),
    ("a bye from a stranger", "stranger", {"type": "bye"}),
    ("a sender that is not a string", 42, {"type": "bye"}),
    ("a sender of 1 MB", "x" * 1_000_000, {"type": "bye"}),
]


def test_garbage_from_peers_costs_a_log_line_and_nothing_else(
    people: People, caplog: pytest.LogCaptureFixture
) -> None:
    """Each bad input: a clear one-line log, no traceback, no crash; Ann's call with
    Bob (and its media) goes on untouched — even garbage that claims to be from Bob."""
    ann, bob = people("ann", moving=True), people("bob")
    join_all(ann, bob)
    bob.connected_to("ann")
    wait_until(lambda: bob.frames_from("ann") > 0, what="media before the garbage")
    caplog.set_level(logging.INFO, logger="conference_gui.media")
    caplog.clear()

    for _, sender, data in BAD_INPUTS:
        bob.engine.handle_signal(sender, data)
    # A real message behind them all shows they have all been handled.
    frames = bob.frames_from("ann")
    wait_until(lambda: bob.frames_from("ann") > frames + 5, what="media still flowing")
    wait_until(lambda: len([r for r in caplog.records if r.name.startswith(
        "conference_gui.media")]) >= len(BAD_INPUTS), timeout=5, what="a line each")

    lines = [r for r in caplog.records if r.name.startswith("conference_gui.media")]
    assert len(lines) == len(BAD_INPUTS), [r.getMessage() for r in lines]
    for record in lines:
        message = record.getMessage()
        assert "\n" not in message and len(message) < 300, message
        assert record.exc_info is None, message
    text = " | ".join(r.getMessage() for r in lines)
    for needle in ("not an object", "unknown type", "100000", "audio, video, video",
                   "no connection", "invalid sender", "could not use the offer",
                   "'candidate:'"):
        assert needle in text, f"{needle!r} not in {text}"
    assert bob.states("ann")[-1] == "connected"
    assert ann.states("bob")[-1] == "connected"
    assert bob.engine.running


def test_a_bad_offer_does_not_replace_a_working_connection(people: People) -> None:
    ann, bob = people("ann", moving=True), people("bob")
    join_all(ann, bob)
    bob.connected_to("ann")
    # right shape, from Ann's id, but aiortc refuses it (no ICE credentials)
    bob.engine.handle_signal("ann", {"type": "offer", "id": "evil", "sdp": (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 opus/48000/2\r\na=mid:0\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=rtpmap:97 VP8/90000\r\na=mid:1\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=rtpmap:97 VP8/90000\r\na=mid:2\r\n")})
    bob.wait_event("problem", "ann")
    frames = bob.frames_from("ann")
    wait_until(lambda: bob.frames_from("ann") > frames + 5, what="media still flowing")
    assert bob.states("ann")[-1] == "connected"
    assert section_kinds("m=audio 1\r\nm=video 2\r\n") == ["audio", "video"]


def test_an_offer_from_the_peer_that_should_answer_is_answered_anyway(
    people: People, raw_peers: RawPeers
) -> None:
    """"zz" offers although Ann (smaller id) is the offerer: Ann answers it (and
    logs it), and her own offer's late answer is then stale."""
    ann = people("ann")
    zz = raw_peers("zz", colour=GREEN)
    ann.engine.join("ann", ["ann", "zz"])
    ann_offer = zz.wait_message("offer")

    async def offer() -> str:
        pc = await zz.three_sections()
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    mark = len(zz.inbox)
    zz.send("ann", {"type": "offer", "sdp": zz.run(offer()), "id": "zz-1"})
    answer = zz.wait_message("answer", after=mark)
    zz.run(zz.pcs[-1].setRemoteDescription(describe(answer["sdp"], "answer")))
    ann.connected_to("zz")
    wait_until(lambda: ann.sees("zz") is not None, what="zz's picture")
    # zz answering Ann's own (now replaced) offer changes nothing
    zz.send("ann", {"type": "answer", "sdp": answer["sdp"], "id": ann_offer["id"]})
    frames = ann.frames_from("zz")
    wait_until(lambda: ann.frames_from("zz") > frames, what="media still flowing")
    assert ann.states("zz")[-1] == "connected"
    assert not ann.of("problem")


def test_a_flood_of_offers_and_candidates_costs_one_connection(
    people: People, raw_peers: RawPeers, caplog: pytest.LogCaptureFixture
) -> None:
    """A peer gone wild: 30 offers in a row, then 200 candidates. Only the newest
    offer gets an answer; candidates beyond a limit are dropped with one line."""
    ann = people("ann")
    able = raw_peers("able")
    ann.engine.join("ann", ["able", "ann"])

    async def offer() -> str:
        pc = await able.three_sections()
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    sdp = able.run(offer())
    for n in range(30):
        able.send("ann", {"type": "offer", "sdp": sdp, "id": f"flood-{n}"})
    def newest_answer() -> dict[str, object] | None:
        return next((m for m in able.inbox if m.get("id") == "flood-29"), None)

    wait_until(newest_answer, what="the answer to the newest offer")
    answer = newest_answer()
    assert answer is not None and answer["type"] == "answer"
    # offers queued behind a newer one are skipped (a few may have started already)
    assert len([m for m in able.inbox if m.get("type") == "answer"]) <= 3
    caplog.set_level(logging.INFO, logger="conference_gui.media")
    for n in range(200):
        able.send("ann", {"type": "candidate", "id": "flood-29", "candidate": {
            "candidate": f"candidate:{n} 1 udp 1 127.0.0.1 {1000 + n} typ host", "sdpMid": "0"}})
    ann.wait_event("problem", "able")
    able.run(able.pcs[-1].setRemoteDescription(describe(str(answer["sdp"]), "answer")))
    ann.connected_to("able")
    assert [m for _, m in ann.of("problem")] == [
        "ignored a bad candidate: ValueError: more than 64 candidates; the rest are ignored"
    ]
