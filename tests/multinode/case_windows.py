"""Real desktop windows against two nodes: cross-node events, a node killed, a message lost.

The window is the real client (``create_window``: one SocketService, the
ResourceLedger's revision rule, the Resources dock and badge). The window
connects either to node A directly or through a small TCP balancer that, like
a load balancer with sticky sessions, pins each connection to the first live
node.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests

from tests.conftest import Loop, Meeting, until
from tests.gui.test_resources_story import badge, connected, listed_names
from tests.server.support import Member, Peer

from .conftest import Cluster, ClusterFactory
from .netproxy import Balancer, RedisDropProxy

T = TypeVar("T")

WAIT = 20.0
#: Blocking calls (REST) from the qasync loop run here: plain Python threads, not
#: the loop's default executor (QThreads owned by a loop that each test closes).
_POOL = ThreadPoolExecutor(4, thread_name_prefix="multinode-rest")


def off_loop(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    return asyncio.get_running_loop().run_in_executor(_POOL, functools.partial(fn, *args))


def member_of(meeting: Meeting, who: Any) -> Member:
    return Member(meeting.session_id, who.user_id, who.token, who.name, meeting.invite)


def connections(url: str, session_id: str) -> int:
    r = requests.get(f"{url}/api/_test/connections", params={"sessionId": session_id}, timeout=10)
    return int(r.json()["count"])


def test_window_on_node_a_follows_uploads_and_deletes_through_node_b(
    aloop: Loop, cluster: Cluster, windows: Callable[..., Any]
) -> None:
    meeting = Meeting(cluster.a.url, title="Two nodes")
    ann = windows(meeting, meeting.host)  # Ann's window talks to node A only
    bob = member_of(meeting, meeting.join("Bob"))
    api_b = cluster.api(cluster.b)

    async def story() -> None:
        await until(lambda: connected(ann), WAIT, "window connected to node A")
        assert badge(ann) == 0
        first = await off_loop(api_b.upload_ok, bob, "minutes.txt", b"m")
        await off_loop(api_b.upload_ok, bob, "slides.pdf", b"%PDF")
        await until(lambda: badge(ann) == 2, WAIT, "badge at 2")
        assert sorted(listed_names(ann)) == ["minutes.txt", "slides.pdf"]
        fetches = ann.features["resources"].controller.fetch_count

        r = await off_loop(api_b.delete, bob, first["resource"]["id"])
        assert r.status_code == 200
        await until(lambda: badge(ann) == 1, WAIT, "badge at 1")
        assert listed_names(ann) == ["slides.pdf"]
        # Events arrived in order: applied one by one, no refetch.
        assert ann.features["resources"].controller.fetch_count == fetches
        assert ann.features["resources"].model.ledger.revision == 3

    aloop.run(story(), timeout=60)


def test_killed_node_clients_reconnect_to_the_other_and_converge(
    aloop: Loop, cluster: Cluster, windows: Callable[..., Any],
    balancer_factory: Callable[[list[int]], Balancer],
) -> None:
    balancer = balancer_factory([cluster.a.port, cluster.b.port])
    meeting = Meeting(balancer.url, title="Failover")
    ann = windows(meeting, meeting.host)
    bob = member_of(meeting, meeting.join("Bob"))
    host = member_of(meeting, meeting.host)
    api_b = cluster.api(cluster.b)

    async def story() -> None:
        # A second, raw client through the balancer that reconnects by itself.
        peer = Peer(balancer.url, host, reconnection=True, reconnection_delay=0.1)
        await peer.connect()
        await peer.join()
        try:
            await until(lambda: connected(ann), WAIT, "window connected")
            assert connections(cluster.a.url, meeting.session_id) == 2  # both pinned to A
            keep = await off_loop(api_b.upload_ok, bob, "before.txt", b"1")
            await until(lambda: badge(ann) == 1, WAIT, "badge at 1 before the crash")

            cluster.a.kill()  # SIGKILL: no goodbye to clients, Redis or PostgreSQL
            # Changes while the clients are away: nobody on B hears them.
            gone = await off_loop(api_b.upload_ok, bob, "during-1.txt", b"2")
            await off_loop(api_b.upload_ok, bob, "during-2.txt", b"3")
            assert (await off_loop(api_b.delete, bob, gone["resource"]["id"])
                    ).status_code == 200

            await until(lambda: connections(cluster.b.url, meeting.session_id) == 2, WAIT,
                        "both clients reconnected to node B")
            # The window compares the join ack's revision with its own and refetches.
            await until(lambda: badge(ann) == 2, WAIT, "window converged")
            assert sorted(listed_names(ann)) == ["before.txt", "during-2.txt"]
            assert ann.features["resources"].model.ledger.revision == 4

            # The raw client rejoins on B and gets the same revision.
            await until(lambda: peer.sio.connected, WAIT, "peer reconnected")
            assert (await peer.join())["resourceRevision"] == 4
            # Life goes on through node B: new events reach both.
            await off_loop(api_b.delete, bob, keep["resource"]["id"])
            await until(lambda: badge(ann) == 1, WAIT, "badge follows after failover")
            await peer.wait_for("resource-deleted", lambda d: d["revision"] == 5)
            assert balancer.routed[-1] == cluster.b.port
        finally:
            await peer.close()

    aloop.run(story(), timeout=90)


def test_one_dropped_inter_node_message_is_healed_by_the_revision_rule(
    aloop: Loop, make_cluster: ClusterFactory, redis_drop_proxy: RedisDropProxy,
    windows: Callable[..., Any],
) -> None:
    # Node A reaches Redis through a proxy that can lose one pub/sub message.
    cluster = make_cluster(redis_urls=[redis_drop_proxy.url, None])
    assert cluster.b.url != cluster.a.url
    meeting = Meeting(cluster.a.url, title="Lossy")
    ann = windows(meeting, meeting.host)
    bob = member_of(meeting, meeting.join("Bob"))
    api_b = cluster.api(cluster.b)

    async def story() -> None:
        async with Peer(cluster.b.url, bob) as on_b:
            await on_b.join()
            await until(lambda: connected(ann), WAIT, "window connected to node A")
            fetches = ann.features["resources"].controller.fetch_count

            redis_drop_proxy.drop_next(b"resource-uploaded")
            await off_loop(api_b.upload_ok, bob, "lost-event.txt", b"1")
            await on_b.wait_for("resource-uploaded")  # B's own clients got it ...
            await until(lambda: redis_drop_proxy.dropped, WAIT, "the message to A dropped")
            await asyncio.sleep(0.5)
            assert badge(ann) == 0  # ... A's never will: at-most-once
            assert ann.features["resources"].model.ledger.revision == 0

            # The next change arrives as revision 2 where 1 was expected: a gap,
            # so the window refetches and has both files.
            await off_loop(api_b.upload_ok, bob, "next.txt", b"2")
            await until(lambda: badge(ann) == 2, WAIT, "healed by refetch")
            assert sorted(listed_names(ann)) == ["lost-event.txt", "next.txt"]
            assert ann.features["resources"].model.ledger.revision == 2
            assert ann.features["resources"].controller.fetch_count == fetches + 1
            assert len(redis_drop_proxy.dropped) == 1

    aloop.run(story(), timeout=60)
