"""The SFU events on the wire (docs/WIRE.md, "The SFU"): plain Socket.IO clients, a plain
aiortc publisher (audio only: the point is signaling), the real server and a real Janus.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

from conference_gui import protocol as wire
from conference_gui.media import ice
from conference_gui.server import ServerThread
from tests.server.support import Api, Member, Peer, until
from tests.server.test_server_protocol import _check as check

from .conftest import JANUS_ADDRESS

NETWORK = ipaddress.ip_network(f"{JANUS_ADDRESS}/24", strict=False)
POLICY = ice.IcePolicy(loopback=False, allow=(NETWORK,))


def run(coro: Any, timeout: float = 60.0) -> Any:
    async def bounded() -> Any:
        with ice.policy(POLICY):
            return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def error_code(ack: Any) -> str | None:
    return ack.get("error", {}).get("code") if isinstance(ack, dict) else None


def three(api: Api, title: str) -> list[Member]:
    host = api.create(title, "Ann")
    return [host, api.join(host, "Bob"), api.join(host, "Cy")]


async def publish(peer: Peer) -> RTCPeerConnection:
    """An audio-only publisher through ``sfu-publish`` (candidates in the SDP)."""
    pc = RTCPeerConnection()
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    ack = await peer.call("sfu-publish", {"sdp": pc.localDescription.sdp})
    assert "error" not in ack, ack
    wire.convert(ack, wire.SfuPublishAck)
    assert "janus" not in str({k: v for k, v in ack.items() if k != "sdp"}).lower()
    await pc.setRemoteDescription(RTCSessionDescription(ack["sdp"], "answer"))
    return pc


def test_isolation_and_shapes(sfu_server: ServerThread) -> None:
    api = Api(sfu_server.url)
    ours, theirs = three(api, "Ours"), three(api, "Theirs")

    async def story() -> None:
        peers = [Peer(sfu_server.url, m) for m in (*ours, *theirs)]
        for p in peers:
            await p.connect()
        pcs: list[RTCPeerConnection] = []
        try:
            acks = [await p.join() for p in peers]
            # The third of each meeting joined into an SFU call; the first two were told.
            assert [a["call"]["mode"] for a in acks] == ["mesh", "mesh", "sfu"] * 2
            for p in peers[:2] + peers[3:5]:
                event = await p.wait_for("call-mode")
                assert event == {"mode": "sfu", "reason": None}
            ann, bob, cy, tim, tom, tia = peers

            # Nothing to subscribe to before anyone publishes.
            ack = await bob.call("sfu-subscribe", {"participantId": ann.member.user_id})
            assert error_code(ack) == "not_found"

            pcs.append(await publish(ann))
            pcs.append(await publish(tim))
            published = await bob.wait_for("sfu-published", timeout=20)
            assert published == {"participantId": ann.member.user_id}
            await tom.wait_for("sfu-published", timeout=20)
            assert all(e["participantId"] != tim.member.user_id
                       for e in bob.received("sfu-published")), "another meeting's news"

            # Bob may subscribe to Ann; the ack names sections, never Janus's ids.
            ack = await bob.call("sfu-subscribe", {"participantId": ann.member.user_id})
            assert "error" not in ack, ack
            sub = wire.convert(ack, wire.SfuSubscribeAck)
            assert sub.sections == ["audio"]
            assert set(ack) == {"subscription", "participantId", "sdp", "sections"}

            # Bob may not subscribe to Tim (another meeting), whatever he adds.
            for body in ({"participantId": tim.member.user_id},
                         {"participantId": tim.member.user_id, "feed": 1, "room": 1234}):
                ack = await bob.call("sfu-subscribe", body)
                assert error_code(ack) == "not_found", ack
            # Nor answer or drop a subscription that is not his connection's.
            ack = await tom.call("sfu-answer", {"subscription": sub.subscription, "sdp": "v=0"})
            assert error_code(ack) == "not_found"
            # Unknown subscriptions are dropped without a word (idempotent).
            assert await tom.call("sfu-unsubscribe", {"subscription": "nope"}) == {"ok": True}

            # Malformed payloads are refused like every other event.
            assert error_code(await bob.call("sfu-subscribe", {})) == "invalid"
            assert error_code(await bob.call("sfu-subscribe", {"participantId": 7})) == "invalid"
            assert error_code(await bob.call("sfu-publish", {"sdp": ""})) == "invalid"
            assert error_code(await bob.call("sfu-publish", None)) == "bad_request"
            huge = "v=0\r\n" + "a=x-filler:" + "x" * (100 * 1024)
            assert error_code(await bob.call("sfu-publish", {"sdp": huge})) == "too_large"
            assert error_code(await bob.call("sfu-subscribe",
                                             {"participantId": bob.member.user_id})) == "invalid"

            # Bob finishes his subscription: Janus sends him Ann's audio.
            sub_pc = RTCPeerConnection()
            pcs.append(sub_pc)
            heard: list[int] = []
            listeners: list[asyncio.Future[None]] = []

            @sub_pc.on("track")
            def on_track(track: Any) -> None:
                async def listen() -> None:
                    while len(heard) < 10:
                        await track.recv()
                        heard.append(1)
                listeners.append(asyncio.ensure_future(listen()))

            await sub_pc.setRemoteDescription(RTCSessionDescription(sub.sdp, "offer"))
            await sub_pc.setLocalDescription(await sub_pc.createAnswer())
            ack = await bob.call("sfu-answer", {"subscription": sub.subscription,
                                                "sdp": sub_pc.localDescription.sdp})
            assert ack == {"ok": True}
            await until(lambda: len(heard) >= 10, timeout=20, what="Ann's audio through Janus")

            # Ann leaves the SFU: everyone of her meeting hears of it.
            assert await ann.call("sfu-leave", {}) == {"ok": True}
            assert await cy.wait_for("sfu-unpublished") == {"participantId": ann.member.user_id}

            # Every event and ack of the SFU is exactly its declared type.
            for peer in peers:
                for event, payload in peer.events:
                    if event in ("call-mode", "sfu-published", "sfu-unpublished"):
                        check(wire.SERVER_EVENTS[event], payload)
            check(wire.SfuSubscribeAck, wire.to_json(sub))

            # Back to two: mesh again after the server's delay, for the ones left.
            await tia.close()
            event = await tim.wait_for("call-mode", lambda e: e["mode"] == "mesh", timeout=10)
            assert event == {"mode": "mesh", "reason": None}
            ack = await tim.call("sfu-publish", {"sdp": "v=0\r\n"})
            assert error_code(ack) == "not_sfu"
        finally:
            for pc in pcs:
                await pc.close()
            for p in peers:
                await p.close()

    run(story())


def test_only_the_call_connection_uses_the_sfu(sfu_server: ServerThread) -> None:
    """A second window of the same person is not in the call: no SFU for it."""
    api = Api(sfu_server.url)
    ann, bob, cy = three(api, "Windows")

    async def story() -> None:
        first = Peer(sfu_server.url, ann)
        others = [Peer(sfu_server.url, m) for m in (bob, cy)]
        second = Peer(sfu_server.url, ann)
        for p in (first, *others, second):
            await p.connect()
        try:
            for p in (first, *others):
                await p.join()
            ack = await second.call("join-session", {"sessionId": ann.session_id,
                                                     "takeCall": False})
            assert ack["call"] == {"mode": "sfu", "active": False}
            ack = await second.call("sfu-subscribe", {"participantId": bob.user_id})
            assert error_code(ack) == "not_in_call"
        finally:
            for p in (first, *others, second):
                await p.close()

    run(story())
