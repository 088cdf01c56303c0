"""Fixtures for the reliability suite: servers with test hooks, server processes to kill.

Figures a test measures are printed as ``FIGURE name = value`` (run with ``-s``)
and, when ``RELIABILITY_FIGURES`` names a file, appended to it as JSON lines;
``docs/RELIABILITY.md`` quotes them.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conference_gui.server import ServerConfig, ServerThread
from tests.conftest import Meeting

from .procs import ServerProcess

#: Small, so that over-size uploads are cheap to send.
MAX_UPLOAD_MB = 1


def figure(name: str, value: Any, unit: str = "") -> None:
    """Record a measured figure for docs/RELIABILITY.md."""
    line = f"FIGURE {name} = {value}{(' ' + unit) if unit else ''}"
    print(line, flush=True)
    target = os.environ.get("RELIABILITY_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"name": name, "value": value, "unit": unit}) + "\n")


class Hooks:
    """The test-hook routes of a server (``test_hooks=True``)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _post(self, path: str, **kw: Any) -> Any:
        r = requests.post(f"{self.url}/api/_test/{path}", timeout=10, **kw)
        r.raise_for_status()
        return r.json()

    def silent_upload(self, session_id: str, name: str = "silent.txt") -> dict[str, Any]:
        return self._post(f"sessions/{session_id}/silent-upload", json={"name": name})  # type: ignore[no-any-return]

    def silent_delete(self, session_id: str, resource_id: str) -> dict[str, Any]:
        return self._post(
            f"sessions/{session_id}/silent-delete",  # type: ignore[no-any-return]
            json={"resourceId": resource_id},
        )

    def emit(self, session_id: str, event: str, *args: Any) -> None:
        self._post(f"sessions/{session_id}/emit", json={"event": event, "args": list(args)})

    def drop(self, sid: str) -> bool:
        return bool(self._post("drop-connections", params={"sid": sid})["ok"])

    def connections(self, session_id: str | None = None) -> int:
        params = {"sessionId": session_id} if session_id else {}
        r = requests.get(f"{self.url}/api/_test/connections", params=params, timeout=10)
        r.raise_for_status()
        return int(r.json()["count"])


@pytest.fixture
def hooked(tmp_path: Path) -> Iterator[ServerThread]:
    """The real server in a thread, with test hooks and a 1 MiB upload limit."""
    gc.collect()  # see tests/server/conftest.py: Qt garbage must not die on the server thread
    srv = ServerThread(
        ServerConfig(
            port=0, data_dir=tmp_path / "server-data", max_upload_mb=MAX_UPLOAD_MB, test_hooks=True
        )
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def hooks(hooked: ServerThread) -> Hooks:
    return Hooks(hooked.url)


@pytest.fixture
def hmeeting(hooked: ServerThread) -> Meeting:
    return Meeting(hooked.url)


@pytest.fixture
def server_processes() -> Iterator[list[ServerProcess]]:
    """Start servers with ``ServerProcess(...)`` and append them here: all die at teardown."""
    started: list[ServerProcess] = []
    yield started
    for proc in started:
        proc.kill()
