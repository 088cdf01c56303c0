"""A private network with a real Janus on it, and a server that brokers it.

Janus (libnice) never gathers loopback candidates, so these tests add a veth
pair inside the test run's private network namespace (tests/netns.py) with
addresses of their own, 10.201.0.1/24 and 10.201.0.2/24; Janus listens and
gathers only on 10.201.0.1, the windows' ICE finds both addresses (their
default policy takes every interface of the namespace) and nothing can leave
the namespace.
"""

from __future__ import annotations

import contextlib
import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conference_gui.server import ServerConfig, ServerThread
from tests import netns
from tests.conftest import Meeting, require_private_network

from .janus_proc import JanusProcess, available, start_janus

JANUS_ADDRESS = "10.201.0.1"
VETH = "sfu0"
_ports = itertools.count(18188)


def ensure_network() -> bool:
    """The veth pair (only inside the private namespace); True if this call made it."""
    require_private_network()
    if VETH in netns.interfaces():
        return False
    netns.add_veth_pair(VETH, f"{JANUS_ADDRESS}/24", peer_address="10.201.0.2/24")
    return True


def remove_network() -> None:
    """Take the veth pair away again: other tests count on a namespace with only ``lo``
    (tests/media checks what aioice finds by itself there)."""
    if netns.is_private() and VETH in netns.interfaces():
        subprocess.run(["ip", "link", "del", VETH], check=True)


def require_janus() -> None:
    if not available():
        pytest.fail("janus is not installed (.ci/services.sh installs Debian's janus)")


@pytest.fixture
def janus(tmp_path: Path) -> Iterator[JanusProcess]:
    require_janus()
    made = ensure_network()
    try:
        port = next(_ports)
        low = 20000 + (port - 18188) * 200 % 20000
        process = start_janus(tmp_path / "janus", JANUS_ADDRESS, port=port,
                              rtp_ports=(low, low + 199))
        try:
            yield process
        finally:
            process.stop()
    finally:
        if made:
            remove_network()


@pytest.fixture
def sfu_server(tmp_path: Path, janus: JanusProcess) -> Iterator[ServerThread]:
    """The reference server with ``--janus-url``; back to mesh 1 s after the third left."""
    srv = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "server-data",
                                    janus_urls=(janus.url,), sfu_mesh_delay=1.0))
    srv.start()
    try:
        yield srv
    finally:
        with contextlib.suppress(Exception):
            srv.stop()


@pytest.fixture
def sfu_meeting(sfu_server: ServerThread) -> Meeting:
    return Meeting(sfu_server.url)
