"""Socket.IO ``/video``: auth at connect, join-session, meeting events, relay, isolation."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import socketio

from conference_gui.server import ServerConfig, ServerThread

from .support import NS, Api, Peer, until


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 30))


def _error(ack: Any) -> str:
    assert isinstance(ack, dict) and set(ack) == {"error"}, ack
    assert set(ack["error"]) == {"code", "message"}, ack
    return str(ack["error"]["code"])


# --- connect ------------------------------------------------------------------

async def _refusal(url: str, *, auth: Any, query: str = "") -> Any:
    sio = socketio.AsyncClient(reconnection=False)
    refused: list[Any] = []
    sio.on("connect_error", refused.append, namespace=NS)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(url + query, auth=auth, namespaces=[NS],
                              transports=["websocket"], wait_timeout=5)
    finally:
        await sio.shutdown()
    assert len(refused) == 1
    return refused[0]


def test_connect_refuses_bad_tokens(api: Api, data_dir: Path) -> None:
    host = api.create()
    other = api.create()
    claims = jwt.decode(host.token, options={"verify_signature": False})
    secret = (data_dir / "secret.key").read_bytes()
    expired = jwt.encode(claims | {"exp": int(time.time()) - 5}, secret, algorithm="HS256")
    forged = jwt.encode(claims, b"k" * 32, algorithm="HS256")

    async def main() -> None:
        for auth in (None, {}, {"token": ""}, {"token": "garbage"}, {"token": forged},
                     {"token": 42}):
            refusal = await _refusal(api.url, auth=auth)
            assert refusal["code"] == "unauthorized" and refusal["message"], (auth, refusal)
        assert (await _refusal(api.url, auth={"token": expired}))["code"] == "token_expired"
        foreign = await _refusal(api.url, auth={"token": other.token},
                                 query=f"?sessionId={host.session_id}")
        assert foreign["code"] == "unauthorized"
        wrong_user = await _refusal(api.url, auth={"token": host.token},
                                    query=f"?sessionId={host.session_id}&userId=someone")
        assert wrong_user["code"] == "unauthorized"

    run(main)


def test_connect_with_the_seed_query_shape(api: Api) -> None:
    """auth plus query sessionId/userId/token, or the token in the query alone."""
    host = api.create()

    async def main() -> None:
        peer = Peer(api.url, host)
        await peer.connect(sessionId=host.session_id, userId=host.user_id, token=host.token)
        await peer.close()
        query_only = socketio.AsyncClient(reconnection=False)
        await query_only.connect(f"{api.url}?sessionId={host.session_id}&token={host.token}",
                                 namespaces=[NS], transports=["websocket"])
        ack = await query_only.call("join-session", {"sessionId": host.session_id},
                                    namespace=NS, timeout=5)
        assert ack["self"]["id"] == host.user_id
        await query_only.disconnect()
        await query_only.shutdown()

    run(main)


def test_polling_transport_works_too(api: Api) -> None:
    host = api.create()

    async def main() -> None:
        async with Peer(api.url, host, transports=["polling"]) as peer:
            assert (await peer.join())["self"]["id"] == host.user_id

    run(main)


# --- join-session ---------------------------------------------------------------

def test_join_session_ack(api: Api) -> None:
    host = api.create(name="Ann")
    api.upload_ok(host)
    api.upload_ok(host)

    async def main() -> None:
        async with Peer(api.url, host) as peer:
            ack = await peer.join()
            assert set(ack) == {"self", "participants", "resourceRevision", "polls", "chat",
                                "chatMore", "call"}
            assert ack["chatMore"] is False
            me = {"id": host.user_id, "name": "Ann", "role": "host", "handRaised": False,
                  "handRaisedAt": None,
                  "media": {"audio": False, "video": False, "screen": False}}
            assert ack["call"] == {"mode": "mesh", "active": True}
            assert ack["self"] == me
            assert ack["participants"] == [me]
            assert ack["resourceRevision"] == 2 == api.listed(host)["revision"]
            assert ack["polls"] == [] and ack["chat"] == []
            again = await peer.join()  # idempotent
            assert again["participants"] == [me]

    run(main)


def test_join_session_refusals(api: Api) -> None:
    host, other = api.create(), api.create()

    async def main() -> None:
        async with Peer(api.url, host) as peer:
            assert _error(await peer.call("join-session", {"sessionId": other.session_id})
                          ) == "forbidden"
            malformed: list[Any] = [None, [], "x", 5, {}, {"sessionId": 5}]
            for bad in malformed:
                code = _error(await peer.call("join-session", bad))
                assert code in ("bad_request", "invalid"), bad
            await peer.join()  # still usable

    run(main)


EVENTS = {
    "raise-hand": {"raised": True},
    "lower-hand": {"participantId": "x"},
    "chat-message": {"text": "hi"},
    "poll-create": {"question": "Q?", "options": ["a", "b"]},
    "poll-vote": {"pollId": "x", "option": 0},
    "poll-close": {"pollId": "x"},
    "signal": {"to": "x", "data": {}},
    "media-state": {"audio": True, "video": False, "screen": False},
    "call-claim": {},
    "chat-history": {"before": None, "limit": 10},
    "end-meeting": {},
}


def test_events_before_join_are_refused(api: Api) -> None:
    host = api.create()

    async def main() -> None:
        async with Peer(api.url, host) as peer:
            for event, payload in EVENTS.items():
                assert _error(await peer.call(event, payload)) == "not_joined", event
            assert _error(await peer.call("no-such-event", {})) == "unknown_event"
            assert peer.events == []

    run(main)


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_malformed_payloads_get_error_acks(api: Api, event: str) -> None:
    host = api.create()
    wrong_types: dict[str, list[Any]] = {
        "raise-hand": [{"raised": "yes"}, {"raised": 1}, {}],
        "lower-hand": [{"participantId": 1}, {}],
        "chat-message": [{"text": 5}, {"text": None}, {}],
        "poll-create": [{"question": "Q", "options": "ab"}, {"question": 1, "options": ["a", "b"]},
                        {"question": "Q", "options": ["a", 2]}, {}],
        "poll-vote": [{"pollId": "p", "option": "0"}, {"pollId": "p", "option": True},
                      {"pollId": 1, "option": 0}, {}],
        "poll-close": [{"pollId": 1}, {}],
        "signal": [{"to": "x", "data": "sdp"}, {"to": 1, "data": {}}, {"data": {}}, {}],
        "media-state": [{"audio": 1, "video": False, "screen": False},
                        {"audio": True, "video": False}, {"audio": "on", "video": False,
                                                          "screen": False}, {}],
        "call-claim": [],
        "chat-history": [{"before": 1}, {"limit": 0}, {"limit": 101}, {"limit": "5"}],
        "end-meeting": [],
    }

    async def main() -> None:
        async with Peer(api.url, host) as peer:
            await peer.join()
            for bad in [None, [], [1, 2], "text", 3, True, *wrong_types[event]]:
                assert _error(await peer.call(event, bad)) in ("bad_request", "invalid"), bad
            assert (await peer.call("chat-message", {"text": "still alive"}))["message"]

    run(main)


# --- participants ----------------------------------------------------------------

def test_participants_join_and_leave_per_user_not_per_connection(api: Api) -> None:
    host = api.create(name="Ann")
    bob = api.join(host, "Bob")

    async def main() -> None:
        async with Peer(api.url, host) as ann:
            await ann.join()
            first = Peer(api.url, bob)
            await first.connect()
            ack = await first.join()
            assert {p["id"] for p in ack["participants"]} == {host.user_id, bob.user_id}
            joined = await ann.wait_for("participant-joined",
                                        lambda d: d["participant"]["id"] == bob.user_id)
            assert joined == {"participant": {"id": bob.user_id, "name": "Bob",
                                              "role": "participant", "handRaised": False,
                                              "handRaisedAt": None,
                                              "media": {"audio": False, "video": False,
                                                        "screen": False}}}
            assert await first.wait_for("participant-joined")  # the sender is included

            second = Peer(api.url, bob)  # Bob's second window
            await second.connect()
            await second.join()
            await first.close()
            await ann.call("chat-message", {"text": "sync"})
            await ann.wait_for("chat-message")
            assert len(ann.received("participant-joined")) == 2  # Ann herself, then Bob once
            assert ann.received("participant-left") == []

            await second.close()
            assert await ann.wait_for("participant-left") == {"participantId": bob.user_id}
            ack = await ann.join()
            assert [p["id"] for p in ack["participants"]] == [host.user_id]

    run(main)


def test_raise_and_lower_hands(api: Api) -> None:
    host = api.create(name="Ann")
    bob, eve = api.join(host, "Bob"), api.join(host, "Eve")

    async def main() -> None:
        async with Peer(api.url, host) as ann, Peer(api.url, bob) as b, Peer(api.url, eve) as e:
            for peer in (ann, b, e):
                await peer.join()
            assert await b.call("raise-hand", {"raised": True}) == {"ok": True}
            update = await ann.wait_for("participant-updated")
            assert update["participant"]["id"] == bob.user_id
            assert update["participant"]["handRaised"] is True
            assert update["participant"]["handRaisedAt"].endswith("Z")
            assert await b.call("raise-hand", {"raised": True}) == {"ok": True}  # no change

            assert _error(await e.call("lower-hand", {"participantId": bob.user_id})
                          ) == "forbidden"
            assert _error(await ann.call("lower-hand", {"participantId": "ghost"})
                          ) == "not_found"
            assert await ann.call("lower-hand", {"participantId": bob.user_id}) == {"ok": True}
            lowered = await b.wait_for("participant-updated",
                                       lambda d: d["participant"]["handRaised"] is False)
            assert lowered["participant"]["handRaisedAt"] is None
            assert len(ann.received("participant-updated")) == 2

            await e.call("raise-hand", {"raised": True})
            await e.call("raise-hand", {"raised": False})
            await ann.wait_for("participant-updated",
                               lambda d: d["participant"]["id"] == eve.user_id
                               and not d["participant"]["handRaised"])

    run(main)


# --- chat -------------------------------------------------------------------------

def test_chat_messages(api: Api) -> None:
    host = api.create(name="Ann")
    bob = api.join(host, "Bob")

    async def main() -> None:
        async with Peer(api.url, host) as ann, Peer(api.url, bob) as b:
            await ann.join()
            await b.join()
            ack = await b.call("chat-message", {"text": "Hello\r\nwörld 👋"})
            message = ack["message"]
            assert set(message) == {"id", "from", "text", "sentAt"}
            assert message["from"] == {"id": bob.user_id, "name": "Bob"}
            assert message["text"] == "Hello\nwörld 👋"
            assert message["sentAt"].endswith("Z")
            assert await ann.wait_for("chat-message") == {"message": message}
            assert await b.wait_for("chat-message") == {"message": message}

            assert (await b.call("chat-message", {"text": "x" * 4000}))["message"]
            for bad in ("", "   \n\t ", "x" * 4001, "\u0000\u0007"):
                assert _error(await b.call("chat-message", {"text": bad})) == "invalid"
            history = (await ann.join())["chat"]  # what a reconnecting client catches up on
            assert [m["text"] for m in history] == ["Hello\nwörld 👋", "x" * 4000]

    run(main)


# --- polls ------------------------------------------------------------------------

def test_poll_lifecycle_and_rules(api: Api) -> None:
    host = api.create(name="Ann")
    bob, eve = api.join(host, "Bob"), api.join(host, "Eve")

    async def main() -> None:
        async with Peer(api.url, host) as ann, Peer(api.url, bob) as b, Peer(api.url, eve) as e:
            for peer in (ann, b, e):
                await peer.join()
            for bad in ({"question": "Q?", "options": ["only"]},
                        {"question": "Q?", "options": [str(i) for i in range(11)]},
                        {"question": " ", "options": ["a", "b"]},
                        {"question": "Q?", "options": ["a", " "]},
                        {"question": "Q?", "options": ["Same", "same"]},
                        {"question": "Q" * 501, "options": ["a", "b"]},
                        {"question": "Q?", "options": ["a", "b" * 201]}):
                assert _error(await b.call("poll-create", bad)) == "invalid", bad

            ack = await b.call("poll-create", {"question": "Lunch?", "options": ["Pizza", "Sushi"]})
            poll = ack["poll"]
            pid = poll["id"]
            assert {k: v for k, v in poll.items() if k != "id"} == {
                "question": "Lunch?",
                "options": [{"text": "Pizza", "votes": 0}, {"text": "Sushi", "votes": 0}],
                "closed": False, "createdBy": bob.user_id, "myVote": None}
            created = await e.wait_for("poll-created")
            assert created["poll"] == {k: v for k, v in poll.items() if k != "myVote"}

            voted = await e.call("poll-vote", {"pollId": pid, "option": 1})
            assert voted["poll"]["options"][1]["votes"] == 1 and voted["poll"]["myVote"] == 1
            updated = await ann.wait_for("poll-updated")
            assert updated["poll"]["options"] == [{"text": "Pizza", "votes": 0},
                                                  {"text": "Sushi", "votes": 1}]
            assert "myVote" not in updated["poll"]
            # A vote can be changed until the poll closes; the ack says the current one.
            changed = await e.call("poll-vote", {"pollId": pid, "option": 0})
            assert changed["poll"]["myVote"] == 0
            assert [o["votes"] for o in changed["poll"]["options"]] == [1, 0]
            await ann.wait_for("poll-updated", lambda d: d["poll"]["options"][0]["votes"] == 1)
            same = await e.call("poll-vote", {"pollId": pid, "option": 0})  # no change, no event
            assert same["poll"]["myVote"] == 0
            assert (await e.call("poll-vote", {"pollId": pid, "option": 1}))["poll"]["myVote"] == 1
            await ann.wait_for("poll-updated",
                               lambda d: [o["votes"] for o in d["poll"]["options"]] == [0, 1])
            assert len(ann.received("poll-updated")) == 3
            assert _error(await ann.call("poll-vote", {"pollId": pid, "option": 2})) == "invalid"
            assert _error(await ann.call("poll-vote", {"pollId": pid, "option": -1})) == "invalid"
            assert _error(await ann.call("poll-vote", {"pollId": "nope", "option": 0})
                          ) == "not_found"

            rejoined = await e.join()  # a reconnecting client learns its own vote
            assert rejoined["polls"][0]["myVote"] == 1

            assert _error(await e.call("poll-close", {"pollId": pid})) == "forbidden"
            closed = await b.call("poll-close", {"pollId": pid})  # the creator may
            assert closed["poll"]["closed"] is True
            assert (await ann.wait_for("poll-closed"))["poll"]["closed"] is True
            assert _error(await ann.call("poll-vote", {"pollId": pid, "option": 0})
                          ) == "poll_closed"
            assert (await b.call("poll-close", {"pollId": pid}))["poll"]["closed"]  # idempotent

            other = (await e.call("poll-create", {"question": "Q2", "options": ["x", "y"]}))
            assert (await ann.call("poll-close", {"pollId": other["poll"]["id"]})  # the host may
                    )["poll"]["closed"] is True
            await b.wait_for("poll-closed", lambda d: d["poll"]["id"] == other["poll"]["id"])
            assert len(b.received("poll-closed")) == 2

    run(main)


# --- signal -----------------------------------------------------------------------

def test_signal_reaches_only_its_addressee(api: Api) -> None:
    host = api.create(name="Ann")
    bob, eve = api.join(host, "Bob"), api.join(host, "Eve")
    other = api.create(name="Zed")

    async def main() -> None:
        async with (Peer(api.url, host) as ann, Peer(api.url, bob) as b1,
                    Peer(api.url, bob) as b2, Peer(api.url, eve) as e,
                    Peer(api.url, other) as z):
            for peer in (ann, b1, b2, e, z):
                await peer.join()
            offer = {"type": "offer", "sdp": "v=0..."}
            assert await ann.call("signal", {"to": bob.user_id, "data": offer}) == {"ok": True}
            expected = {"from": host.user_id, "data": offer}
            # only the addressee's call connection (its most recent window) gets it
            assert await b2.wait_for("signal") == expected
            assert _error(await ann.call("signal", {"to": other.user_id, "data": {}})
                          ) == "not_found"
            assert _error(await ann.call("signal", {"to": "ghost", "data": {}})) == "not_found"
            # a later room event proves the earlier ones were delivered (emits keep order)
            await ann.call("chat-message", {"text": "marker"})
            await e.wait_for("chat-message")
            await ann.wait_for("chat-message")
            assert e.received("signal") == [] and ann.received("signal") == []
            assert z.received("signal") == [] and b1.received("signal") == []

    run(main)


# --- resources and isolation --------------------------------------------------------

def test_resource_events_carry_the_revision(api: Api) -> None:
    host = api.create(name="Ann")
    bob = api.join(host, "Bob")

    async def main() -> None:
        async with Peer(api.url, host) as ann, Peer(api.url, bob) as b:
            await ann.join()
            await b.join()
            uploaded = await asyncio.to_thread(api.upload_ok, bob, "a.txt", b"abc")
            event = await ann.wait_for("resource-uploaded")
            assert event == uploaded
            assert await b.wait_for("resource-uploaded") == uploaded  # uploader included
            rid = uploaded["resource"]["id"]
            deleted = await asyncio.to_thread(api.delete, host, rid)
            assert await b.wait_for("resource-deleted") == {
                "resourceId": rid, "revision": deleted.json()["revision"],
                "deletedBy": {"id": host.user_id, "name": "Ann"},  # (addition, WIRE.md)
            }
            assert (await b.join())["resourceRevision"] == 2

    run(main)


def test_concurrent_uploads_arrive_as_events_in_revision_order(api: Api) -> None:
    host = api.create()
    guest = api.join(host)
    # Five people, four uploads each at once (the most one person may send at once).
    uploaders = [host, guest, *(api.join(host, f"P{i}") for i in range(3))]

    def upload_all() -> list[int]:
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            return [r["revision"] for r in pool.map(
                lambda i: api.upload_ok(uploaders[i % 5], f"{i}.txt", b"x"), range(20))]

    async def main() -> None:
        async with Peer(api.url, guest) as listener:
            await listener.join()
            revisions = await asyncio.to_thread(upload_all)
            assert sorted(revisions) == list(range(1, 21))
            await until(lambda: len(listener.received("resource-uploaded")) == 20)
            seen = [e["revision"] for e in listener.received("resource-uploaded")]
            assert seen == list(range(1, 21))  # unique, gapless, in order
            ids = {e["resource"]["id"] for e in listener.received("resource-uploaded")}
            assert ids == {r["id"] for r in api.listed(host)["resources"]}

    run(main)


def test_sessions_are_isolated(api: Api) -> None:
    a = api.create(name="Ann")
    b = api.create(name="Bea")
    a_guest = api.join(a, "Al")

    async def main() -> None:
        async with Peer(api.url, a) as pa, Peer(api.url, b) as pb:
            await pa.join()
            await pb.join()
            async with Peer(api.url, a_guest) as pg:
                await pg.join()
                await pg.call("raise-hand", {"raised": True})
                await pg.call("chat-message", {"text": "secret"})
                await pg.call("poll-create", {"question": "Q", "options": ["a", "b"]})
                await asyncio.to_thread(api.upload_ok, a)
            await pa.wait_for("participant-left")
            await pb.call("chat-message", {"text": "marker"})
            await pb.wait_for("chat-message")
            assert [name for name, _ in pb.events] == ["participant-joined", "chat-message"]
            assert pb.received("participant-joined")[0]["participant"]["id"] == b.user_id
            assert (await pb.join())["participants"][0]["id"] == b.user_id
            assert len((await pb.join())["participants"]) == 1

    run(main)


# --- server-side view ---------------------------------------------------------------

@pytest.mark.parametrize("transports", [["websocket"], ["polling"], None])
def test_connection_count_and_drop_with_reconnect(
    srv: ServerThread, api: Api, transports: list[str] | None
) -> None:
    a, b = api.create(), api.create()
    # python-engineio's polling client races its own cleanup against a very fast
    # reconnect (an unclosed aiohttp session); the default 1 s delay avoids it.
    delay = 1.0 if transports == ["polling"] else 0.05

    async def main() -> None:
        async with (Peer(api.url, a, reconnection=True, transports=transports,
                         reconnection_delay=delay) as pa,
                    Peer(api.url, b) as pb):
            await pa.join()
            await pb.join()
            assert srv.connection_count() == 2
            assert srv.connection_count(a.session_id) == 1
            await asyncio.to_thread(srv.disconnect_all, a.session_id)
            await until(lambda: pa.connects == 2, what="automatic reconnect")
            assert pb.connects == 1 and pb.sio.connected
            await until(lambda: srv.connection_count(a.session_id) == 1)
            await pa.join()
            assert srv.connection_count() == 2

    run(main)


def test_stop_drops_live_connections_quickly(tmp_path: Path) -> None:
    server = ServerThread(ServerConfig(port=0, data_dir=tmp_path))
    api = Api(server.start())
    host = api.create()

    async def main() -> None:
        peers = [Peer(api.url, host), Peer(api.url, host, transports=["polling"])]
        for peer in peers:
            await peer.connect()
            await peer.join()
        started = time.monotonic()
        await asyncio.to_thread(server.stop)
        assert time.monotonic() - started < 3
        await until(lambda: not any(p.sio.connected for p in peers), what="clients notice")
        for peer in peers:
            await peer.close()

    run(main)


def test_http_test_hooks_only_when_enabled(tmp_path: Path, api: Api) -> None:
    assert requests.get(f"{api.url}/api/_test/connections", timeout=10).status_code == 404
    hooked = ServerThread(ServerConfig(port=0, data_dir=tmp_path, test_hooks=True))
    url = hooked.start()
    try:
        host = Api(url).create()

        async def main() -> None:
            async with Peer(url, host, reconnection=True) as peer:
                await peer.join()
                count = await asyncio.to_thread(
                    requests.get, f"{url}/api/_test/connections",
                    params={"sessionId": host.session_id}, timeout=10)
                assert count.json() == {"count": 1}
                dropped = await asyncio.to_thread(
                    requests.post, f"{url}/api/_test/drop-connections", timeout=10)
                assert dropped.json() == {"ok": True}
                await until(lambda: peer.connects == 2, what="reconnect")

        run(main)
    finally:
        hooked.stop()


def test_run_executes_on_the_server_loop(srv: ServerThread) -> None:
    async def loop_name() -> str:
        return asyncio.current_task().get_name() if asyncio.current_task() else ""  # type: ignore[union-attr]

    assert isinstance(srv.run(loop_name), str)
    assert srv.connection_count("nobody") == 0
