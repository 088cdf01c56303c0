"""Fixtures for the server suite: the real server on a free loopback port.

The fixture is called ``srv`` so it never shadows the client suite's ``server``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from conference_gui.server import ServerConfig, ServerThread

from .support import Api

#: Small enough that over-size uploads are quick to send.
MAX_UPLOAD_MB = 1


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def srv(data_dir: Path) -> Iterator[ServerThread]:
    # Earlier (Qt) tests may leave garbage; if the cyclic GC happened to run on
    # the server thread, Qt would warn "Timers cannot be stopped from another
    # thread" and fail the test. Collect it here, on the main thread.
    gc.collect()
    server = ServerThread(ServerConfig(port=0, data_dir=data_dir, max_upload_mb=MAX_UPLOAD_MB))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(srv: ServerThread) -> Api:
    return Api(srv.url)
