"""Initial load: join a session that already lists 10k / 100k resources.

    .venv/bin/python -m bench.bench_initial_load [--rows 10000 100000] [--runs 3]

Each run is a fresh process and a fresh window (``create_window``) joining a
seeded session, Resources dock shown. Marks (``time.perf_counter()``):

* ``arrived``: the HTTP answer of ``GET …/resources`` has been read (the
  window's ApiClient session is wrapped to note when ``request`` returns, on
  its worker thread, before the JSON is decoded);
* ``loaded``: the model was reset with the snapshot (``modelReset``);
* ``painted``: the list finished a paint showing rows;
* ``usable``: the first tick of a 0 ms timer armed at that paint, i.e. the
  GUI thread takes input again.

Target (10k): ``usable - arrived`` ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any

import requests
from PySide6.QtCore import QTimer

from bench._common import bench_server, create_meeting, header, in_child, report, verdict
from bench._gui import Gui, until


def run(rows: int) -> dict[str, float]:
    with bench_server() as srv:
        host, _invite = create_meeting(srv.url)
        revision = srv.post("/bench/seed", {"sessionId": host.session_id, "count": rows})[
            "revision"
        ]
        gui = Gui()
        marks: dict[str, float] = {}
        try:
            t_open = time.perf_counter()
            win = gui.open(srv.url, host)
            local = threading.local()

            class TimedSession(requests.Session):
                def request(self, method: str | bytes, url: str | bytes, *a: Any, **kw: Any) -> Any:
                    start = time.perf_counter()
                    resp = super().request(method, url, *a, **kw)
                    if str(url).endswith("/resources") and str(method) == "GET":
                        marks.setdefault("requested", start)
                        marks.setdefault("arrived", time.perf_counter())
                    return resp

            def session() -> requests.Session:
                s = getattr(local, "s", None)
                if s is None:
                    s = local.s = TimedSession()
                return s

            win.api._session = session  # type: ignore[method-assign]
            model, dock = win.features["resources"].model, win.features["resources"].dock
            dock.show()
            model.modelReset.connect(
                lambda: (
                    marks.setdefault("loaded", time.perf_counter()) if len(model.ledger) else None
                )
            )
            view = dock.view
            real_paint = type(view).paintEvent

            def usable() -> None:
                marks.setdefault("usable", time.perf_counter())

            def paint(event: Any) -> None:
                real_paint(view, event)
                if dock.proxy.rowCount() and "painted" not in marks:
                    marks["painted"] = time.perf_counter()
                    QTimer.singleShot(0, usable)

            view.paintEvent = paint  # type: ignore[method-assign]
            gui.run(until(lambda: "usable" in marks, timeout=300, what="list painted"))
            assert model.ledger.revision == revision and dock.proxy.rowCount() == rows
        finally:
            gui.close()
    return {k: v - t_open for k, v in marks.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        report(run(args.rows[0]))
        return
    header(f"initial load, {args.runs} runs per size (ms from create_window)")
    for rows in args.rows:
        runs = [
            in_child("bench.bench_initial_load", ["--child", "--rows", str(rows)])
            for _ in range(args.runs)
        ]
        for r in runs:
            print(
                "   {:>7} rows  request {:8.1f}  arrived {:8.1f}  loaded {:8.1f}  painted {:8.1f}"
                "  usable {:8.1f}   usable-arrived {:8.1f}".format(
                    rows,
                    *(r[k] * 1000 for k in ("requested", "arrived", "loaded", "painted", "usable")),
                    (r["usable"] - r["arrived"]) * 1000,
                ),
                flush=True,
            )
        med = statistics.median((r["usable"] - r["arrived"]) * 1000 for r in runs)
        line = f"   {rows:>7} rows  median usable − arrived = {med:.1f} ms"
        if rows == 10_000:
            line += f"  target ≤ 200 ms: {verdict(med <= 200)}"
        print(line)


if __name__ == "__main__":
    main()
