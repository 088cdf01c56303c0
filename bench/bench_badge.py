"""Event → badge repaint, against a bare python-socketio client in the same run.

    .venv/bin/python -m bench.bench_badge [--samples 1000] [--interval-ms 25]

Three processes: the bench server (real app, emit times recorded right before
``sio.emit``), one bare python-socketio client, and this one with the real
meeting window (offscreen). The server uploads one file every ``interval``
through ``ResourceService.add``; for each revision R we take

* GUI: the first paint event of ``resourcesButton`` (event filter) whose
  ``badgeCount`` is R (the session starts empty, so the count equals R);
* bare: the time its synchronous ``resource-uploaded`` handler ran;

minus the server's emit time of R. Target: GUI p50 ≤ 1 ms, p99 ≤ 5 ms and
p50 ≤ 2× the bare client's p50. Uploads are 25 ms apart so that each event is
a lone one (the controller applies events at most once per 16 ms frame; an
event closer than that to the previous one waits for the frame). Toasts (one
notification per file someone else shares) are on, as by default;
``--no-toasts`` measures without them.
"""

from __future__ import annotations

import argparse
import statistics

from bench._common import bench_server, create_meeting, header, percentile, summary_ms, verdict
from bench._gui import BareClients, Gui, PaintHook, joined_and_loaded, until


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--interval-ms", type=float, default=25.0)
    p.add_argument("--no-toasts", action="store_true")
    args = p.parse_args()
    header(
        f"event → badge repaint, {args.samples} samples, one upload every {args.interval_ms} ms, "
        f"toasts {'off' if args.no_toasts else 'on'}"
    )
    n = args.samples
    with bench_server() as srv:
        host, invite = create_meeting(srv.url)
        bare = BareClients(srv.url, host.session_id, invite, 1, n, timeout=n * 0.1 + 60)
        gui = Gui()
        try:
            win = gui.open(srv.url, host, toasts=not args.no_toasts)
            gui.run(joined_and_loaded(win, 0))
            button = win.features["resources"].button
            painted: dict[int, float] = {}

            def on_paint(now: float) -> None:
                painted.setdefault(button.badgeCount(), now)

            PaintHook(button, on_paint)
            srv.post(
                "/bench/drive",
                {"sessionId": host.session_id, "count": n, "mode": "paced",
                 "intervalMs": args.interval_ms, "delayMs": 200},
            )  # fmt: skip
            gui.run(until(lambda: n in painted, timeout=n * 0.1 + 60, what="last badge paint"))
            emits = dict((r, t) for r, t in srv.get("/bench/emits", sessionId=host.session_id))
        finally:
            gui.close()
        received = dict(bare.results()[0])

    gui_lat = [painted[r] - emits[r] for r in range(1, n + 1) if r in painted]
    bare_lat = [received[r] - emits[r] for r in range(1, n + 1) if r in received]
    print(f"   badge repaint  {summary_ms(gui_lat)}")
    print(f"   bare client    {summary_ms(bare_lat)}")
    missing = n - len(gui_lat)
    g50, g99 = statistics.median(gui_lat) * 1000, percentile(gui_lat, 99) * 1000
    b50 = statistics.median(bare_lat) * 1000
    ratio = g50 / b50
    print(f"   missing badge paints: {missing}; ratio p50 gui/bare = {ratio:.2f}")
    print(
        f"   target p50 ≤ 1 ms: {verdict(g50 <= 1)} · p99 ≤ 5 ms: {verdict(g99 <= 5)} · "
        f"p50 ≤ 2× bare: {verdict(ratio <= 2)}"
    )


if __name__ == "__main__":
    main()
