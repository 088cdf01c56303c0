"""GUI thread frame gaps while four tiles play: four windows in a call.

    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m bench.bench_call_gui'
        [--runs 3] [--seconds 20] [--warmup 5] [--people 4]

As root, in a network namespace with only ``lo``. Four meeting windows, one
process each (fake media), in one call: each window shows four tiles (its
own and three others). In every window a 16 ms precise ``QTimer`` on the GUI
thread records its ticks (``bench._gui.FrameTicker``); a gap between two ticks
is how long the GUI thread could not run. Also per window: new pictures
painted per second per remote tile, and CPU. On this 2-core machine four
windows in a mesh (each encodes its camera three times and decodes three
pictures) need more CPU than there is; the CPU column says how much.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench._common import conditions, header, percentile
from bench.bench_call_window import (
    call_server,
    finish_all,
    gc_summary,
    only_loopback,
    spawn_window,
)

STARTUP = 12.0


def run(people: int, warmup: float, seconds: float) -> list[dict[str, Any]]:
    with call_server() as server:
        members = server.meeting(people)
        start = time.monotonic() + STARTUP + warmup
        end = start + seconds
        procs = [
            spawn_window(server.url, m, start, end, stamp=False, stamp_read=False, gaps=True)
            for m in members
        ]
        return finish_all(procs, end)


def waited(result: dict[str, Any]) -> float:
    """ms per second the GUI thread was runnable but had no CPU (other processes)."""
    return float(result["waits"].get("MainThread", 0.0)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--people", type=int, default=4)
    args = parser.parse_args()
    only_loopback()
    header(f"call: GUI frame gaps, {args.people} windows in a call ({args.people} tiles each)")
    p99s, worsts, p50s = [], [], []
    for n in range(1, args.runs + 1):
        print(f"\n-- run {n}  ({conditions()})", flush=True)
        results = run(args.people, args.warmup, args.seconds)
        for r in results:
            gaps = [g * 1000 for g in r["gaps"]]
            fps = [c / r["seconds"] for c in r["pictures"].values()]
            print(
                f"  {r['name']}: tiles {r['tiles'] + 1}, gap p50 {statistics.median(gaps):5.1f} ms"
                f" p99 {percentile(gaps, 99):6.1f} ms worst {max(gaps):6.1f} ms;"
                f" remote fps {' '.join(f'{f:4.1f}' for f in fps)}; CPU {r['cpu']:.2f} s/s"
                + (f"; GUI thread waited for a CPU {waited(r):.0f} ms/s" if "waits" in r else "")
            )
        every = [g * 1000 for r in results for g in r["gaps"]]
        p50s.append(statistics.median(every))
        p99s.append(percentile(every, 99))
        worsts.append(max(every))
        print(f"  {gc_summary(results)}")
        print(f"  all windows: gap p99 {p99s[-1]:.1f} ms, worst {worsts[-1]:.1f} ms; "
              f"CPU of the {args.people} processes {sum(r['cpu'] for r in results):.2f} of 2 cores")
    print(
        f"\nmedian of {args.runs} run(s): gap p50 {statistics.median(p50s):.1f} ms, "
        f"p99 {statistics.median(p99s):.1f} ms (runs: {', '.join(f'{x:.1f}' for x in p99s)}), "
        f"worst {max(worsts):.1f} ms (goal p99 <= 50 ms: "
        f"{'MET' if statistics.median(p99s) <= 50 else 'NOT MET'})"
    )


if __name__ == "__main__":
    main()
