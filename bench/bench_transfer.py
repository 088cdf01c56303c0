"""1 GiB upload and download: the app's ApiClient against curl, same server, same run.

    .venv/bin/python -m bench.bench_transfer [--mib 1024] [--rounds 3]

The server is the bench server (real app, upload limit raised to 2 GiB) in
its own process. The file is generated in a temp folder (pseudo-random bytes,
so nothing compresses or dedups), and deleted at the end.

* upload: ``ApiClient.upload`` (requests-toolbelt streaming encoder, progress
  throttled) on an asyncio loop in *this* process, vs ``curl -F file=@…``;
* download: ``ApiClient.download`` (streamed to a ``.part`` file then renamed)
  vs ``curl -o``; both write to the same folder.

The server's data folder (where uploads land) and the download folder are in
``/dev/shm`` (RAM) by default: on this VM, writing 1 GiB to disk makes both
tools wait for the kernel's dirty-page writeback and swings their speed 3×
from run to run (``--download-dir DIR`` puts both on DIR instead).

Per transfer: wall time → MiB/s; sha256 of what arrived (the server's stored
blob after an upload, the downloaded file after a download) against the
source; peak RSS growth (``VmHWM`` reset through ``/proc/PID/clear_refs``
before the transfer, minus ``VmRSS`` then) of this process (the client) and
of the server process; progress callbacks per second (and the shortest gap
between two). Rounds alternate which tool goes first; medians reported.

Targets: RSS growth ≤ 64 MiB for client and server; app throughput ≥ 0.8× curl;
progress ≤ 10/s.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import hashlib
import itertools
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench._common import (
    BenchServer,
    Member,
    bench_server,
    create_meeting,
    header,
    peak_rss_bytes,
    reset_peak_rss,
    rss_bytes,
    verdict,
)
from conference_gui.services.http_client import ApiClient

MIB = 1024 * 1024


def make_file(path: Path, size: int) -> str:
    """Write ``size`` pseudo-random bytes; return their sha256."""
    digest = hashlib.sha256()
    block = os.urandom(4 * MIB)
    with open(path, "wb") as out:
        written = 0
        n = 0
        while written < size:
            # Vary each block cheaply so no two blocks are equal.
            chunk = n.to_bytes(8, "little") + block[8 : min(len(block), size - written)]
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            n += 1
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(4 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


class Measure:
    """Wall time and peak RSS growth of this process and of the server."""

    def __init__(self, server_pid: int) -> None:
        self.pids = {"client": os.getpid(), "server": server_pid}

    def __enter__(self) -> Measure:
        self.base = {}
        for name, pid in self.pids.items():
            if not reset_peak_rss(pid):
                raise RuntimeError("cannot reset peak RSS (/proc/PID/clear_refs)")
            self.base[name] = rss_bytes(pid)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.start
        self.growth = {n: peak_rss_bytes(p) - self.base[n] for n, p in self.pids.items()}


class Progress:
    def __init__(self) -> None:
        self.times: list[float] = []

    def __call__(self, done: int, total: int) -> None:
        self.times.append(time.perf_counter())

    def rate(self) -> tuple[float, float, float]:
        """Periodic updates (the final "done" report not counted): their average rate
        over the transfer, the most within any one second, and the shortest gap (ms)."""
        ts = self.times[:-1]
        if len(ts) < 2:
            return float(len(ts)), float(len(ts)), float("nan")
        average = (len(ts) - 1) / (ts[-1] - ts[0])
        most = max(bisect.bisect_left(ts, t + 1.0) - i for i, t in enumerate(ts))
        gap = min(b - a for a, b in itertools.pairwise(ts)) * 1000
        return average, float(most), gap


def app_upload(api: ApiClient, member: Member, path: Path) -> tuple[str, Progress]:
    progress = Progress()

    async def go() -> str:
        resource, _rev = await api.upload(member.session_id, path, progress=progress)
        return resource.id

    return asyncio.run(go()), progress


def app_download(api: ApiClient, member: Member, rid: str, target: Path) -> Progress:
    progress = Progress()

    async def go() -> None:
        await api.download(member.session_id, rid, target, progress=progress)

    asyncio.run(go())
    return progress


def curl_upload(srv: BenchServer, member: Member, path: Path) -> str:
    out = subprocess.run(
        ["curl", "-sS", "--fail", "-H", f"Authorization: Bearer {member.token}",
         "-F", f"file=@{path}", f"{srv.url}/api/sessions/{member.session_id}/resources"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return str(json.loads(out.stdout)["resource"]["id"])


def curl_download(srv: BenchServer, member: Member, rid: str, target: Path) -> None:
    subprocess.run(
        ["curl", "-sS", "--fail", "-H", f"Authorization: Bearer {member.token}", "-o",
         str(target), f"{srv.url}/api/sessions/{member.session_id}/resources/{rid}/content"],
        check=True,
    )  # fmt: skip


def delete(srv: BenchServer, member: Member, rid: str) -> None:
    requests.delete(
        f"{srv.url}/api/sessions/{member.session_id}/resources/{rid}",
        headers={"Authorization": f"Bearer {member.token}"},
        timeout=60,
    ).raise_for_status()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--download-dir", type=Path, default=Path("/dev/shm"))
    args = p.parse_args()
    size = args.mib * MIB
    header(
        f"{args.mib} MiB upload and download, app vs curl, {args.rounds} rounds, "
        f"server data and downloads in {args.download_dir}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-transfer-"))
    parent = args.download_dir if args.download_dir.is_dir() else None
    down = Path(tempfile.mkdtemp(prefix="bench-transfer-down-", dir=parent))
    executor = ThreadPoolExecutor(max_workers=2)
    try:
        src = tmp / "big.bin"
        want = make_file(src, size)
        rows: dict[str, list[dict[str, float]]] = {
            k: [] for k in ("up-app", "up-curl", "down-app", "down-curl")
        }
        with bench_server(max_upload_mb=2 * args.mib + 64, parent=parent) as srv:
            host, _ = create_meeting(srv.url)
            api = ApiClient(srv.url, host.token, executor)
            blob = srv.data_dir / "files"
            for rnd in range(args.rounds):
                for tool in ("app", "curl") if rnd % 2 == 0 else ("curl", "app"):
                    prog: Progress | None = None
                    with Measure(srv.pid) as m:
                        if tool == "app":
                            rid, prog = app_upload(api, host, src)
                        else:
                            rid = curl_upload(srv, host, src)
                    ok = sha256_of(blob / rid) == want
                    rows[f"up-{tool}"].append(_row(m, size, ok, prog))
                    target = down / f"down-{tool}.bin"
                    with Measure(srv.pid) as m:
                        if tool == "app":
                            prog = app_download(api, host, rid, target)
                        else:
                            prog = None
                            curl_download(srv, host, rid, target)
                    ok = sha256_of(target) == want
                    rows[f"down-{tool}"].append(_row(m, size, ok, prog))
                    target.unlink()
                    delete(srv, host, rid)
                print(f"   round {rnd + 1} done", flush=True)
    finally:
        executor.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(down, ignore_errors=True)

    for key, runs in rows.items():
        for r in runs:
            note = (
                f" · progress {r['prog_rate']:.2f}/s, ≤ {r['prog_most']:.0f} in any 1 s"
                f" (min gap {r['prog_gap']:.0f} ms) + final"
                if r.get("prog_rate")
                else ""
            )
            print(
                f"   {key:9s} {r['mibs']:7.1f} MiB/s · {r['s']:.2f} s · sha256 "
                f"{'ok' if r['ok'] else 'MISMATCH'} · RSS growth client {r['client_mib']:.1f} MiB, "
                f"server {r['server_mib']:.1f} MiB{note}"
            )
    for kind in ("up", "down"):
        app, curl = rows[f"{kind}-app"], rows[f"{kind}-curl"]
        a = statistics.median(r["mibs"] for r in app)
        c = statistics.median(r["mibs"] for r in curl)
        client = max(r["client_mib"] for r in app)
        server = max(r["server_mib"] for r in app)
        ok = all(r["ok"] for r in app + curl)
        rate = max(r["prog_rate"] for r in app)
        most = max(r["prog_most"] for r in app)
        print(
            f"   {kind:4s} app median {a:.1f} MiB/s vs curl {c:.1f} MiB/s = {a / c:.2f}× "
            f"(target ≥ 0.8: {verdict(a / c >= 0.8)}) · max RSS growth client {client:.1f} MiB, "
            f"server {server:.1f} MiB (≤ 64: {verdict(client <= 64 and server <= 64)}) · "
            f"sha256 {verdict(ok)} · progress ≤ {rate:.2f}/s (≤ 10: {verdict(rate <= 10.0)}), "
            f"≤ {most:.0f} in any 1 s"
        )


def _row(m: Measure, size: int, ok: bool, prog: Progress | None) -> dict[str, float]:
    row = {
        "s": m.seconds,
        "mibs": size / MIB / m.seconds,
        "ok": float(ok),
        "client_mib": m.growth["client"] / MIB,
        "server_mib": m.growth["server"] / MIB,
    }
    if prog is not None:
        row["prog_rate"], row["prog_most"], row["prog_gap"] = prog.rate()
    return row


if __name__ == "__main__":
    main()
