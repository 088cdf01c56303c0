"""One bench participant for ``bench/sfu_calls.py``: the real meeting window (offscreen,
fake camera and tone), reporting once a second on stdout as JSON lines:

``{"t", "mode", "uplink_bps", "mesh", "publishing", "frames": {pid: n},
"gap": {pid: longest seconds without a new frame since the last line}}``

Run by the bench inside its private network namespace; ends on SIGTERM or stdin EOF.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CONFERENCE_GUI_FAKE_MEDIA"] = "1"

from PySide6.QtCore import QTimer

from bench._common import Member
from bench._gui import Gui


def main() -> None:
    url, session_id, user_id, token, name = sys.argv[1:6]
    if os.environ.get("BENCH_SFU_LOG"):  # sfu_calls.py --logs: the engine's story on stderr
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(created).3f %(threadName)s %(name)s: %(message)s")
    gui = Gui()
    win = gui.open(url, Member(session_id, user_id, token, name), toasts=False)
    call = win.features["call"]
    grid, engine = call.grid, call.service.engine
    last: dict[str, tuple[int, float]] = {}
    longest: dict[str, float] = {}

    def sample() -> None:
        now = time.monotonic()
        for tile in grid.tiles():
            pid = tile.property("participantId")
            if tile.property("isSelf") or tile.property("source") != "camera":
                continue
            count = int(tile.property("framesRendered"))
            seen = last.get(pid)
            if seen is None or count != seen[0]:
                if seen is not None:
                    longest[pid] = max(longest.get(pid, 0.0), now - seen[1])
                last[pid] = (count, now)
            else:
                longest[pid] = max(longest.get(pid, 0.0), now - seen[1])

    def report() -> None:
        stats = engine.all_stats()
        uplink = sum(s.bitrate_out for s in stats.values() if s.state == "connected")
        publisher = engine.sfu_publisher_stats()
        summary = engine.sfu_summary()
        publishing = bool(summary and summary.publishing)
        if publisher is not None and publishing:
            uplink += publisher.bitrate_out
        line = {
            "t": time.time(), "mode": grid.property("callMode"), "uplink_bps": uplink,
            "mesh": sum(1 for pid, state in call.controller._peer_states.items()
                        if state == "connected"),
            "publishing": publishing,
            "frames": {pid: n for pid, (n, _) in last.items()},
            "gap": dict(longest),
        }
        longest.clear()
        print(json.dumps(line), flush=True)

    sampler, reporter = QTimer(), QTimer()
    sampler.setInterval(10)
    sampler.timeout.connect(sample)
    reporter.setInterval(1000)
    reporter.timeout.connect(report)
    sampler.start()
    reporter.start()

    stop = asyncio.Event()
    gui.loop.add_signal_handler(signal.SIGTERM, stop.set)
    gui.loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)
    gui.run(stop.wait(), timeout=3600)
    sampler.stop()
    reporter.stop()
    gui.close()


if __name__ == "__main__":
    main()
