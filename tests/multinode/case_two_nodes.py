"""Two ``conference-server`` processes sharing Redis, PostgreSQL and one data folder.

A client may be connected to either node; what happens through the other one
reaches it (Redis carries the room emits), revisions come from one database
(gapless and unique however the writes are spread), and the file bytes from
the shared folder.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.server.support import Peer

from .conftest import Cluster


def test_peer_on_node_a_sees_uploads_and_deletes_made_through_node_b(cluster: Cluster) -> None:
    api_a, api_b = cluster.api(cluster.a), cluster.api(cluster.b)
    ann = api_a.create(name="Ann")
    bob = api_b.join(ann, name="Bob")  # the invite works on the other node: one database

    async def story() -> None:
        async with Peer(cluster.a.url, ann) as on_a, Peer(cluster.b.url, bob) as on_b:
            assert (await on_a.join())["resourceRevision"] == 0
            await on_b.join()
            # Presence is a room emit too: Bob joined on B, Ann's socket on A hears it.
            await on_a.wait_for("participant-joined",
                                lambda d: d["participant"]["id"] == bob.user_id)

            uploaded = await asyncio.to_thread(api_b.upload_ok, bob, "plan.txt", b"the plan")
            event = await on_a.wait_for("resource-uploaded")
            assert event == {"resource": uploaded["resource"], "revision": 1}

            listing = await asyncio.to_thread(api_a.listed, ann)  # read through A
            assert listing["revision"] == 1
            assert [r["id"] for r in listing["resources"]] == [uploaded["resource"]["id"]]
            content = await asyncio.to_thread(api_a.download, ann, uploaded["resource"]["id"])
            assert content.status_code == 200 and content.content == b"the plan"  # shared folder

            deleted = await asyncio.to_thread(api_b.delete, bob, uploaded["resource"]["id"])
            assert deleted.status_code == 200 and deleted.json() == {"revision": 2}
            event = await on_a.wait_for("resource-deleted")
            assert event == {"resourceId": uploaded["resource"]["id"], "revision": 2,
                             "deletedBy": {"id": bob.user_id, "name": "Bob"}}
            assert (await asyncio.to_thread(api_a.listed, ann)) == {"revision": 2, "resources": []}
            # Each socket got each event once: Redis delivers to every node, once.
            assert len(on_a.received("resource-uploaded")) == 1
            assert len(on_b.received("resource-uploaded")) == 1

    asyncio.run(story())


def test_concurrent_uploads_through_both_nodes_get_gapless_unique_revisions(
    cluster: Cluster,
) -> None:
    per_node, workers = 25, 8
    api_a, api_b = cluster.api(cluster.a), cluster.api(cluster.b)
    ann = api_a.create(name="Ann")
    bob = api_b.join(ann, name="Bob")
    # Four people, so that no one sends more than the 4 uploads one person may at once.
    senders = [(api_a, ann), (api_b, bob), (api_a, api_a.join(ann, name="Carol")),
               (api_b, api_b.join(ann, name="Dan"))]

    def upload(job: tuple[int, Any, Any]) -> int:
        i, api, who = job
        body = api.upload_ok(who, f"file-{i}.txt", f"bytes of {i}".encode())
        return int(body["revision"])

    async def story() -> list[int]:
        async with Peer(cluster.a.url, ann) as on_a, Peer(cluster.b.url, bob) as on_b:
            await on_a.join()
            await on_b.join()
            jobs = [(i, *senders[i % 4]) for i in range(2 * per_node)]
            with ThreadPoolExecutor(workers) as pool:
                revisions = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: list(pool.map(upload, jobs)))
            total = 2 * per_node
            for peer in (on_a, on_b):
                await peer.wait_for("resource-uploaded", lambda d: d["revision"] == total)
                seen = [d["revision"] for d in peer.received("resource-uploaded")]
                # Commit and publish happen under one per-session lock across nodes
                # (Storage.ordered), so events even arrive in order: no refetch needed.
                assert seen == list(range(1, total + 1)), seen
            return revisions

    revisions = asyncio.run(story())
    assert sorted(revisions) == list(range(1, 2 * per_node + 1))  # gapless and unique
    listing = api_b.listed(bob)
    assert listing["revision"] == 2 * per_node
    assert len(listing["resources"]) == 2 * per_node
    # Deletes interleaved with uploads through both nodes keep counting by one.
    ids = [r["id"] for r in listing["resources"][:10]]
    with ThreadPoolExecutor(workers) as pool:
        answers = list(pool.map(
            lambda p: (api_a if p[0] % 2 else api_b).delete(ann, p[1]).json()["revision"],
            enumerate(ids)))
    assert sorted(answers) == list(range(2 * per_node + 1, 2 * per_node + 11))
    assert api_a.listed(ann)["revision"] == 2 * per_node + 10


def test_the_same_delete_through_both_nodes_counts_once(cluster: Cluster) -> None:
    api_a, api_b = cluster.api(cluster.a), cluster.api(cluster.b)
    ann = api_a.create(name="Ann")
    rid = api_a.upload_ok(ann, "once.txt")["resource"]["id"]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda api: api.delete(ann, rid), [api_a, api_b]))
    assert sorted(a.status_code for a in answers) == [200, 404]
    assert api_b.listed(ann)["revision"] == 2


def test_health_and_connection_counts_are_per_node(cluster: Cluster) -> None:
    ann = cluster.api(cluster.a).create(name="Ann")

    async def story() -> None:
        async with Peer(cluster.a.url, ann) as peer:
            await peer.join()
            counts = [
                requests.get(f"{n.url}/api/_test/connections",
                             params={"sessionId": ann.session_id}, timeout=10).json()["count"]
                for n in (cluster.a, cluster.b)
            ]
            assert counts == [1, 0]

    asyncio.run(story())
    for node in cluster.nodes:
        assert requests.get(f"{node.url}/api/health", timeout=10).json() == {"ok": True}
