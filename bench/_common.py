"""Shared helpers of the benchmarks: statistics, the bench server process, RSS, output.

Every timestamp is ``time.perf_counter()``, which on Linux reads
``CLOCK_MONOTONIC``: the same clock in every process of the machine, so a time
taken in the server process and one taken in a client process can be subtracted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


async def until(predicate: Callable[[], object], timeout: float = 60.0, what: str = "") -> None:
    """Let the running loop go on until ``predicate()`` holds (a bench's setup step)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.005)


def app_qt_environment() -> None:
    """Qt set up as the app sets it (``services.qt_environment``), in every process of a
    bench that paints, the floors' included, so a picture costs the same to draw in
    each. ``BENCH_QT_POOL=1`` leaves Qt's default (its raster thread pool) everywhere:
    the A/B of ``bench_call_latency --qt-pool``."""
    if os.environ.get("BENCH_QT_POOL") != "1":
        from conference_gui.services.qt_environment import prepare_qt_environment

        prepare_qt_environment()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values: Sequence[float]) -> str:
    """``n=… p50=… p99=… max=…`` of seconds, printed in milliseconds."""
    if not values:
        return "n=0"
    ms = [v * 1000.0 for v in values]
    return (
        f"n={len(ms)} p50={statistics.median(ms):.3f} ms p99={percentile(ms, 99):.3f} ms "
        f"max={max(ms):.3f} ms"
    )


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def conditions() -> str:
    """One line describing the machine and its load when the run started."""
    load = os.getloadavg()
    return (
        f"{platform.node()} · {os.cpu_count()} cpu · Python {platform.python_version()} · "
        f"load avg {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} · "
        f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}"
    )


def header(title: str) -> None:
    """Print the benchmark's title and the run's conditions; make SIGTERM clean up."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run finally: blocks
    print(f"== {title}", flush=True)
    print(f"   {conditions()}")


# -- the bench server ----------------------------------------------------------
@dataclass
class BenchServer:
    """``bench/_server.py`` in its own process: the real server plus bench-only routes."""

    url: str
    proc: subprocess.Popen[str]
    data_dir: Path

    def post(self, path: str, body: dict[str, Any], timeout: float = 600.0) -> Any:
        r = requests.post(self.url + path, json=body, timeout=timeout)
        r.raise_for_status()
        return r.json()

    def get(self, path: str, timeout: float = 60.0, **params: Any) -> Any:
        r = requests.get(self.url + path, params=params, timeout=timeout)
        r.raise_for_status()
        return r.json()

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextlib.contextmanager
def bench_server(max_upload_mb: int = 2048, parent: Path | None = None) -> Iterator[BenchServer]:
    """Start the bench server on a free port with a temporary data folder; stop it after."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-server-", dir=parent))
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "bench._server",
            "--data-dir",
            str(data_dir),
            "--max-upload-mb",
            str(max_upload_mb),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"bench server did not start: {line!r}")
        yield BenchServer(line.removeprefix("listening on "), proc, data_dir)
    finally:
        stop_server(proc, data_dir)


def stop_server(proc: subprocess.Popen[Any], data_dir: Path) -> None:
    """SIGTERM, SIGKILL after 10 s; the server's data folder goes too."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class Member:
    session_id: str
    user_id: str
    token: str
    name: str


def create_meeting(url: str, title: str = "Bench", host: str = "Host") -> tuple[Member, str]:
    """A new meeting: its host and its invite code."""
    r = requests.post(f"{url}/api/sessions", json={"title": title, "name": host}, timeout=10)
    r.raise_for_status()
    d = r.json()
    return Member(d["session"]["id"], d["userId"], d["token"], host), d["invite"]


def join_meeting(url: str, session_id: str, invite: str, name: str) -> Member:
    r = requests.post(
        f"{url}/api/sessions/{session_id}/join", json={"name": name, "invite": invite}, timeout=10
    )
    r.raise_for_status()
    d = r.json()
    return Member(session_id, d["userId"], d["token"], name)


# -- memory ----------------------------------------------------------------------
def rss_bytes(pid: int) -> int:
    """Resident set size now (``VmRSS``)."""
    return _status_kb(pid, "VmRSS") * 1024


def peak_rss_bytes(pid: int) -> int:
    """Peak resident set size since start or the last :func:`reset_peak_rss` (``VmHWM``)."""
    return _status_kb(pid, "VmHWM") * 1024


def reset_peak_rss(pid: int) -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False if not permitted."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def dump(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


# -- one GUI run per process ---------------------------------------------------------
RESULT = "RESULT "


def report(result: dict[str, Any]) -> None:
    """A child run's result, for :func:`in_child` (one JSON line on stdout)."""
    print(RESULT + json.dumps(result), flush=True)


def in_child(module: str, args: Sequence[str], timeout: float = 900.0) -> dict[str, Any]:
    """Run ``python -m module *args`` (which calls :func:`report`) and return its result.

    Each GUI measurement gets a fresh process: a second qasync loop on the same
    QApplication after the first was closed is not a thing the app ever does.
    """
    out = subprocess.run(
        [PYTHON, "-m", module, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in out.stdout.splitlines():
        if line.startswith(RESULT):
            result: dict[str, Any] = json.loads(line.removeprefix(RESULT))
            return result
    raise RuntimeError(f"{module} {' '.join(args)} gave no result (exit {out.returncode})")
