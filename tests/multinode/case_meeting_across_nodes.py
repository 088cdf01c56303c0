"""Participants, hands, polls, chat and signaling with people on different nodes.

With PostgreSQL the meeting state is one document per meeting, changed under
its row lock by whichever node a person is connected to (pg_meeting.py).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

from conference_gui.server.auth import Identity
from conference_gui.server.meeting import CallMove, Media, Meeting
from conference_gui.server.pg_meeting import PgMeetingRegistry
from conference_gui.server.pg_storage import PostgresStorage
from conference_gui.server.storage import SessionRecord
from tests.server.support import Peer

from .conftest import Cluster


def ids(ack: dict[str, Any]) -> set[str]:
    return {p["id"] for p in ack["participants"]}


def test_presence_hands_polls_chat_and_signals_span_nodes(cluster: Cluster) -> None:
    api_a, api_b = cluster.api(cluster.a), cluster.api(cluster.b)
    ann = api_a.create(name="Ann")  # host
    bob = api_b.join(ann, name="Bob")
    carol = api_a.join(ann, name="Carol")

    async def story() -> None:
        async with Peer(cluster.a.url, ann) as a_ann, Peer(cluster.b.url, bob) as b_bob:
            await a_ann.join()
            assert ids(await b_bob.join()) == {ann.user_id, bob.user_id}

            # Hands: Bob raises on B; the host lowers it from A.
            assert await b_bob.call("raise-hand", {"raised": True}) == {"ok": True}
            await a_ann.wait_for("participant-updated",
                                 lambda d: d["participant"]["handRaised"])
            assert await a_ann.call("lower-hand", {"participantId": bob.user_id}) == {"ok": True}
            await b_bob.wait_for("participant-updated",
                                 lambda d: not d["participant"]["handRaised"])

            # Polls: created on A, voted through B, closed on A.
            poll = (await a_ann.call("poll-create", {"question": "Lunch?",
                                                     "options": ["Yes", "No"]}))["poll"]
            voted = await b_bob.call("poll-vote", {"pollId": poll["id"], "option": 1})
            assert voted["poll"]["options"][1]["votes"] == 1 and voted["poll"]["myVote"] == 1
            again = await b_bob.call("poll-vote", {"pollId": poll["id"], "option": 0})
            assert again["poll"]["myVote"] == 0  # changed, from node B
            await a_ann.wait_for("poll-updated", lambda d: d["poll"]["options"][0]["votes"] == 1)
            back = await b_bob.call("poll-vote", {"pollId": poll["id"], "option": 1})
            assert back["poll"]["myVote"] == 1
            assert [o["votes"] for o in back["poll"]["options"]] == [0, 1]
            refused = await b_bob.call("poll-close", {"pollId": poll["id"]})
            assert refused["error"]["code"] == "forbidden"
            closed = await a_ann.call("poll-close", {"pollId": poll["id"]})
            assert closed["poll"]["closed"] is True
            await b_bob.wait_for("poll-closed")

            # Chat through B, then signaling from A to B.
            await b_bob.call("chat-message", {"text": "hello from B"})
            assert await a_ann.call("signal", {"to": bob.user_id, "data": {"sdp": "x"}}) == {
                "ok": True}
            assert (await b_bob.wait_for("signal")) == {"from": ann.user_id,
                                                        "data": {"sdp": "x"}}

            # A late joiner on node A sees everyone and everything.
            async with Peer(cluster.a.url, carol) as a_carol:
                ack = await a_carol.join()
                assert ids(ack) == {ann.user_id, bob.user_id, carol.user_id}
                assert [m["text"] for m in ack["chat"]] == ["hello from B"]
                [p] = ack["polls"]
                assert p["closed"] and p["options"][1]["votes"] == 1 and p["myVote"] is None
                bob_seen = next(x for x in ack["participants"] if x["id"] == bob.user_id)
                assert bob_seen["handRaised"] is False
            await b_bob.wait_for("participant-left",
                                 lambda d: d["participantId"] == carol.user_id)

    asyncio.run(story())


def test_one_user_on_two_nodes_is_one_participant(cluster: Cluster) -> None:
    api_a = cluster.api(cluster.a)
    ann = api_a.create(name="Ann")
    bob = api_a.join(ann, name="Bob")

    async def story() -> None:
        async with Peer(cluster.a.url, ann) as watcher:
            await watcher.join()
            first, second = Peer(cluster.a.url, bob), Peer(cluster.b.url, bob)
            await first.connect()
            await first.join()
            await second.connect()
            await second.join()
            await first.close()  # Bob still has a window on node B
            await asyncio.sleep(0.5)
            joined = [d for d in watcher.received("participant-joined")
                      if d["participant"]["id"] == bob.user_id]
            assert len(joined) == 1
            assert watcher.received("participant-left") == []
            await second.close()
            await watcher.wait_for("participant-left", lambda d: d["participantId"] == bob.user_id)
            assert ids(await watcher.join()) == {ann.user_id}

    asyncio.run(story())


def test_a_killed_nodes_participants_leave_after_the_dead_node_timeout(cluster: Cluster) -> None:
    api_a, api_b = cluster.api(cluster.a), cluster.api(cluster.b)
    ann = api_a.create(name="Ann")
    bob = api_b.join(ann, name="Bob")

    async def story() -> None:
        async with Peer(cluster.a.url, ann) as a_ann:
            await a_ann.join()
            b_bob = Peer(cluster.b.url, bob)
            await b_bob.connect()
            await b_bob.join()
            await a_ann.wait_for("participant-joined",
                                 lambda d: d["participant"]["id"] == bob.user_id)
            killed = time.monotonic()
            cluster.b.kill()  # Bob's node vanishes without a word
            await a_ann.wait_for("participant-left", lambda d: d["participantId"] == bob.user_id,
                                 timeout=30)
            assert time.monotonic() - killed < 25
            assert ids(await a_ann.join()) == {ann.user_id}
            await b_bob.sio.shutdown()

    asyncio.run(story())


def test_media_state_and_the_call_connection_span_nodes(cluster: Cluster) -> None:
    """Bob has the meeting open on node A, then on node B: the call follows the newer
    window across nodes (signal, call-moved, media reset), and back when it leaves."""
    api_a = cluster.api(cluster.a)
    ann = api_a.create(name="Ann")
    bob = api_a.join(ann, name="Bob")
    off = {"audio": False, "video": False, "screen": False}

    async def story() -> None:
        async with Peer(cluster.a.url, ann) as a_ann, Peer(cluster.a.url, bob) as a_bob:
            await a_ann.join()
            assert (await a_bob.join())["call"] == {"mode": "mesh", "active": True}
            on = {"audio": True, "video": True, "screen": False}
            assert await a_bob.call("media-state", on) == {"ok": True}
            await a_ann.wait_for("participant-updated",
                                 lambda d: d["participant"]["media"] == on)
            async with Peer(cluster.b.url, bob) as b_bob:
                ack = await b_bob.join()
                assert ack["call"]["active"] is True and ack["self"]["media"] == off
                assert (await a_bob.wait_for("call-moved"))["call"]["active"] is False
                await a_ann.wait_for("participant-updated",
                                     lambda d: d["participant"]["media"] == off)
                assert await a_ann.call("signal", {"to": bob.user_id, "data": {"n": 1}}) == {
                    "ok": True}
                assert await b_bob.wait_for("signal") == {"from": ann.user_id,
                                                          "data": {"n": 1}}
                assert (await a_bob.call("media-state", on))["error"]["code"] == "not_in_call"
                assert await b_bob.call("media-state", on) == {"ok": True}
                await a_ann.wait_for("participant-updated",
                                     lambda d: d["participant"]["media"] == on)
            # B's window closed: the call is back on A's window, across nodes.
            await a_bob.wait_for("call-moved", lambda d: d["call"]["active"])
            assert await a_ann.call("signal", {"to": bob.user_id, "data": {"n": 2}}) == {
                "ok": True}
            assert (await a_bob.wait_for("signal"))["data"] == {"n": 2}
            assert a_bob.received("signal") == [{"from": ann.user_id, "data": {"n": 2}}]

    asyncio.run(story())


def test_a_node_declared_dead_takes_a_new_id_and_its_old_connections_are_swept(
    database_url: str,
) -> None:
    async def story() -> None:
        storage = PostgresStorage(database_url)
        await storage.open()
        await storage.create_session(SessionRecord("s1", "t", "i", "2026-11-25T21:00:00.000Z"))
        a, b = PgMeetingRegistry(storage), PgMeetingRegistry(storage)
        left: list[tuple[str, str]] = []
        evicted: list[str] = []

        async def on_left(sid: str, uid: str) -> None:
            left.append((sid, uid))

        async def on_evicted() -> None:
            evicted.append(a.node_id)

        moved: list[tuple[str, CallMove]] = []

        async def on_moved(sid: str, move: CallMove) -> None:
            moved.append((sid, move))

        a.attach(on_left, on_evicted, on_moved)
        b.attach(on_left, on_evicted, on_moved)
        await a.start()
        await b.start()
        try:
            ann = Identity("u-ann", "s1", "Ann", "host")
            bob = Identity("u-bob", "s1", "Bob", "participant")
            carol = Identity("u-carol", "s1", "Carol", "participant")
            async with a.edit("s1") as meeting:
                meeting.connect(ann, a.connection_key("sock1"))
                meeting.connect(bob, a.connection_key("sock2"))
            async with b.edit("s1") as meeting:
                meeting.connect(bob, b.connection_key("sock3"))  # Bob also on node B
                meeting.connect(carol, b.connection_key("sock4"))
            async with a.edit("s1") as meeting:  # Carol's newer window, on A, has her call
                meeting.connect(carol, a.connection_key("sock5"))
                meeting.set_media("u-carol", a.connection_key("sock5"), Media(audio=True))
            old_id = a.node_id
            # Node A paused for longer than the dead-node timeout ...
            async with storage.connection() as conn:
                await conn.execute("UPDATE cluster_nodes SET seen_at = now() - interval '1 hour' "
                                   "WHERE node_id = %s", (old_id,))
            await b.sweep()  # ... node B removes its connections: Ann left, Bob stays
            assert left == [("s1", "u-ann")]
            # Carol's call moved back to her window on B, her media reset to off.
            assert moved == [("s1", CallMove("u-carol", None, b.connection_key("sock4"), True))]
            async with b.view("s1") as meeting:
                assert set(meeting.participants) == {"u-bob", "u-carol"}
                assert meeting.participants["u-bob"].connections == [b.connection_key("sock3")]
                assert meeting.participants["u-carol"].media == Media()
            await a.beat()  # A wakes up, sees it was declared dead: new id, drop sockets
            assert a.node_id != old_id and evicted == [a.node_id]
            with psycopg.connect(database_url) as sync:
                nodes = {r[0] for r in sync.execute("SELECT node_id FROM cluster_nodes")}
            assert nodes == {a.node_id, b.node_id}
        finally:
            await a.stop()
            await b.stop()
            await storage.close()

    asyncio.run(story())


def test_meeting_document_round_trip() -> None:
    meeting = Meeting("s1")
    ann = Identity("u1", "s1", "Ann", "host")
    meeting.connect(ann, "n/s")
    meeting.connect(ann, "n/t")
    meeting.set_hand("u1", True)
    meeting.set_media("u1", "n/t", Media(audio=True, screen=True))
    poll = meeting.create_poll(ann, "Q?", ["a", "b"])
    meeting.vote(ann, poll.id, 1)
    again = Meeting.from_state("s1", meeting.to_state())
    assert again.to_state() == meeting.to_state()
    assert again.participants["u1"].connections == ["n/s", "n/t"]  # join order: t has the call
    assert again.participants["u1"].media == Media(audio=True, screen=True)
    assert again.polls[poll.id].tally() == [0, 1]


def test_the_join_ack_carries_recent_chat_and_older_chat_comes_page_by_page(
    cluster: Cluster, database_url: str
) -> None:
    api_a, api_b = cluster.api(cluster.a), cluster.api(cluster.b)
    ann = api_a.create(name="Ann")
    bob = api_b.join(ann, name="Bob")
    # A long history, written straight into the shared table (posting it would take
    # minutes under the chat rate limit).
    with psycopg.connect(database_url) as conn:
        for i in range(200):
            conn.execute(
                "INSERT INTO chat_messages (session_id, id, sender_id, sender_name, text, "
                "sent_at) VALUES (%s, %s, %s, 'Ann', %s, '2026-11-25T21:00:00.000Z')",
                (ann.session_id, f"old{i:04d}", ann.user_id, f"m{i}"))

    async def story() -> None:
        async with Peer(cluster.a.url, ann) as a_ann, Peer(cluster.b.url, bob) as b_bob:
            await a_ann.join()
            await b_bob.join()
            for i in range(200, 210):
                peer = a_ann if i % 2 else b_bob
                assert "message" in await peer.call("chat-message", {"text": f"m{i}"})
            ack = await a_ann.join()
            texts = [m["text"] for m in ack["chat"]]
            assert texts == [f"m{i}" for i in range(160, 210)] and ack["chatMore"] is True
            before, more = ack["chat"][0]["id"], True
            while more:  # through the other node
                page = await b_bob.call("chat-history", {"before": before, "limit": 64})
                texts[:0] = [m["text"] for m in page["messages"]]
                before, more = page["messages"][0]["id"], page["more"]
            assert texts == [f"m{i}" for i in range(210)]

    asyncio.run(story())


def test_the_host_on_one_node_ends_the_meeting_for_people_on_the_other(
    cluster: Cluster
) -> None:
    api_a, api_b = cluster.api(cluster.a), cluster.api(cluster.b)
    ann = api_a.create(name="Ann")
    bob = api_b.join(ann, name="Bob")
    api_b.upload_ok(bob, "b.txt", b"bob's")

    async def story() -> None:
        async with Peer(cluster.a.url, ann) as a_ann, Peer(cluster.b.url, bob) as b_bob:
            await a_ann.join()
            await b_bob.join()
            assert await a_ann.call("end-meeting", {}) == {"ok": True}
            ended = await b_bob.wait_for("meeting-ended")
            assert ended["endedBy"]["id"] == ann.user_id
            deadline = time.monotonic() + 10
            while b_bob.sio.connected and time.monotonic() < deadline:  # closed by node B
                await asyncio.sleep(0.05)
            assert not b_bob.sio.connected
        assert list((cluster.data_dir / "files").iterdir()) == []
        r = api_b.listing(bob)
        assert (r.status_code, r.json()["error"]["code"]) == (410, "ended")

    asyncio.run(story())
