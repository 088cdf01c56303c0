"""Burst: 10,000 upload events emitted as fast as the server can, into a shown window.

    .venv/bin/python -m bench.bench_burst [--events 10000] [--rows 0] [--runs 3]

The server commits 10,000 resources in one transaction and then publishes
their 10,000 ``resource-uploaded`` events back to back (the real bus, bridge
and Socket.IO emit). The window (Resources dock shown, toasts on) must apply
all of them. Measured per run:

* time from the first emit to the moment the model holds the last revision;
* lost / duplicated / reordered: the model's rows, the dock's (proxy) rows and
  the badge against the server's list (same ids, same order, same count),
  plus how many refetches the client needed (0 = every event applied in order);
* UI frame gaps: a 16 ms precise QTimer runs during the burst; the gaps between
  its ticks are how long the GUI thread could not react. p99 and max reported.

Target: all applied ≤ 2 s, 0 lost / duplicated / reordered, frame gap p99 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

import requests

from bench._common import (
    bench_server,
    create_meeting,
    header,
    in_child,
    percentile,
    report,
    verdict,
)
from bench._gui import FrameTicker, Gui, joined_and_loaded, until
from conference_gui.models.resource_model import ResourceRole


def run(events: int, rows: int, toasts: bool = True) -> dict[str, float]:
    with bench_server() as srv:
        host, _invite = create_meeting(srv.url)
        base = 0
        if rows:
            base = srv.post("/bench/seed", {"sessionId": host.session_id, "count": rows})[
                "revision"
            ]
        gui = Gui()
        try:
            win = gui.open(srv.url, host, toasts=toasts)
            gui.run(joined_and_loaded(win, base), timeout=300)
            win.features["resources"].dock.show()
            model, ledger = win.features["resources"].model, win.features["resources"].model.ledger
            proxy, button = win.features["resources"].dock.proxy, win.features["resources"].button
            target = base + events
            done_at: list[float] = []
            model.count_changed.connect(
                lambda n: done_at.append(time.perf_counter()) if n == rows + events else None
            )
            fetches_before = win.features["resources"].controller.fetch_count
            ticker = FrameTicker()
            ticker.start()
            srv.post(
                "/bench/drive",
                {"sessionId": host.session_id, "count": events, "mode": "burst",
                 "delayMs": 200},
            )  # fmt: skip
            gui.run(until(lambda: ledger.revision == target, timeout=120, what="last event"))
            gui.run(until(lambda: button.badgeCount() == rows + events, timeout=10))
            ticker.stop()
            emits = srv.get("/bench/emits", sessionId=host.session_id)
            listing = requests.get(
                f"{srv.url}/api/sessions/{host.session_id}/resources",
                headers={"Authorization": f"Bearer {host.token}"},
                timeout=60,
            ).json()
            server_ids = [r["id"] for r in listing["resources"]]
            model_ids = [ledger[i].id for i in range(len(ledger))]
            proxy_ids = [proxy.index(i, 0).data(ResourceRole.ID) for i in range(proxy.rowCount())]
            first_emit, last_emit = emits[0][1], emits[-1][1]
            gaps = ticker.gaps(first_emit, done_at[0] if done_at else None)
            emitted = [r for r, _ in emits]
            return {
                "applied_s": (done_at[0] if done_at else float("nan")) - first_emit,
                "emit_s": last_emit - first_emit,
                "lost": len(set(server_ids) - set(model_ids)),
                "duplicated": len(model_ids) - len(set(model_ids)),
                "reordered": int(model_ids != server_ids or proxy_ids != server_ids),
                "emit_order_ok": int(emitted == list(range(base + 1, target + 1))),
                "badge": button.badgeCount(),
                "refetches": win.features["resources"].controller.fetch_count - fetches_before,
                "gap_p99_ms": percentile(gaps, 99) * 1000,
                "gap_max_ms": max(gaps) * 1000 if gaps else float("nan"),
                "gap_p50_ms": statistics.median(gaps) * 1000 if gaps else float("nan"),
                "ticks": len(gaps),
            }
        finally:
            gui.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--rows", type=int, default=0, help="resources listed before the burst")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--no-toasts", action="store_true", help="turn notifications off")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        report(run(args.events, args.rows, not args.no_toasts))
        return
    header(
        f"burst of {args.events} upload events, {args.rows} rows before, {args.runs} runs, "
        f"toasts {'off' if args.no_toasts else 'on'}"
    )
    results = []
    for i in range(args.runs):
        r = in_child(
            "bench.bench_burst",
            ["--child", "--events", str(args.events), "--rows", str(args.rows)]
            + (["--no-toasts"] if args.no_toasts else []),
        )
        results.append(r)
        print(
            f"   run {i + 1}: applied in {r['applied_s']:.3f} s (server emitted them in "
            f"{r['emit_s']:.3f} s) · lost {r['lost']} · duplicated {r['duplicated']} · "
            f"reordered {r['reordered']} · refetches {r['refetches']} · badge {r['badge']} · "
            f"frame gaps p50 {r['gap_p50_ms']:.1f} ms p99 {r['gap_p99_ms']:.1f} ms "
            f"max {r['gap_max_ms']:.1f} ms ({r['ticks']} ticks)",
            flush=True,
        )
    applied = statistics.median(r["applied_s"] for r in results)
    gap99 = statistics.median(r["gap_p99_ms"] for r in results)
    clean = all(r["lost"] == r["duplicated"] == r["reordered"] == 0 for r in results)
    print(f"   median applied {applied:.3f} s · median frame-gap p99 {gap99:.1f} ms")
    print(
        f"   target ≤ 2 s: {verdict(applied <= 2)} · 0 lost/dup/reordered: {verdict(clean)} · "
        f"gap p99 ≤ 50 ms: {verdict(gap99 <= 50)}"
    )


if __name__ == "__main__":
    main()
