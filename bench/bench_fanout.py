"""Server fan-out: one upload, N = 21 and 200 socket clients in another process.

    .venv/bin/python -m bench.bench_fanout [--clients 21 200] [--uploads 50]

Three processes: the bench server (real app), ``bench/_clients.py`` with N
bare python-socketio clients joined to the session, and this one, which
uploads a small file over real HTTP (``POST …/resources``, multipart) every
``interval``. Sample = the time a client's ``resource-uploaded`` handler ran
minus the moment this process started the request; one sample per client per
upload. Also reported: the server's own share (its emit time minus request
start), the last client per upload, and whether every client got every event
exactly once. ``--client-procs K`` spreads the clients over K processes (to
see how much of the time is the receiving side's).

Target: p99 ≤ 10 ms at both N; no client misses an event.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from bench._common import bench_server, create_meeting, header, percentile, summary_ms, verdict
from bench._gui import BareClients


@dataclass
class FanoutSamples:
    """One fan-out run: seconds, one sample per client per upload (``lat``, ``after_emit``)
    or per upload (``server_part``, ``last``)."""

    lat: list[float]  # request start -> client handler
    after_emit: list[float]  # server's emit -> client handler
    server_part: list[float]  # request start -> server's emit
    last: list[float]  # request start -> the last client
    complete: bool  # every client got every event exactly once


def measure(
    url: str, emits_of: Callable[[str], list[tuple[int, float]]], n: int, uploads: int,
    interval: float, procs: int = 1,
) -> FanoutSamples:
    """Join ``n`` bare clients to a new meeting on ``url``, upload ``uploads`` small files
    ``interval`` apart, and return the samples. ``emits_of(session id)`` answers the
    server's ``[(revision, emit time)]`` (``GET /bench/emits``)."""
    host, invite = create_meeting(url)
    shares = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    crowds = [
        BareClients(url, host.session_id, invite, k, uploads, timeout=uploads + 120)
        for k in shares
    ]
    started: dict[int, float] = {}
    upload_url = f"{url}/api/sessions/{host.session_id}/resources"
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {host.token}"
        time.sleep(0.5)
        for i in range(uploads):
            t0 = time.perf_counter()
            r = http.post(upload_url, files={"file": (f"f{i}.txt", b"hello fan-out")}, timeout=30)
            r.raise_for_status()
            started[r.json()["revision"]] = t0
            time.sleep(interval)
    received = [events for crowd in crowds for events in crowd.results()]
    emits = dict((r, t) for r, t in emits_of(host.session_id))
    return FanoutSamples(
        lat=[t - started[rev] for events in received for rev, t in events if rev in started],
        after_emit=[t - emits[rev] for events in received for rev, t in events if rev in emits],
        server_part=[emits[rev] - t0 for rev, t0 in started.items()],
        last=[
            max(t for events in received for rv, t in events if rv == rev) - started[rev]
            for rev in started
        ],
        complete=all(
            sorted(r for r, _ in events) == sorted(started) and len(events) == len(started)
            for events in received
        ),
    )


def run(n: int, uploads: int, interval: float, procs: int) -> None:
    with bench_server() as srv:
        s = measure(srv.url, lambda sid: srv.get("/bench/emits", sessionId=sid), n, uploads,
                    interval, procs)
    p99 = percentile(s.lat, 99) * 1000
    print(
        f"   N={n:<4} ({procs} client process{'es' if procs > 1 else ''}) "
        f"request→client {summary_ms(s.lat)}"
    )
    print(f"          request→server emit {summary_ms(s.server_part)}")
    print(f"          request→last client {summary_ms(s.last)}")
    print(
        f"          every client got every event once: {verdict(s.complete)} · "
        f"target p99 ≤ 10 ms: {verdict(p99 <= 10)} "
        f"(median {statistics.median(s.lat) * 1000:.2f} ms)",
        flush=True,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, nargs="+", default=[21, 200])
    p.add_argument("--uploads", type=int, default=50)
    p.add_argument("--interval-ms", type=float, default=100.0)
    p.add_argument(
        "--client-procs", type=int, default=1, help="spread the clients over this many processes"
    )
    args = p.parse_args()
    header(
        f"server fan-out, {args.uploads} uploads every {args.interval_ms} ms, "
        "clients in a separate process"
    )
    for n in args.clients:
        run(n, args.uploads, args.interval_ms / 1000.0, args.client_procs)


if __name__ == "__main__":
    main()
