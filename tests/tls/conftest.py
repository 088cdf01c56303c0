"""TLS beyond loopback: an address that is not loopback, inside the test run's own network.

The whole run is in a private network namespace with only ``lo``
(tests/netns.py). A server that binds a loopback address stays plain HTTP, so
these tests add a veth pair there with an address of their own: nothing they
bind or send can reach this machine's real interfaces.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from conference_gui.server import ServerConfig, ServerThread
from tests import netns
from tests.conftest import require_private_network

#: the test network: a veth pair inside the private namespace (not loopback)
LAN_DEVICE = "cgtls0"
LAN_ADDRESS = "10.231.77.1"


@pytest.fixture(scope="session")
def lan_address() -> str:
    """An address of this (private) network that is not loopback."""
    require_private_network()
    if LAN_DEVICE not in netns.interfaces():
        netns.add_veth_pair(LAN_DEVICE, f"{LAN_ADDRESS}/24")
    # The kernel takes the address at once; check it can be bound before going on.
    with socket.socket() as probe:
        probe.bind((LAN_ADDRESS, 0))
    return LAN_ADDRESS


@pytest.fixture
def lan_server(lan_address: str, tmp_path: Path) -> Iterator[ServerThread]:
    """The real server on the test network's address: HTTPS with its self-signed certificate."""
    srv = ServerThread(ServerConfig(host=lan_address, port=0, data_dir=tmp_path / "server"))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
