"""Fan-out side by side: the reference server vs a minimal Express + Socket.IO 4 server.

    .venv/bin/python -m bench.bench_fanout_node --install        # once, with the registry
    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m bench.bench_fanout_node'

The same harness as ``bench_fanout.py`` (``bench/_clients.py``: N bare
python-socketio clients in a process of their own, websocket only; this
process uploads a small file over real HTTP every ``interval``) against two
servers in one run: the reference server (``bench/_server.py``, the unchanged
app as ``conference-server`` runs it) and ``bench/node_broadcaster.js`` (Express
5, Socket.IO 4, multer; see its header for what it does and leaves out). Each
round runs both servers at every N, the order alternating between rounds, so
both see the same machine load. Samples: request start → a client's handler
(one per client per upload), and the server's own emit → the client.

Reported per N and round: p50 / p99 / worst of both and the ratio ours / Node;
at the end the median ratio over the rounds. ``--install`` runs ``npm install
--prefix`` into ``$CONFERENCE_GUI_BENCH_NODE`` (default
``/opt/conference-gui-bench-node``), outside the repo; the measurement itself
needs no network beyond loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from bench._common import ROOT, bench_server, header, percentile, stop_server
from bench.bench_fanout import FanoutSamples, measure

NODE_PREFIX = Path(os.environ.get("CONFERENCE_GUI_BENCH_NODE", "/opt/conference-gui-bench-node"))
NODE_PACKAGES = ["express@5", "socket.io@4", "multer@2"]
SCRIPT = ROOT / "bench" / "node_broadcaster.js"


def install() -> None:
    NODE_PREFIX.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(NODE_PREFIX), "--no-audit", "--no-fund",
         "--no-update-notifier", *NODE_PACKAGES],
        check=True,
    )  # fmt: skip


def installed() -> bool:
    return all(
        (NODE_PREFIX / "node_modules" / name / "package.json").is_file()
        for name in ("express", "socket.io", "multer")
    )


@dataclass
class NodeServer:
    url: str

    def emits(self, session_id: str) -> list[tuple[int, float]]:
        r = requests.get(f"{self.url}/bench/emits", params={"sessionId": session_id}, timeout=30)
        r.raise_for_status()
        return [(int(rev), float(t)) for rev, t in r.json()]


@contextlib.contextmanager
def node_server() -> Iterator[NodeServer]:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-node-"))
    env = {**os.environ, "NODE_PATH": str(NODE_PREFIX / "node_modules"),
           "NODE_ENV": "production"}
    proc = subprocess.Popen(
        ["node", str(SCRIPT), "--data-dir", str(data_dir)], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"node server did not start: {line!r}")
        server = NodeServer(line.removeprefix("listening on "))
        # Both servers' times are CLOCK_MONOTONIC; check before subtracting them.
        before = time.perf_counter()
        theirs = requests.get(f"{server.url}/bench/clock", timeout=10).json()["now"]
        after = time.perf_counter()
        if not before - 0.001 <= theirs <= after + 0.001:
            raise RuntimeError(f"node's clock {theirs} is not perf_counter's ({before}..{after})")
        yield server
    finally:
        stop_server(proc, data_dir)


def ours(n: int, uploads: int, interval: float, procs: int) -> FanoutSamples:
    with bench_server() as srv:
        return measure(srv.url, lambda sid: srv.get("/bench/emits", sessionId=sid), n, uploads,
                       interval, procs)


def theirs(n: int, uploads: int, interval: float, procs: int) -> FanoutSamples:
    with node_server() as srv:
        return measure(srv.url, srv.emits, n, uploads, interval, procs)


def figures(values: list[float]) -> tuple[float, float, float]:
    """(p50, p99, worst) in milliseconds."""
    ms = [v * 1000.0 for v in values]
    return statistics.median(ms), percentile(ms, 99), max(ms)


def line(label: str, s: FanoutSamples) -> str:
    p50, p99, worst = figures(s.lat)
    e50, e99, eworst = figures(s.after_emit)
    r50, _r99, _ = figures(s.server_part)
    ok = "every client got every event once" if s.complete else "EVENTS MISSING OR DOUBLED"
    return (
        f"{label:<6} request→client p50 {p50:6.2f}  p99 {p99:6.2f}  worst {worst:6.2f} ms · "
        f"emit→client p50 {e50:6.2f}  p99 {e99:6.2f}  worst {eworst:6.2f} · "
        f"request→emit p50 {r50:5.2f} · {ok}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, nargs="+", default=[21, 200])
    p.add_argument("--uploads", type=int, default=50)
    p.add_argument("--interval-ms", type=float, default=100.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--client-procs", type=int, default=1)
    p.add_argument("--install", action="store_true",
                   help=f"npm install {' '.join(NODE_PACKAGES)} into {NODE_PREFIX} and exit")
    args = p.parse_args()
    if args.install:
        install()
        return
    if not installed():
        raise SystemExit(f"Node packages missing in {NODE_PREFIX}: run "
                         "`.venv/bin/python -m bench.bench_fanout_node --install` first "
                         "(outside the network namespace)")
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    header(
        f"fan-out, ours vs Node {node_version.strip()} + Socket.IO 4: {args.uploads} uploads "
        f"every {args.interval_ms:g} ms, {args.rounds} rounds, clients in "
        f"{args.client_procs} separate process(es)"
    )
    interval = args.interval_ms / 1000.0
    # ratios[n] = [(p50 ratio, p99 ratio, worst ratio), ...] one per round
    ratios: dict[int, list[tuple[float, float, float]]] = {n: [] for n in args.clients}
    for rnd in range(args.rounds):
        for n in args.clients:
            order = [("ours", ours), ("node", theirs)]
            if rnd % 2:
                order.reverse()
            got: dict[str, FanoutSamples] = {}
            for label, fn in order:
                got[label] = fn(n, args.uploads, interval, args.client_procs)
            load = os.getloadavg()[0]
            print(f"-- round {rnd + 1}, N={n} (load {load:.2f})")
            for label in ("ours", "node"):
                print("   " + line(label, got[label]))
            a, b = figures(got["ours"].lat), figures(got["node"].lat)
            r = (a[0] / b[0], a[1] / b[1], a[2] / b[2])
            ratios[n].append(r)
            print(f"   ratio ours/node: p50 {r[0]:.2f}×  p99 {r[1]:.2f}×  worst {r[2]:.2f}×",
                  flush=True)
    print("== median ratio ours/node over the rounds (request→client)")
    for n, rs in ratios.items():
        med = [statistics.median(x[i] for x in rs) for i in range(3)]
        spread = [f"{min(x[i] for x in rs):.2f}–{max(x[i] for x in rs):.2f}" for i in range(3)]
        print(f"   N={n:<4} p50 {med[0]:.2f}× ({spread[0]})  p99 {med[1]:.2f}× ({spread[1]})  "
              f"worst {med[2]:.2f}× ({spread[2]})")


if __name__ == "__main__":
    main()
