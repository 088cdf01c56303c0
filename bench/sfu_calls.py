"""Mesh against SFU, in one run: per-client CPU and uplink of a 4-person call each way,
the longest freeze of anyone's video across a switch (mesh -> SFU and back), and
Janus's CPU and memory per participant.

Every participant is the real app (``bench/_sfu_client.py``: a meeting window,
offscreen, fake 640x480@30 camera and tone) in a process of its own, so its CPU
is its own. Two servers (``conference-server`` processes): one without a media
server (every call a mesh), one with ``--janus-url`` to a Janus started here.

Network rule: run it in a network namespace of its own, where it adds a veth
pair (10.201.0.1/24, 10.201.0.2/24) for Janus (libnice never uses loopback)::

    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m bench.sfu_calls'
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._common import PYTHON, ROOT, conditions, create_meeting, join_meeting
from tests.sfu.janus_proc import JanusProcess, start_janus

ADDRESS = "10.201.0.1"
CLOCK = os.sysconf("SC_CLK_TCK")


def private_network() -> None:
    names = sorted(name for _, name in socket.if_nameindex())
    if "sfu0" in names:
        return
    if names != ["lo"]:
        sys.exit("run me in a network namespace of my own: "
                 "unshare -n sh -c 'ip link set lo up; python -m bench.sfu_calls'")
    for cmd in ("ip link add sfu0 type veth peer name sfu0p",
                f"ip addr add {ADDRESS}/24 dev sfu0", "ip addr add 10.201.0.2/24 dev sfu0p",
                "ip link set sfu0 up", "ip link set sfu0p up"):
        subprocess.run(cmd.split(), check=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    def __init__(self, folder: Path, janus: JanusProcess | None) -> None:
        argv = [PYTHON, "-m", "conference_gui.server", "--host", "127.0.0.1", "--port", "0",
                "--data-dir", str(folder)]
        if janus is not None:
            argv += ["--janus-url", janus.url]
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.match(r"listening on (\S+)", line)
        if not match:
            raise RuntimeError(f"server did not start: {line!r}")
        self.url = match.group(1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


class Client:
    """One ``bench._sfu_client`` process and its reports."""

    #: ``--logs DIR``: each client's log goes to DIR/<name>-<n>.log.
    log_dir: Path | None = None
    _made = 0

    def __init__(self, url: str, member: Any) -> None:
        self.name = member.name
        self.user_id = member.user_id
        env, stderr = None, subprocess.DEVNULL
        if Client.log_dir is not None:
            Client._made += 1
            env = {**os.environ, "BENCH_SFU_LOG": "1"}
            stderr = (Client.log_dir / f"{member.name}-{Client._made}.log").open("w")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "bench._sfu_client", url, member.session_id, member.user_id,
             member.token, member.name],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=stderr, text=True, env=env)
        self.reports: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self.reports.append(json.loads(line))

    @property
    def last(self) -> dict[str, Any]:
        return self.reports[-1] if self.reports else {}

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


def seeing(clients: list[Client], mode: str) -> bool:
    """Everyone in ``mode``, pictures from everyone arriving, nothing left of the other mode."""
    ids = {c.user_id for c in clients}
    for c in clients:
        last = c.last
        if last.get("mode") != mode or set(last.get("frames", {})) < ids - {c.user_id}:
            return False
        if any(n < 30 for pid, n in last["frames"].items() if pid in ids):
            return False
        if mode == "sfu" and (not last.get("publishing") or last.get("mesh")):
            return False
    return True


@contextlib.contextmanager
def call(url: str, people: int, title: str) -> Iterator[list[Client]]:
    host, invite = create_meeting(url, title, "P1")
    members = [host] + [join_meeting(url, host.session_id, invite, f"P{i}")
                        for i in range(2, people + 1)]
    clients: list[Client] = []
    try:
        for m in members:
            clients.append(Client(url, m))
        yield clients
    finally:
        for c in clients:
            c.stop()


def measure(clients: list[Client], seconds: float, janus: JanusProcess | None) -> dict[str, Any]:
    pids = [c.proc.pid for c in clients]
    start_cpu = [cpu_seconds(p) for p in pids]
    janus_start = cpu_seconds(janus.pid) if janus and janus.pid else 0.0
    start, first = time.monotonic(), [len(c.reports) for c in clients]
    time.sleep(seconds)
    wall = time.monotonic() - start
    cpu = [(cpu_seconds(p) - s) / wall * 100 for p, s in zip(pids, start_cpu, strict=True)]
    uplink = [statistics.mean(r["uplink_bps"] for r in c.reports[n:] if r["uplink_bps"])
              / 1000 for c, n in zip(clients, first, strict=True)]
    # Pictures painted per second, per tile of another participant (median per client).
    fps = []
    for c, n in zip(clients, first, strict=True):
        begin, end = c.reports[max(n - 1, 0)], c.reports[-1]
        span = end["t"] - begin["t"]
        rates = [(end["frames"][pid] - begin["frames"].get(pid, 0)) / span
                 for pid in end["frames"] if span > 0]
        fps.append(statistics.median(rates) if rates else 0.0)
    result: dict[str, Any] = {"cpu_percent": cpu, "uplink_kbps": uplink, "fps_in": fps}
    if janus is not None and janus.pid:
        result["janus_cpu_percent"] = (cpu_seconds(janus.pid) - janus_start) / wall * 100
        result["janus_rss_mb"] = rss_mb(janus.pid)
    return result


def switch_once(url: str) -> tuple[float, float]:
    """Two in a mesh, a third joins (mesh -> SFU), the third leaves (SFU -> mesh):
    the longest freeze of the first two's pictures of each other, each way."""
    host, invite = create_meeting(url, "Switch", "P1")
    second = join_meeting(url, host.session_id, invite, "P2")
    third = join_meeting(url, host.session_id, invite, "P3")
    pair = [Client(url, host), Client(url, second)]
    try:
        wait(lambda: seeing(pair, "mesh"), 60, "two in a mesh")
        time.sleep(2)
        marks = [len(c.reports) for c in pair]
        newcomer = Client(url, third)
        try:
            wait(lambda: seeing([*pair, newcomer], "sfu"), 60, "three on the SFU")
            time.sleep(3)
            to_sfu = max(r["gap"].get(other.user_id, 0.0)
                         for c, other, n in ((pair[0], pair[1], marks[0]),
                                             (pair[1], pair[0], marks[1]))
                         for r in c.reports[n:])
        finally:
            newcomer.stop()
        marks = [len(c.reports) for c in pair]
        wait(lambda: seeing(pair, "mesh") and all(
            not c.last.get("publishing") for c in pair), 60, "back to a mesh")
        time.sleep(3)
        to_mesh = max(r["gap"].get(other.user_id, 0.0)
                      for c, other, n in ((pair[0], pair[1], marks[0]),
                                          (pair[1], pair[0], marks[1]))
                      for r in c.reports[n:])
        return to_sfu, to_mesh
    finally:
        for c in pair:
            c.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--switches", type=int, default=3)
    parser.add_argument("--only-switch", action="store_true",
                        help="measure only the switches (no 4-person calls)")
    parser.add_argument("--logs", type=Path, default=None,
                        help="write each client's engine log (INFO) into this folder")
    args = parser.parse_args()
    if args.logs is not None:
        args.logs.mkdir(parents=True, exist_ok=True)
        Client.log_dir = args.logs
    private_network()
    folder = Path(tempfile.mkdtemp(prefix="bench-sfu-"))
    janus = start_janus(folder / "janus", ADDRESS)
    mesh_server = Server(folder / "mesh", None)
    sfu_server = Server(folder / "sfu", janus)
    print(f"# mesh against SFU, {args.people} people, 640x480@30 fake cameras; {conditions()}")
    try:
        janus_idle = rss_mb(janus.pid) if janus.pid else 0.0
        if args.only_switch:
            switches = [switch_once(sfu_server.url) for _ in range(args.switches)]
            for s_, m_ in switches:
                print(f"longest freeze: mesh -> SFU {s_:.3f} s, SFU -> mesh {m_:.3f} s")
            return
        with call(mesh_server.url, args.people, "Mesh") as clients:
            wait(lambda: seeing(clients, "mesh"), 120, "everyone in the mesh")
            time.sleep(5)
            mesh = measure(clients, args.seconds, None)
        with call(sfu_server.url, args.people, "SFU") as clients:
            wait(lambda: seeing(clients, "sfu"), 120, "everyone on the SFU")
            time.sleep(5)
            sfu = measure(clients, args.seconds, janus)
        switches = [switch_once(sfu_server.url) for _ in range(args.switches)]
    finally:
        sfu_server.stop()
        mesh_server.stop()
        janus.stop()
    for name, m in (("mesh", mesh), ("sfu", sfu)):
        print(f"{name}: per-client CPU % of one core {[round(c) for c in m['cpu_percent']]} "
              f"(median {statistics.median(m['cpu_percent']):.0f}); uplink kbit/s "
              f"{[round(u) for u in m['uplink_kbps']]} "
              f"(median {statistics.median(m['uplink_kbps']):.0f}); pictures/s per remote tile "
              f"{[round(f) for f in m['fps_in']]}")
    per = args.people
    print(f"janus: {sfu['janus_cpu_percent']:.1f} % of one core for {per} participants "
          f"({sfu['janus_cpu_percent'] / per:.1f} % each); RSS {sfu['janus_rss_mb']:.1f} MB "
          f"({janus_idle:.1f} MB idle, {(sfu['janus_rss_mb'] - janus_idle) / per:.2f} MB each)")
    to_sfu = [s for s, _ in switches]
    to_mesh = [m for _, m in switches]
    print(f"longest freeze across mesh -> SFU, s: {[round(x, 3) for x in to_sfu]} "
          f"(median {statistics.median(to_sfu):.3f}; target <= 1)")
    print(f"longest freeze across SFU -> mesh, s: {[round(x, 3) for x in to_mesh]} "
          f"(median {statistics.median(to_mesh):.3f}; target <= 1)")
    print("RESULT " + json.dumps({"mesh": mesh, "sfu": sfu, "switches": switches,
                                  "janus_idle_mb": janus_idle}))


if __name__ == "__main__":
    main()
