"""Load: 200 Socket.IO clients in 4 processes, 1,000 uploads and deletes from 4 uploaders.

    .venv/bin/python -m bench.reliability_load [--clients 200] [--processes 4]
        [--operations 1000] [--uploaders 4] [--gui]

The server is ``conference-server`` in its own process. Each crowd client feeds
the real ``ResourceLedger`` (snapshot + events + refetch on a gap) and records
every event revision it receives. Pass: every client's final list equals the
server's (0 drift), no duplicate rows, no duplicate or missing revision on the
wire for any client. ``--gui`` adds two real meeting windows (offscreen) in this
process, which must converge too. Loopback only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench._common import Member, header, verdict
from tests.reliability.loadgen import LoadReport, create_meeting, join, run_load, server_list
from tests.reliability.procs import ServerProcess


def print_report(report: LoadReport) -> None:
    for key, value in asdict(report).items():
        if key != "failures":
            print(f"   {key} = {value}")
    print(f"   failures = {len(report.failures)} {report.failures[:3]}")


def with_windows(url: str, args: argparse.Namespace) -> tuple[LoadReport, dict[str, Any]]:
    from bench._gui import Gui, until
    from tests.reliability.support import converged, no_duplicates

    meeting = create_meeting(url)
    sid, invite = meeting["session"]["id"], meeting["invite"]
    bob = join(url, sid, invite, "Bob")
    gui = Gui()
    wins = [
        gui.open(url, Member(sid, meeting["userId"], meeting["token"], "Host")),
        gui.open(url, Member(sid, bob["userId"], bob["token"], "Bob")),
    ]
    extra: dict[str, Any] = {}

    async def story() -> LoadReport:
        await until(lambda: all(w.socket.is_ready for w in wins), what="windows connected")
        report = await asyncio.to_thread(
            run_load,
            url,
            clients=args.clients,
            processes=args.processes,
            operations=args.operations,
            uploaders=args.uploaders,
            meeting=meeting,
        )
        truth = await asyncio.to_thread(server_list, url, sid, meeting["token"])
        extra["window_revisions_when_crowd_done"] = [
            w.features["resources"].model.ledger.revision for w in wins
        ]
        started = time.monotonic()
        await until(
            lambda: all(converged(w, truth) for w in wins), timeout=120, what="windows converged"
        )
        extra["windows_settle_s"] = round(time.monotonic() - started, 3)
        extra["windows_duplicate_rows"] = sum(0 if no_duplicates(w) else 1 for w in wins)
        extra["windows_fetches"] = [w.features["resources"].controller.fetch_count for w in wins]
        return report

    try:
        return gui.run(story(), timeout=900), extra
    finally:
        gui.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--operations", type=int, default=1000)
    p.add_argument("--uploaders", type=int, default=4)
    p.add_argument("--gui", action="store_true", help="two real windows among the clients")
    args = p.parse_args()
    if not (1 <= args.clients <= 500 and 1 <= args.operations <= 20_000):
        p.error("stay within 500 clients and 20,000 operations")
    header(
        f"reliability load: {args.clients} clients / {args.processes} processes, "
        f"{args.operations} ops from {args.uploaders} uploaders"
        f"{' + 2 GUI windows' if args.gui else ''}"
    )
    server = ServerProcess(Path(tempfile.mkdtemp(prefix="reliability-load-")) / "data")
    try:
        started = time.monotonic()
        if args.gui:
            report, extra = with_windows(server.url, args)
        else:
            report, extra = (
                run_load(
                    server.url,
                    clients=args.clients,
                    processes=args.processes,
                    operations=args.operations,
                    uploaders=args.uploaders,
                ),
                {},
            )
        wall = time.monotonic() - started
    finally:
        server.stop()
    print_report(report)
    for key, value in extra.items():
        print(f"   {key} = {value}")
    print(f"   wall_s = {wall:.1f}")
    ok = report.ok() and not extra.get("windows_duplicate_rows")
    print(f"   0 drift, 0 duplicate rows, gapless per client: {verdict(ok)}")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
