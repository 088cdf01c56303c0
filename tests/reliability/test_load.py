"""Load, at CI size: a crowd of socket clients in two processes and two real windows,
while four participants upload and delete concurrently.

The full size (200 clients, 1,000 operations) runs as ``bench/reliability_load.py``;
its figures are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Loop, Meeting, until

from .conftest import Hooks, figure
from .loadgen import run_load, server_list
from .procs import ServerProcess
from .support import converged, no_duplicates, view_ids

CLIENTS, PROCESSES, OPERATIONS, UPLOADERS = 40, 2, 300, 4


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_crowd_and_two_windows_converge_under_churn(
    aloop: Loop, windows: Any, tmp_path: Path, server_processes: list[ServerProcess]
) -> None:
    proc = ServerProcess(tmp_path / "data")
    server_processes.append(proc)
    hooks = Hooks(proc.url)
    meeting = Meeting(proc.url)
    ann, bob = windows(meeting, meeting.host), windows(meeting, meeting.join("Bob"))
    shared = {
        "session": {"id": meeting.session_id},
        "invite": meeting.invite,
        "token": meeting.host.token,
    }

    async def story() -> None:
        await until(lambda: ann.socket.is_ready and bob.socket.is_ready)
        report = await asyncio.to_thread(
            run_load,
            proc.url,
            clients=CLIENTS,
            processes=PROCESSES,
            operations=OPERATIONS,
            uploaders=UPLOADERS,
            meeting=shared,
        )
        truth = await asyncio.to_thread(
            server_list, proc.url, meeting.session_id, meeting.host.token
        )
        settled = time.monotonic()
        figure(
            "load_ci_window_revisions_when_crowd_done",
            [
                ann.features["resources"].model.ledger.revision,
                bob.features["resources"].model.ledger.revision,
            ],
        )
        await until(
            lambda: converged(ann, truth) and converged(bob, truth),
            timeout=60,
            what="both windows converge",
        )
        figure("load_ci_windows_settle_s", round(time.monotonic() - settled, 3), "s")
        assert no_duplicates(ann) and no_duplicates(bob)
        assert sorted(view_ids(ann)) == sorted(view_ids(bob)) == sorted(truth[1])
        for key, value in asdict(report).items():
            figure(f"load_ci_{key}", value)
        assert report.ok(), report
        assert report.clients == CLIENTS and report.final_revision == OPERATIONS
        assert report.uploads + report.deletes == OPERATIONS
        assert hooks.connections(meeting.session_id) == 2

    aloop.run(story(), timeout=280)
