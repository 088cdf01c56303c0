"""Fan-out of resource events: one node (SQLite) vs two nodes (Redis + PostgreSQL).

N real Socket.IO clients (websocket) join one session, spread evenly over the
nodes; uploads go through node A; every client records when its
``resource-uploaded`` arrives. Reported per setup:

- latency from "upload sent" to "event received", per client and event
  (p50 / p95 / max), split by the node the client is on;
- a burst: B uploads fired at once, time until every client has every event,
  and deliveries per second.

    .venv/bin/python -m bench.scaling_fanout [--clients 200] [--uploads 20] [--burst 20]

Starts its own Redis and PostgreSQL (tests/multinode/services.py; needs
redis-server and PostgreSQL installed, see .ci/services.sh) unless
``--redis-url`` and ``--database-url`` are given. All clients run in this one
process, so with many clients the client side, not the server, may be what
is measured; the numbers are for comparing setups on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from tests.multinode.services import Node, start_postgres, start_redis

NS = "/video"


@dataclass
class Client:
    node: str
    sio: socketio.AsyncClient
    arrivals: dict[int, float] = field(default_factory=dict)


async def connect_clients(
    urls: list[tuple[str, str]], session: dict[str, Any], count: int, http: aiohttp.ClientSession
) -> list[Client]:
    sid = session["session"]["id"]
    clients: list[Client] = []

    async def one(i: int) -> None:
        name, url = urls[i % len(urls)]
        async with http.post(
            f"{url}/api/sessions/{sid}/join", json={"name": f"c{i}", "invite": session["invite"]}
        ) as r:
            token = (await r.json())["token"]
        client = Client(name, socketio.AsyncClient(reconnection=False))

        async def on_uploaded(data: dict[str, Any]) -> None:
            client.arrivals[int(data["revision"])] = time.perf_counter()

        client.sio.on("resource-uploaded", on_uploaded, namespace=NS)
        await client.sio.connect(
            url, auth={"token": token}, namespaces=[NS], transports=["websocket"], wait_timeout=30
        )
        ack = await client.sio.call("join-session", {"sessionId": sid}, namespace=NS, timeout=30)
        assert "error" not in ack, ack
        clients.append(client)

    semaphore = asyncio.Semaphore(50)

    async def limited(i: int) -> None:
        async with semaphore:
            await one(i)

    await asyncio.gather(*(limited(i) for i in range(count)))
    return clients


async def upload(http: aiohttp.ClientSession, url: str, sid: str, token: str, i: int) -> int:
    form = aiohttp.FormData()
    form.add_field("file", f"payload {i}".encode(), filename=f"f{i}.txt", content_type="text/plain")
    async with http.post(
        f"{url}/api/sessions/{sid}/resources",
        data=form,
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        assert r.status == 201, await r.text()
        return int((await r.json())["revision"])


async def wait_all(clients: list[Client], revisions: set[int], timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while any(not revisions <= c.arrivals.keys() for c in clients):
        if time.perf_counter() > deadline:
            missing = sum(len(revisions - c.arrivals.keys()) for c in clients)
            raise TimeoutError(f"{missing} deliveries missing")
        await asyncio.sleep(0.005)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(
    label: str, nodes: list[Node], clients_n: int, uploads: int, burst: int
) -> dict[str, Any]:
    urls = [(n.name, n.url) for n in nodes]
    a = nodes[0].url
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{a}/api/sessions", json={"title": "bench", "name": "Host"}) as r:
            session = await r.json()
        sid, token = session["session"]["id"], session["token"]
        clients = await connect_clients(urls, session, clients_n, http)
        try:
            # Sequential uploads: latency of each delivery.
            latencies: dict[str, list[float]] = {name: [] for name, _ in urls}
            for i in range(uploads):
                sent = time.perf_counter()
                revision = await upload(http, a, sid, token, i)
                await wait_all(clients, {revision})
                for c in clients:
                    latencies[c.node].append((c.arrivals[revision] - sent) * 1000)
            # Burst: many uploads at once.
            started = time.perf_counter()
            revisions = await asyncio.gather(
                *(upload(http, a, sid, token, uploads + i) for i in range(burst))
            )
            await wait_all(clients, set(revisions))
            burst_s = time.perf_counter() - started
        finally:
            await asyncio.gather(*(c.sio.disconnect() for c in clients), return_exceptions=True)
    everything = [v for values in latencies.values() for v in values]
    return {
        "setup": label,
        "clients": clients_n,
        "per_node": {
            name: {"p50": statistics.median(v), "p95": pct(v, 0.95), "max": max(v)}
            for name, v in latencies.items()
        },
        "p50": statistics.median(everything),
        "p95": pct(everything, 0.95),
        "max": max(everything),
        "burst_s": burst_s,
        "burst_deliveries_per_s": clients_n * burst / burst_s,
    }


@contextlib.contextmanager
def started_nodes(
    count: int, folder: Path, redis_url: str | None, database_url: str | None
) -> Iterator[list[Node]]:
    nodes: list[Node] = []
    try:
        for i in range(count):
            nodes.append(
                Node(
                    chr(ord("a") + i),
                    folder / "data",
                    folder / "logs",
                    redis_url=redis_url,
                    database_url=database_url,
                )
            )
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--redis-url")
    parser.add_argument("--database-url")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="conference-fanout-"))
    results = []
    with contextlib.ExitStack() as stack:
        redis_url, database_url = args.redis_url, args.database_url
        if not (redis_url and database_url):
            redis = start_redis(folder / "redis")
            stack.callback(redis.stop)
            postgres = start_postgres()
            stack.callback(postgres.stop)
            redis_url, database_url = redis.url, postgres.create_database("fanout")
        with started_nodes(1, folder / "one", None, None) as nodes:
            results.append(
                asyncio.run(
                    measure(
                        "1 node, SQLite, no Redis", nodes, args.clients, args.uploads, args.burst
                    )
                )
            )
        with started_nodes(2, folder / "two", redis_url, database_url) as nodes:
            results.append(
                asyncio.run(
                    measure(
                        "2 nodes, Redis + PostgreSQL", nodes, args.clients, args.uploads, args.burst
                    )
                )
            )

    print(f"\n{args.clients} clients, {args.uploads} sequential uploads, burst of {args.burst}\n")
    print("| setup | clients on | p50 ms | p95 ms | max ms |")
    print("| --- | --- | ---: | ---: | ---: |")
    for r in results:
        for name, s in r["per_node"].items():
            print(
                f"| {r['setup']} | node {name} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} |"
            )
    print("\n| setup | burst: all events at all clients | deliveries/s |")
    print("| --- | ---: | ---: |")
    for r in results:
        print(
            f"| {r['setup']} | {r['burst_s'] * 1000:.0f} ms | {r['burst_deliveries_per_s']:.0f} |"
        )


if __name__ == "__main__":
    main()
