"""Event → visible row, with 10k and 100k resources loaded and the list shown.

    .venv/bin/python -m bench.bench_visible_row [--rows 10000 100000] [--samples 300]

The session is seeded with N resources (older than anything uploaded later),
the window joins and loads them, the Resources dock is shown. The server then
uploads one file every ``interval`` (real ``ResourceService.add``); each new
file is the newest, so it becomes the top row. For revision R the sample is
the end of the first paint of the list (``ResourceListView.paintEvent``
returned) in which the top row is that file and lies inside the viewport,
minus the server's emit time of R. Target: p99 ≤ 16 ms (one frame).
Toasts (a notification per upload by someone else) are on, as by default;
``--no-toasts`` measures without them.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench._common import (
    bench_server,
    create_meeting,
    header,
    in_child,
    percentile,
    report,
    summary_ms,
    verdict,
)
from bench._gui import Gui, joined_and_loaded, until
from conference_gui.models.resource_model import ResourceRole


def run(rows: int, samples: int, interval_ms: float, toasts: bool) -> list[float]:
    with bench_server() as srv:
        host, _invite = create_meeting(srv.url)
        base = srv.post("/bench/seed", {"sessionId": host.session_id, "count": rows})["revision"]
        gui = Gui()
        try:
            win = gui.open(srv.url, host, toasts=toasts)
            gui.run(joined_and_loaded(win, base), timeout=300)
            dock = win.features["resources"].dock
            dock.show()
            view, proxy, ledger = dock.view, dock.proxy, win.features["resources"].model.ledger
            gui.run(until(lambda: view.isVisible() and proxy.rowCount() == rows))
            shown: dict[int, float] = {}
            real_paint = type(view).paintEvent

            def paint(event: Any) -> None:
                real_paint(view, event)
                now = time.perf_counter()
                rev = ledger.revision
                if rev is None or rev in shown or rev == base or not len(ledger):
                    return
                top = proxy.index(0, 0)
                if top.data(ResourceRole.ID) != ledger[0].id:
                    return
                if view.visualRect(top).intersects(view.viewport().rect()):
                    shown[rev] = now

            view.paintEvent = paint  # type: ignore[method-assign]
            srv.post(
                "/bench/drive",
                {"sessionId": host.session_id, "count": samples, "mode": "paced",
                 "intervalMs": interval_ms, "delayMs": 300},
            )  # fmt: skip
            last = base + samples
            gui.run(until(lambda: last in shown, timeout=samples * 0.2 + 60, what="last row"))
            emits = dict((r, t) for r, t in srv.get("/bench/emits", sessionId=host.session_id))
        finally:
            gui.close()
    return [shown[r] - emits[r] for r in range(base + 1, base + samples + 1) if r in shown]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--samples", type=int, default=300)
    p.add_argument("--interval-ms", type=float, default=25.0)
    p.add_argument("--no-toasts", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        (rows,) = args.rows
        report({"lat": run(rows, args.samples, args.interval_ms, not args.no_toasts)})
        return
    header(
        f"event → visible row, {args.samples} samples per size, one upload every "
        f"{args.interval_ms} ms, toasts {'off' if args.no_toasts else 'on'}"
    )
    for rows in args.rows:
        child = ["--child", "--rows", str(rows), "--samples", str(args.samples)]
        child += ["--interval-ms", str(args.interval_ms)]
        lat = in_child(
            "bench.bench_visible_row", child + (["--no-toasts"] if args.no_toasts else [])
        )["lat"]
        p99 = percentile(lat, 99) * 1000
        print(f"   {rows:>7} rows  {summary_ms(lat)}  target p99 ≤ 16 ms: {verdict(p99 <= 16)}")
        if len(lat) < args.samples:
            print(f"   ({args.samples - len(lat)} revisions were never painted on their own)")


if __name__ == "__main__":
    main()
