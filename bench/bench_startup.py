"""Start-up: ``conference-gui`` (embedded server) to the window's first paint, cold and warm.

    .venv/bin/python -m bench.bench_startup [--runs 10] [--cold-runs 3] [--hyperfine]

Each run starts a fresh ``python -m bench._startup_child`` (the app's own
``main(["--self-check", "--data-dir", TMP])`` plus a first-paint probe, see
that file) and reads its stdout. Times are from just before ``Popen``:

* ``first paint``: the first paint event of any widget of the meeting window;
* ``joined``: the self-check line (socket joined, resource list loaded).

*Warm* runs follow a discarded warm-up run. *Cold* runs first evict the
interpreter's standard library, the venv's site-packages and the project
from the page cache (``posix_fadvise(DONTNEED)`` on every file; no root, no
global cache drop), so every import reads from disk again.
``--hyperfine`` also times the console script ``conference-gui --self-check``
end to end with hyperfine (warm).

Target: first paint ≤ 1.5 s warm.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from bench._common import PYTHON, ROOT, header, verdict


def evict_page_cache() -> int:
    """Drop the cached pages of every file Python may import here; returns the file count."""
    roots = {
        Path(sysconfig.get_paths()["stdlib"]),
        Path(sysconfig.get_paths()["platstdlib"]),
        Path(sysconfig.get_paths()["purelib"]),
        Path(sysconfig.get_paths()["platlib"]),
        ROOT / "conference_gui",
        ROOT / "resources",
    }
    count = 0
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                try:
                    fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    count += 1
                finally:
                    os.close(fd)
    return count


def one_run(env: dict[str, str]) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [PYTHON, "-m", "bench._startup_child", "--data-dir", str(data / "server")],
            cwd=ROOT,
            env={**env, "XDG_CONFIG_HOME": str(data / "config"),
                 "XDG_DATA_HOME": str(data / "share")},
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        marks: dict[str, float] = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.perf_counter()
            word, _, value = line.strip().partition(" ")
            if word in ("python-up", "first-paint", "exit"):
                marks[word] = float(value) - t0
            elif word == "self-check":
                marks["joined"] = now - t0
        proc.wait(60)
        if proc.returncode != 0 or "first-paint" not in marks:
            raise RuntimeError(f"start-up run failed (exit {proc.returncode}): {marks}")
        return marks
    finally:
        shutil.rmtree(data, ignore_errors=True)


def show(kind: str, runs: list[dict[str, float]]) -> float:
    fp = statistics.median(r["first-paint"] for r in runs) * 1000
    up = statistics.median(r["python-up"] for r in runs) * 1000
    joined = statistics.median(r["joined"] for r in runs) * 1000
    spread = f"{min(r['first-paint'] for r in runs) * 1000:.0f}–"
    spread += f"{max(r['first-paint'] for r in runs) * 1000:.0f}"
    print(
        f"   {kind}: n={len(runs)} median interpreter up {up:.0f} ms · first paint {fp:.0f} ms "
        f"(range {spread}) · joined {joined:.0f} ms",
        flush=True,
    )
    return fp


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--cold-runs", type=int, default=3)
    p.add_argument("--hyperfine", action="store_true")
    args = p.parse_args()
    header("start-up: conference-gui with embedded server → first paint")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    cold = []
    for _ in range(args.cold_runs):
        evict_page_cache()
        cold.append(one_run(env))
    one_run(env)  # warm-up
    warm = [one_run(env) for _ in range(args.runs)]
    show("cold", cold)
    fp = show("warm", warm)
    print(f"   target warm first paint ≤ 1500 ms: {verdict(fp <= 1500)}")
    if args.hyperfine and shutil.which("hyperfine"):
        data = tempfile.mkdtemp(prefix="bench-startup-hf-")
        try:
            exe = Path(sys.executable).parent / "conference-gui"
            subprocess.run(
                ["hyperfine", "--warmup", "1", "--runs", str(args.runs), "-N",
                 f"{exe} --self-check --data-dir {data}/server"],
                env={**env, "XDG_CONFIG_HOME": f"{data}/config", "XDG_DATA_HOME": f"{data}/share"},
                check=True,
            )  # fmt: skip
        finally:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
