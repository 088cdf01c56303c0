"""Wire contract v2 on the server: media state, and which connection of a user is in the call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .support import Api, Peer

OFF = {"audio": False, "video": False, "screen": False}


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 30))


def _code(ack: Any) -> str:
    assert isinstance(ack, dict) and set(ack) == {"error"}, ack
    return str(ack["error"]["code"])


def _media_of(event: dict[str, Any], user_id: str) -> dict[str, bool] | None:
    participant = event["participant"]
    return participant["media"] if participant["id"] == user_id else None


def test_media_state_reaches_everyone_and_resets_when_the_participant_leaves(api: Api) -> None:
    host = api.create(name="Ann")
    bob = api.join(host, "Bob")

    async def main() -> None:
        async with Peer(api.url, host) as ann:
            ack = await ann.join()
            assert ack["self"]["media"] == OFF
            async with Peer(api.url, bob) as b:
                joined = await b.join()
                assert {p["id"]: p["media"] for p in joined["participants"]} == {
                    host.user_id: OFF, bob.user_id: OFF}
                sends = {"audio": True, "video": True, "screen": False}
                assert await b.call("media-state", sends) == {"ok": True}
                for peer in (ann, b):  # everyone, the sender included
                    event = await peer.wait_for(
                        "participant-updated", lambda d: _media_of(d, bob.user_id) == sends)
                    assert event["participant"]["name"] == "Bob"
                # Unknown extra fields of a newer client are tolerated.
                muted = {"audio": False, "video": True, "screen": True, "future": 1}
                assert await b.call("media-state", muted) == {"ok": True}
                await ann.wait_for("participant-updated", lambda d: _media_of(d, bob.user_id)
                                   == {"audio": False, "video": True, "screen": True})
                late = await ann.join()  # a fresh snapshot carries it too
                seen = {p["id"]: p["media"] for p in late["participants"]}
                assert seen[bob.user_id] == {"audio": False, "video": True, "screen": True}
            await ann.wait_for("participant-left")
            async with Peer(api.url, bob) as again:  # a rejoining client announces anew
                assert (await again.join())["self"]["media"] == OFF

    run(main)


def test_the_most_recent_connection_of_a_user_is_in_the_call(api: Api) -> None:
    host = api.create(name="Ann")
    bob = api.join(host, "Bob")

    async def main() -> None:
        async with Peer(api.url, host) as ann, Peer(api.url, bob) as first:
            await ann.join()
            assert (await first.join())["call"] == {"mode": "mesh", "active": True}
            assert await first.call("media-state", {"audio": True, "video": True,
                                                    "screen": False}) == {"ok": True}
            async with Peer(api.url, bob) as second:
                ack = await second.join()
                assert ack["call"] == {"mode": "mesh", "active": True}
                assert ack["self"]["media"] == OFF  # the new call connection announces anew
                # The older window is told, and everyone sees Bob's media reset.
                assert await first.wait_for("call-moved") == {
                    "call": {"mode": "mesh", "active": False}}
                await ann.wait_for("participant-updated",
                                   lambda d: _media_of(d, bob.user_id) == OFF)
                assert second.received("call-moved") == []  # its ack said so
                # signal reaches the call connection only, and only it may send.
                assert await ann.call("signal", {"to": bob.user_id,
                                                 "data": {"type": "bye"}}) == {"ok": True}
                assert await second.wait_for("signal") == {"from": host.user_id,
                                                           "data": {"type": "bye"}}
                assert _code(await first.call("signal", {"to": host.user_id, "data": {}})
                             ) == "not_in_call"
                assert _code(await first.call("media-state", OFF)) == "not_in_call"
                assert await second.call("signal", {"to": host.user_id,
                                                    "data": {"type": "bye"}}) == {"ok": True}
                await ann.wait_for("signal")
                # the older window's own snapshot says it is not in the call
                assert (await first.join())["call"]["active"] is False
                assert second.received("media-state") == []
                await ann.call("chat-message", {"text": "marker"})
                await first.wait_for("chat-message")
                assert first.received("signal") == []
            # The call connection left: the call moves back to the remaining window.
            assert await first.wait_for("call-moved", lambda d: d["call"]["active"]) == {
                "call": {"mode": "mesh", "active": True}}
            assert ann.received("participant-left") == []  # Bob is still here
            assert await ann.call("signal", {"to": bob.user_id,
                                             "data": {"type": "offer", "sdp": "v=0",
                                                      "id": "o2"}}) == {"ok": True}
            assert (await first.wait_for("signal"))["data"]["id"] == "o2"
            assert (await first.join())["call"]["active"] is True

    run(main)


def test_a_window_can_join_without_taking_the_call_and_claim_it_later(api: Api) -> None:
    host = api.create(name="Ann")

    async def main() -> None:
        async with Peer(api.url, host) as main_window, Peer(api.url, host) as other:
            assert (await main_window.join())["call"]["active"] is True
            # e.g. a window that was told "call-moved" and reconnects after a blip
            ack = await other.call("join-session", {"sessionId": host.session_id,
                                                    "takeCall": False})
            assert ack["call"] == {"mode": "mesh", "active": False}
            await asyncio.sleep(0.2)
            assert main_window.received("call-moved") == []
            # "Use this window": the call moves here
            assert await other.call("call-claim", {}) == {"call": {"mode": "mesh",
                                                                   "active": True}}
            assert (await main_window.wait_for("call-moved"))["call"]["active"] is False
            assert await other.call("call-claim", {}) == {"call": {"mode": "mesh",
                                                                   "active": True}}
            assert _code(await other.call("join-session", {"sessionId": host.session_id,
                                                           "takeCall": "no"})) == "invalid"
            # alone with takeCall false: someone has to be in the call
        async with Peer(api.url, host) as alone:
            ack = await alone.call("join-session", {"sessionId": host.session_id,
                                                    "takeCall": False})
            assert ack["call"]["active"] is True

    run(main)


def test_signal_to_oneself_is_refused(api: Api) -> None:
    host = api.create(name="Ann")

    async def main() -> None:
        async with Peer(api.url, host) as one, Peer(api.url, host) as two:
            await one.join()
            await two.join()
            assert _code(await two.call("signal", {"to": host.user_id, "data": {}})) == "invalid"
            await asyncio.sleep(0.1)
            assert one.received("signal") == [] and two.received("signal") == []

    run(main)


def test_reactions_reach_everyone_and_only_known_ones_are_accepted(api: Api) -> None:
    ann = api.create()
    bob = api.join(ann)

    async def story() -> None:
        async with Peer(api.url, ann) as a, Peer(api.url, bob) as b:
            await a.join()
            await b.join()
            assert await b.call("reaction", {"reaction": "thumbs-up"}) == {"ok": True}
            got = await a.wait_for("reaction")
            assert got["participantId"] == bob.user_id and got["reaction"] == "thumbs-up"
            assert got["sentAt"].endswith("Z")
            await b.wait_for("reaction")  # the sender too
            assert _code(await b.call("reaction", {"reaction": "<script>"})) == "invalid"
            assert _code(await b.call("reaction", {})) == "invalid"

    run(story)
