"""Capture → painted latency and CPU of a two-person call, against a bare aiortc pair.

    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m bench.bench_call_latency'
        [--runs 3] [--seconds 20] [--warmup 5]

As root, in a network namespace with only ``lo`` (the command above): the
bench refuses to run where another interface exists.

Each run, in turn (alternating which goes first):

* **floor**: two bare aiortc peers, one process each (``bench.call_floor
  --peer``), full duplex: each sends the app's fake-camera picture (the same
  drawing, so VP8 gets the same content), stamped, 640×480@30, sent the
  moment it is captured, and a tone (Opus), and decodes what arrives.
  Latency: capture → decoded (the stamp read from the decoded Y plane).
* **marker**: the same floor plus the one aiortc change the app makes to the
  receiving side (``conference_gui.media.jitter``: a video frame leaves the
  jitter buffer on its marker bit instead of when the next frame begins).
* **app**: two meeting windows, one process each (``bench.bench_call_window``),
  with fake media, on the reference server (a thread of this process); each
  stamps its camera. Latency: capture → painted (the stamp read from the
  picture the remote tile painted, at the end of its paint).

Every process that paints (the floors draw the same fake-camera picture) runs
with the app's Qt setting (``services.qt_environment``); ``--qt-pool`` runs
them all with Qt's default instead.

CPU: each process's CPU seconds per second over the measured span (every
thread), and the per-thread split. Printed per run, then medians over runs
with the ratios app / floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from bench._common import conditions, header, percentile
from bench.bench_call_window import (
    call_server,
    finish_all,
    floor_pair,
    gc_summary,
    only_loopback,
    spawn_window,
)

STARTUP_FLOOR = 3.0  # seconds for the two floor processes to start and connect
STARTUP_APP = 8.0  # ... for two windows to start, join and connect


def pooled(results: list[dict[str, Any]], key: str = "latencies") -> list[float]:
    out: list[float] = []
    for r in results:
        value = r[key]
        out.extend(value if isinstance(value, list) else [x for v in value.values() for x in v])
    return out


def stats_ms(values: list[float]) -> tuple[float, float, float]:
    ms = [v * 1000 for v in values]
    return statistics.median(ms), percentile(ms, 99), max(ms)


def top_threads(results: list[dict[str, Any]], n: int = 6) -> str:
    total: dict[str, float] = {}
    for r in results:
        for name, cpu in r["threads"].items():
            total[name] = total.get(name, 0.0) + cpu / len(results)
    ranked = sorted(total.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{name} {cpu:.3f}" for name, cpu in ranked)


def run_floor(warmup: float, seconds: float, marker: bool = False) -> list[dict[str, Any]]:
    start = time.monotonic() + STARTUP_FLOOR + warmup
    end = start + seconds
    return finish_all(floor_pair(start, end, marker), end)


def run_marker(warmup: float, seconds: float) -> list[dict[str, Any]]:
    return run_floor(warmup, seconds, marker=True)


def run_app(
    warmup: float, seconds: float, switch_interval: float | None = None, offload: bool = False
) -> list[dict[str, Any]]:
    with call_server() as server:
        members = server.meeting(2)
        start = time.monotonic() + STARTUP_APP + warmup
        end = start + seconds
        procs = [
            spawn_window(
                server.url, m, start, end, switch_interval=switch_interval, offload=offload
            )
            for m in members
        ]
        return finish_all(procs, end)


def describe(kind: str, results: list[dict[str, Any]]) -> dict[str, float]:
    lat = pooled(results)
    p50, p99, worst = stats_ms(lat)
    cpu = [r["cpu"] for r in results]
    damaged = sum(r["damaged"] for r in results)
    print(
        f"  {kind:<6} n={len(lat):5d} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  worst {worst:6.1f} ms"
        f"  CPU/process {' '.join(f'{c:.3f}' for c in cpu)} s/s"
        + (f"  ({damaged} unreadable stamps)" if damaged else "")
    )
    print(f"         threads (CPU s/s, mean per process): {top_threads(results)}")
    if kind.startswith("app"):
        print(f"         {gc_summary(results)}")
        dec = [x for r in results for x in r.get("split", {}).get("to_decoded", [])]
        pnt = [x for r in results for x in r.get("split", {}).get("to_painted", [])]
        if dec and pnt:
            d50, d99, _ = stats_ms(dec)
            q50, q99, qmax = stats_ms(pnt)
            print(
                f"         split: capture -> out of the decoder p50 {d50:.1f} / p99 {d99:.1f} ms;"
                f" decoder -> painted p50 {q50:.1f} / p99 {q99:.1f} / worst {qmax:.1f} ms"
            )
    return {"p50": p50, "p99": p99, "worst": worst, "cpu": statistics.mean(cpu)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument(
        "--switch-interval", type=float, metavar="MS",
        help="also run the app with sys.setswitchinterval(MS) (an A/B experiment: 'app-si')",
    )  # fmt: skip
    parser.add_argument(
        "--offload", action="store_true",
        help="also run the app converting camera pictures off the engine loop ('app-off')",
    )  # fmt: skip
    parser.add_argument("--no-floors", action="store_true", help="only the app rows (A/B runs)")
    parser.add_argument(
        "--qt-pool", action="store_true",
        help="every process with Qt's raster thread pool (Qt's default; the app turns it off)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.qt_pool:
        os.environ["BENCH_QT_POOL"] = "1"  # read by bench._common.app_qt_environment
    only_loopback()
    header("call: capture → painted and CPU, two windows vs a bare aiortc pair (640x480@30 VP8)")
    runners: dict[str, Any] = {"floor": run_floor, "marker": run_marker, "app": run_app}
    if args.switch_interval is not None:
        runners["app-si"] = lambda w, s: run_app(w, s, args.switch_interval)
    if args.offload:
        runners["app-off"] = lambda w, s: run_app(w, s, offload=True)
    if args.no_floors:
        del runners["floor"], runners["marker"]
    rows: dict[str, list[dict[str, float]]] = {kind: [] for kind in runners}
    kinds = list(runners)
    for run in range(1, args.runs + 1):
        print(f"\n-- run {run}  ({conditions()})", flush=True)
        order = kinds[run % len(kinds) :] + kinds[: run % len(kinds)]  # each goes first in turn
        for kind in order:
            rows[kind].append(describe(kind, runners[kind](args.warmup, args.seconds)))
    print(f"\n-- medians of {args.runs} run(s)  ({conditions()})")
    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in rows.items()}
    for kind, m in med.items():
        print(
            f"  {kind:<6} p50 {m['p50']:6.1f} ms  p99 {m['p99']:6.1f} ms  "
            f"worst {m['worst']:6.1f} ms  CPU/process {m['cpu']:.3f} s/s"
        )
    if "floor" not in med:
        return
    ratio_lat = med["app"]["p50"] / med["floor"]["p50"]
    ratio_cpu = med["app"]["cpu"] / med["floor"]["cpu"]
    spread = [r["p50"] for r in rows["app"]]
    print(
        f"\napp / floor with the app's jitter-buffer change (marker): latency p50 "
        f"x{med['app']['p50'] / med['marker']['p50']:.2f}, "
        f"CPU x{med['app']['cpu'] / med['marker']['cpu']:.2f}"
    )
    print(
        f"\napp / floor: latency p50 x{ratio_lat:.2f} (goal <= 1.3 and <= 80 ms: "
        f"{'MET' if ratio_lat <= 1.3 and med['app']['p50'] <= 80 else 'NOT MET'}); "
        f"CPU per process x{ratio_cpu:.2f} "
        f"(goal <= 1.3: {'MET' if ratio_cpu <= 1.3 else 'NOT MET'})"
        f"\napp p50 per run: {', '.join(f'{x:.1f}' for x in spread)} ms"
    )


if __name__ == "__main__":
    main()
