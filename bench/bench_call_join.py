"""Join ack → first remote picture painted, for a person joining a call in progress.

    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m bench.bench_call_join'
        [--trials 8]

As root, in a network namespace with only ``lo``. Ann's window (its own
process, fake media) is in the call for the whole bench; for each trial a new
window of Bob joins (a fresh process, like a person opening the invite link),
and the bench takes, in Bob's process, the time of his socket's first join
ack and of the first paint of Ann's picture on his remote tile
(``bench.bench_call_window``). Bob's process then quits (Ann sees him leave)
and the next trial starts with a new Bob. Both clocks are CLOCK_MONOTONIC.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench._common import conditions, header, percentile
from bench.bench_call_window import call_server, finish_all, only_loopback, spawn_window

TRIAL = 10.0  # seconds a Bob window lives: start, join, connect, paint, quit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=8)
    args = parser.parse_args()
    only_loopback()
    header("call: join ack -> first remote picture painted (joining a call in progress)")
    spans: list[float] = []
    with call_server() as server:
        people = server.meeting(1 + args.trials)
        ann_until = time.monotonic() + 10 + args.trials * (TRIAL + 3)
        ann = spawn_window(server.url, people[0], ann_until - 1, ann_until, stamp=False,
                           stamp_read=False)
        time.sleep(6)  # Ann's window is up and in the call
        for trial, bob in enumerate(people[1:], 1):
            end = time.monotonic() + TRIAL
            (result,) = finish_all(
                [spawn_window(server.url, bob, end, end, stamp=False, stamp_read=False)], end
            )
            joined, painted = result["joined"], result["first_painted"].get(people[0].user_id)
            if joined is None or painted is None:
                print(f"  trial {trial}: no picture (joined {joined}, painted {painted})")
                continue
            spans.append(painted - joined)
            print(f"  trial {trial}: {spans[-1] * 1000:6.0f} ms   ({conditions()})", flush=True)
        finish_all([ann], ann_until)
    ms = [s * 1000 for s in spans]
    if ms:
        print(
            f"\njoin ack -> first remote frame painted: n={len(ms)} "
            f"median {statistics.median(ms):.0f} ms"
            f", p90 {percentile(ms, 90):.0f} ms, worst {max(ms):.0f} ms, best {min(ms):.0f} ms"
            f" (goal <= 500 ms: {'MET' if statistics.median(ms) <= 500 else 'NOT MET'})"
        )


if __name__ == "__main__":
    main()
