"""How many people a mesh call holds on this machine before it stops working well.

    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m bench.bench_call_mesh'
        [--sizes 2,3,4,5,6] [--runs 2] [--seconds 12] [--warmup 5]

As root, in a network namespace with only ``lo``. For each size N, N meeting
windows, one process each (fake media, stamped cameras), in one mesh call:
each window encodes its camera N−1 times (aiortc encodes per connection) and
decodes N−1 pictures. Per size: pictures painted per second per remote tile
(median and worst tile), capture → painted p50 / p99 over every tile, and
its two parts at p50 ("->dec": capture until aiortc's decoder hands the
picture over; "dec->": from there until painted), CPU of all N processes
(2 cores = 2.0 s/s), GUI gaps.

"Works well" here: every remote tile gets ≥ 20 pictures a second (median
over tiles ≥ 24) and capture → painted p50 ≤ 150 ms. All N windows run on
this one 2-core machine, so this is the machine's limit for a mesh *with
every participant on it*; one person per machine carries 1/N of the load.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench._common import conditions, header, percentile
from bench.bench_call_window import call_server, finish_all, only_loopback, spawn_window


def run(people: int, warmup: float, seconds: float) -> list[dict[str, Any]]:
    with call_server() as server:
        members = server.meeting(people)
        start = time.monotonic() + 6 + 2 * people + warmup
        end = start + seconds
        procs = [
            spawn_window(server.url, m, start, end, gaps=True) for m in members
        ]
        return finish_all(procs, end)


def summarise(people: int, results: list[dict[str, Any]]) -> dict[str, float]:
    fps = [c / r["seconds"] for r in results for c in r["pictures"].values()]
    missing = sum(max(0, people - 1 - len(r["pictures"])) for r in results)
    fps += [0.0] * missing
    lat = [x * 1000 for r in results for v in r["latencies"].values() for x in v]
    gaps = [g * 1000 for r in results for g in r["gaps"]]
    dec = [x * 1000 for r in results for x in r.get("split", {}).get("to_decoded", [])]
    pnt = [x * 1000 for r in results for x in r.get("split", {}).get("to_painted", [])]
    return {
        "decoded_p50": statistics.median(dec) if dec else float("nan"),
        "painted_p50": statistics.median(pnt) if pnt else float("nan"),
        "fps_median": statistics.median(fps) if fps else 0.0,
        "fps_worst": min(fps) if fps else 0.0,
        "p50": statistics.median(lat) if lat else float("nan"),
        "p99": percentile(lat, 99) if lat else float("nan"),
        "cpu": sum(r["cpu"] for r in results),
        "gap_p99": percentile(gaps, 99) if gaps else float("nan"),
    }


def ok(s: dict[str, float]) -> bool:
    return s["fps_worst"] >= 20 and s["fps_median"] >= 24 and s["p50"] <= 150


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2,3,4,5,6")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    args = parser.parse_args()
    only_loopback()
    header("call: mesh size vs frame rate and latency (all windows on this machine)")
    print(f"{'N':>3} {'run':>3} {'fps med':>8} {'fps worst':>9} {'p50 ms':>7} {'p99 ms':>7}"
          f" {'->dec':>7} {'dec->':>6} {'CPU s/s':>8} {'gap p99':>8}  works well")
    table: dict[int, list[dict[str, float]]] = {}
    for people in (int(x) for x in args.sizes.split(",")):
        for n in range(1, args.runs + 1):
            s = summarise(people, run(people, args.warmup, args.seconds))
            table.setdefault(people, []).append(s)
            print(f"{people:3d} {n:3d} {s['fps_median']:8.1f} {s['fps_worst']:9.1f} "
                  f"{s['p50']:7.1f} {s['p99']:7.1f} {s['decoded_p50']:7.1f} "
                  f"{s['painted_p50']:6.1f} {s['cpu']:8.2f} {s['gap_p99']:8.1f}  "
                  f"{'yes' if ok(s) else 'NO'}   ({conditions()})", flush=True)
    good = [n for n, rows in table.items() if all(ok(s) for s in rows)]
    limit = max((n for n in good if all(m in good for m in table if m <= n)), default=None)
    print(f"\nlargest mesh that works well in every run: {limit} people; "
          f"'the call has grown too big' from {None if limit is None else limit + 1}")


if __name__ == "__main__":
    main()
