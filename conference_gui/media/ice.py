"""Which local addresses ICE may use: the ONE place where loopback is allowed.

Why this module exists
----------------------
aiortc's ICE agent, aioice, gathers host candidates from
``aioice.ice.get_host_addresses``, and that function deliberately skips
``127.0.0.1`` and ``::1``. On a laptop with no network (no cable, no Wi-Fi),
or in a test's network namespace that has only ``lo``, it therefore finds no
address at all and two clients on the same machine can never connect — the
SPEC says they must ("calls connect even with no network at all").

``Connection.gather_candidates`` looks the function up in its module's
globals at call time, so :func:`install` replaces that module attribute with
:func:`_host_addresses`, which asks the policy of the *current context*:

* an :class:`IcePolicy` is held in a :class:`contextvars.ContextVar`; the call
  engine sets it in its own thread before its loop starts (:func:`use_policy`),
  so every task of that loop (aiortc's included, since tasks copy the context
  they are created in) sees it, and two engines in one process may differ
  (e.g. one restricted to loopback in a test, one not);
* where no policy is set (any other aiortc user in the process) aioice's own
  behaviour is kept exactly.

The policy adds loopback addresses to what aioice finds and optionally keeps
only addresses inside an allow-list of networks. It also carries the STUN/TURN
servers: aiortc's default is Google's public STUN server, which would send
traffic off the machine; the engine's default is none.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import aioice.ice

log = logging.getLogger(__name__)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK_V4 = "127.0.0.1"
LOOPBACK_V6 = "::1"


@dataclass(frozen=True, slots=True)
class IcePolicy:
    """Where this engine's ICE may gather host candidates, and which servers it uses.

    ``loopback``: offer ``127.0.0.1`` (and ``::1`` with ``ipv6_loopback``) as host
    candidates, so calls connect on a machine without a network. ``allow``:
    when set, only addresses inside these networks are kept (tests use
    :meth:`loopback_only`). ``ice_servers``: STUN/TURN URLs handed to aiortc
    (``"stun:host:port"``); empty means host candidates only, never aiortc's
    default public STUN server.
    """

    loopback: bool = True
    ipv6_loopback: bool = False
    allow: tuple[IpNetwork, ...] | None = None
    ice_servers: tuple[str, ...] = field(default=())

    @classmethod
    def loopback_only(cls) -> IcePolicy:
        """Only ``127.0.0.0/8``: what tests and benches on one machine use."""
        return cls(loopback=True, allow=(ipaddress.ip_network("127.0.0.0/8"),))

    def select(self, found: list[str], use_ipv4: bool, use_ipv6: bool) -> list[str]:
        """The addresses to gather on, from those aioice ``found`` on the interfaces."""
        addresses = list(found)
        if self.loopback and use_ipv4 and LOOPBACK_V4 not in addresses:
            addresses.append(LOOPBACK_V4)
        if self.loopback and self.ipv6_loopback and use_ipv6 and LOOPBACK_V6 not in addresses:
            addresses.append(LOOPBACK_V6)
        if self.allow is not None:
            networks = self.allow
            addresses = [a for a in addresses if _inside(a, networks)]
        return addresses


def _inside(address: str, networks: tuple[IpNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in networks)


_POLICY: contextvars.ContextVar[IcePolicy | None] = contextvars.ContextVar(
    "conference_gui_ice_policy", default=None
)
_install_lock = threading.Lock()
_original: Callable[[bool, bool], list[str]] | None = None


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """Stands in for ``aioice.ice.get_host_addresses`` (same signature)."""
    original = _original
    assert original is not None, "installed without an original"
    found = original(use_ipv4, use_ipv6)
    policy = _POLICY.get()
    if policy is None:
        return found
    chosen = policy.select(found, use_ipv4, use_ipv6)
    log.debug("ICE host addresses: %s (found %s)", chosen, found)
    return chosen


def install() -> None:
    """Route aioice's host-address lookup through the context's policy. Idempotent,
    thread-safe; without a policy set, aioice behaves exactly as before."""
    global _original
    with _install_lock:
        current = aioice.ice.get_host_addresses
        if current is _host_addresses:
            return
        _original = current
        aioice.ice.get_host_addresses = _host_addresses


def installed() -> bool:
    return aioice.ice.get_host_addresses is _host_addresses


def use_policy(policy: IcePolicy | None) -> None:
    """Set the policy of the current context (the engine thread, before its loop
    starts), installing the hook if needed."""
    install()
    _POLICY.set(policy)


def current_policy() -> IcePolicy | None:
    return _POLICY.get()


@contextmanager
def policy(policy: IcePolicy | None) -> Iterator[None]:
    """Use ``policy`` for the ``with`` block (for code that makes its own aiortc
    connections in the current context, such as tests and benches)."""
    install()
    token = _POLICY.set(policy)
    try:
        yield
    finally:
        _POLICY.reset(token)
