"""Fixtures for the call engine's tests: the private network, people, leak checks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import require_private_network

from .support import Party, RawPeer, Switchboard


@pytest.fixture(autouse=True)
def private_network() -> None:
    """Media goes to loopback only: these tests refuse to run outside the namespace."""
    require_private_network()


@pytest.fixture
def no_leaks() -> Iterator[list[threading.Thread]]:
    """Fails the test if a thread it started is still running at its end."""
    before = set(threading.enumerate())
    yield list(before)
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left running: {[t.name for t in left]}"


@pytest.fixture
def board() -> Switchboard:
    return Switchboard()


@pytest.fixture
def people(board: Switchboard, no_leaks: Any) -> Iterator[Callable[..., Party]]:
    """Make participants with ``people("ann", colour=RED)``; all are stopped after the test."""
    made: list[Party] = []

    def make(pid: str, **kw: Any) -> Party:
        party = Party(board, pid, **kw)
        made.append(party)
        return party

    yield make
    for party in made:
        party.stop()


@pytest.fixture
def raw_peers(board: Switchboard, no_leaks: Any) -> Iterator[Callable[..., RawPeer]]:
    made: list[RawPeer] = []

    def make(pid: str, **kw: Any) -> RawPeer:
        peer = RawPeer(board, pid, **kw)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()
