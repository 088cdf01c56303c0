"""Long run in one GUI process: 100,000 model operations, then 10,000 socket events.

    .venv/bin/python -m bench.reliability_longrun [--model-ops 100000]
        [--socket-events 10000] [--settle 50]

Phase 1: a ResourceListModel with a QListView and the badge button attached
takes random uploads, deletes, duplicates and gap+snapshot cycles, and every
role is read back through Qt. Phase 2: a real meeting window receives real
resource events from ``conference-server`` (its ``churn`` test hook: uploads and
deletes through the resource service), in chunks of 500, catching up after each.
Then the process idles ``--settle`` seconds (longer than engine.io's 45 s read
timeout, so timer handles qasync parks are released) and is measured again.

Bounds (after a 10 % warm-up): Python objects +20,000, RSS +40 MiB, and
``sys.getrefcount(None)`` must not fall (the PySide6 6.12.0 bug class).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

import requests

from bench._common import Member, header, verdict
from tests.reliability.loadgen import create_meeting, server_list
from tests.reliability.longrun import PhaseResult, Probe, model_phase, socket_phase
from tests.reliability.procs import ServerProcess

OBJECT_BOUND, RSS_BOUND_KB = 20_000, 40 * 1024


def show(name: str, result: PhaseResult) -> bool:
    print(f"-- {name}")
    for key, value in result.row().items():
        print(f"   {key} = {value}")
    ok = (
        result.object_growth < OBJECT_BOUND
        and result.rss_growth_kb < RSS_BOUND_KB
        and result.none_drift >= -100
    )
    print(f"   within bounds: {verdict(ok)}")
    return ok


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-ops", type=int, default=100_000)
    p.add_argument("--socket-events", type=int, default=10_000)
    p.add_argument("--settle", type=float, default=50.0)
    args = p.parse_args()
    header(
        f"reliability long run: {args.model_ops} model operations, "
        f"{args.socket_events} socket events"
    )
    from bench._gui import Gui, until
    from tests.reliability.support import converged

    server = ServerProcess(Path(tempfile.mkdtemp(prefix="reliability-longrun-")) / "data")
    gui = Gui()
    try:
        model = gui.run(model_phase(args.model_ops), timeout=1800)
        ok = show("model operations", model)
        meeting = create_meeting(server.url)
        sid, token = meeting["session"]["id"], meeting["token"]
        win = gui.open(server.url, Member(sid, meeting["userId"], token, "Host"))

        def churn(count: int) -> int:
            r = requests.post(
                f"{server.url}/api/_test/sessions/{sid}/churn", json={"count": count}, timeout=300
            )
            r.raise_for_status()
            return int(r.json()["revision"])

        async def socket_run() -> tuple[PhaseResult, Probe]:
            await until(lambda: win.socket.is_ready, what="window connected")
            result = await socket_phase(win, churn, args.socket_events, chunk=500)
            truth = await asyncio.to_thread(server_list, server.url, sid, token)
            await until(lambda: converged(win, truth), what="window converged")
            await asyncio.sleep(args.settle)
            return result, await Probe.take()

        sockets, settled = gui.run(socket_run(), timeout=3600)
        ok = show("socket events", sockets) and ok
        print(f"-- after {args.settle:.0f} s idle")
        print(
            f"   objects = {settled.objects} (raw growth since warm-up "
            f"{settled.objects - sockets.warm.objects}), parked handles = {settled.parked}"
        )
        print(f"   rss_kb = {settled.rss_kb} (growth {settled.rss_kb - sockets.warm.rss_kb})")
        print(f"   none_refcount drift = {settled.none_refs - sockets.warm.none_refs}")
        settled_ok = settled.objects - sockets.warm.objects < OBJECT_BOUND
        print(f"   within bounds: {verdict(settled_ok)}")
        ok = ok and settled_ok
    finally:
        gui.close()
        server.stop()
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
