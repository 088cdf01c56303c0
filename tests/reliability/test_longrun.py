"""Long run, CI size: model operations and socket events in one GUI process.

The full run (100,000 model operations, 10,000 socket events) is
``bench/reliability_longrun.py``; its figures are in docs/RELIABILITY.md.
Bounds are generous on purpose (other tests share the machine); the bench
reports the measured growth.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from conference_gui.server import ServerThread
from tests.conftest import Loop, Meeting, until

from .conftest import figure
from .longrun import model_phase, socket_phase
from .support import converged, server_state

MODEL_OPS, SOCKET_EVENTS = 20_000, 2_000
#: Python objects that may stay behind after warm-up (caches, interned strings).
OBJECT_BOUND = 20_000
RSS_BOUND_KB = 40 * 1024


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_model_operations_do_not_leak(aloop: Loop) -> None:
    result = aloop.run(model_phase(MODEL_OPS), timeout=280)
    for key, value in result.row().items():
        figure(f"longrun_ci_model_{key}", value)
    assert result.object_growth < OBJECT_BOUND, result.row()
    assert result.rss_growth_kb < RSS_BOUND_KB, result.row()
    assert result.none_drift >= -100, result.row()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_socket_events_do_not_leak(
    aloop: Loop, hooked: ServerThread, hmeeting: Meeting, windows: Any
) -> None:
    win = windows(hmeeting, hmeeting.host)

    def churn(count: int) -> int:
        r = requests.post(
            f"{hooked.url}/api/_test/sessions/{hmeeting.session_id}/churn",
            json={"count": count},
            timeout=120,
        )
        r.raise_for_status()
        return int(r.json()["revision"])

    async def story() -> Any:
        await until(lambda: win.socket.is_ready)
        result = await socket_phase(win, churn, SOCKET_EVENTS, chunk=200)
        truth = server_state(hmeeting)
        await until(lambda: converged(win, truth))
        return result

    result = aloop.run(story(), timeout=280)
    for key, value in result.row().items():
        figure(f"longrun_ci_socket_{key}", value)
    assert result.object_growth < OBJECT_BOUND, result.row()
    assert result.rss_growth_kb < RSS_BOUND_KB, result.row()
    assert result.none_drift >= -100, result.row()
