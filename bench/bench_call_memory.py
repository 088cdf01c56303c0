"""Memory over a long call: RSS of both windows of a two-person call.

    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m bench.bench_call_memory'
        [--minutes 10] [--every 10]

As root, in a network namespace with only ``lo``. Two meeting windows, one
process each (fake media), in a call for ``--minutes``; each samples its own
``VmRSS`` every ``--every`` seconds (``bench.bench_call_window``). Reported per
window: RSS at the start and the end, and the slope of a least-squares line
through the samples after the first minute (the allocator and the jitter
buffers settle in it), and through the second half of the call, in MB per
minute. Flat means a slope near 0: over a 10-minute call, less than a few MB
in total.
"""

from __future__ import annotations

import argparse
import time

from bench._common import conditions, header
from bench.bench_call_window import call_server, finish_all, only_loopback, spawn_window

STARTUP = 10.0


def slope_mb_per_min(samples: list[tuple[float, int]]) -> float:
    xs = [t / 60 for t, _ in samples]
    ys = [rss / 1e6 for _, rss in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mx) ** 2 for x in xs)
    return num / den if den else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=10.0)
    args = parser.parse_args()
    only_loopback()
    header(f"call: RSS over a {args.minutes:g}-minute two-person call")
    with call_server() as server:
        members = server.meeting(2)
        start = time.monotonic() + STARTUP
        end = start + args.minutes * 60
        procs = [
            spawn_window(server.url, m, start, end, stamp=False, stamp_read=False,
                         rss_every=args.every)
            for m in members
        ]
        results = finish_all(procs, end)
    print(f"   finished: {conditions()}")
    for r in results:
        samples = [(t - start, rss) for t, rss in r["rss"]]
        settled = [s for s in samples if s[0] >= 60] or samples
        fps = [c / r["seconds"] for c in r["pictures"].values()]
        print(
            f"  {r['name']}: RSS {samples[0][1] / 1e6:.1f} MB at start, "
            f"{max(s[1] for s in samples[:7]) / 1e6:.1f} MB after 1 min, "
            f"{samples[-1][1] / 1e6:.1f} MB at {samples[-1][0] / 60:.1f} min; "
            f"slope after the first minute {slope_mb_per_min(settled):+.3f} MB/min, "
            f"over the second half {slope_mb_per_min(samples[len(samples) // 2 :]):+.3f} MB/min "
            f"({len(samples)} samples); remote fps {' '.join(f'{f:.1f}' for f in fps)}"
        )
        print("     RSS MB each minute: " + " ".join(
            f"{rss / 1e6:.1f}" for t, rss in samples if int(t) % 60 < args.every
        ))


if __name__ == "__main__":
    main()
