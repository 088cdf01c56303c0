"""A private network for the test run: a network namespace with only ``lo``.

Calls (WebRTC) and load tests send UDP and TCP to whatever addresses ICE
finds. The rule for this project is that test traffic only ever goes to
loopback or to test hosts the tests make themselves, so the whole test
session enters a fresh network namespace before anything starts a thread:
``unshare(CLONE_NEWNET)`` and ``lo`` up, nothing else. Threads and child
processes started afterwards (servers, Janus, Chromium, pytest children)
inherit it, so nothing they do can reach this machine's real interfaces.

Entering needs root (CI runs as root). Elsewhere :func:`isolate` reports why
it could not, and the call tests refuse to run (see ``require_private_network``).
Tests that need a non-loopback address (Janus never gathers loopback) add a
veth pair inside this namespace with :func:`add_veth_pair`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import socket
import subprocess
import threading

CLONE_NEWNET = 0x40000000
_ENV = "CONFERENCE_GUI_TEST_NETNS"


def is_private() -> bool:
    """True when this process runs in the private test namespace (set by :func:`isolate`)."""
    return os.environ.get(_ENV) == "private"


def interfaces() -> list[str]:
    """Names of the network interfaces this process can see (of its own namespace:
    ``/sys/class/net`` would show the namespace that mounted ``/sys``)."""
    return sorted(name for _, name in socket.if_nameindex())


def isolate() -> str:
    """Enter a fresh network namespace with only ``lo`` up; returns a one-line report.

    Safe to call twice (a child pytest inherits the namespace and the marker).
    Must run before any other thread exists: ``unshare`` moves only the
    calling thread, and a thread started earlier would stay outside.
    """
    if is_private():
        return "private network namespace (inherited): " + ", ".join(interfaces())
    if os.environ.get(_ENV) == "off":
        return "network namespace: disabled by CONFERENCE_GUI_TEST_NETNS=off"
    if threading.active_count() != 1:
        return "network namespace: not entered, other threads already run"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespace: not entered (needs root)"
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return f"network namespace: unshare failed ({os.strerror(ctypes.get_errno())})"
    ip = shutil.which("ip")
    if ip is None:
        return "network namespace: entered, but 'ip' is missing so lo is down"
    subprocess.run([ip, "link", "set", "lo", "up"], check=True)
    os.environ[_ENV] = "private"
    return "private network namespace: " + ", ".join(interfaces())


def add_veth_pair(
    name: str, address: str, peer_name: str | None = None, peer_address: str | None = None
) -> None:
    """Add a veth pair inside the private namespace and give it addresses (``10.201.0.1/24``).

    Only inside the private namespace: outside it this would change the
    machine's real network configuration.
    """
    if not is_private():
        raise RuntimeError("add_veth_pair only runs inside the private test namespace")
    peer = peer_name or f"{name}p"
    run = ["ip"]
    subprocess.run([*run, "link", "add", name, "type", "veth", "peer", "name", peer], check=True)
    subprocess.run([*run, "addr", "add", address, "dev", name], check=True)
    if peer_address:
        subprocess.run([*run, "addr", "add", peer_address, "dev", peer], check=True)
    subprocess.run([*run, "link", "set", name, "up"], check=True)
    subprocess.run([*run, "link", "set", peer, "up"], check=True)
