"""A :class:`ServerTrust` as the two network clients need it, and what a refusal means.

The window talks to its server over two clients: ``requests`` (REST, through
urllib3) and python-socketio (the websocket, through aiohttp). Both check the
server's certificate the same way (``domain/trust.py``):

- pinned: urllib3's ``assert_fingerprint`` and aiohttp's ``Fingerprint``. Each
  compares the SHA-256 of the certificate the server presents right after the
  TLS handshake, before a byte of the request (token, invite code, file) is
  written; chain, name and dates are not checked — the pin says it all.
- verified: one :class:`ssl.SSLContext` with the system's CAs plus ``ca_file``,
  host name checked (``requests`` adds its own bundle to that context too).

A refused certificate becomes the error code ``certificate_mismatch`` (not the
pinned one) or ``certificate_untrusted`` (no CA vouches for it, wrong name,
expired); ``domain/refusals.py`` says both in words. Retrying cannot help, so
the socket does not keep trying.
"""

from __future__ import annotations

import contextlib
import functools
import re
import ssl
from collections.abc import Iterator
from typing import Any

import aiohttp

from conference_gui.domain.refusals import explain, sentence
from conference_gui.domain.trust import ServerTrust, spaced

MISMATCH = "certificate_mismatch"
UNTRUSTED = "certificate_untrusted"
CODES = (MISMATCH, UNTRUSTED)


def is_https(url: str) -> bool:
    return url.lower().startswith("https://")


@functools.lru_cache(maxsize=8)
def verifying_context(trust: ServerTrust) -> ssl.SSLContext:
    """The system's CAs and certifi's (what ``requests`` trusts by default), plus
    ``trust.ca_file``; chain, dates and host name are checked. One context for REST
    and the socket, so both trust the same."""
    ctx = ssl.create_default_context()
    with contextlib.suppress(ImportError, OSError):
        import certifi

        ctx.load_verify_locations(cafile=certifi.where())
    if trust.ca_file is not None:
        ctx.load_verify_locations(cafile=str(trust.ca_file))
    return ctx


def websocket_ssl(url: str, trust: ServerTrust | None) -> dict[str, Any]:
    """Keyword arguments for aiohttp's ``ws_connect`` (python-socketio's
    ``websocket_extra_options``): the pin, or the verifying context."""
    if not is_https(url):
        return {}
    trust = trust or ServerTrust()
    if trust.fingerprint is not None:
        return {"ssl": aiohttp.Fingerprint(bytes.fromhex(trust.fingerprint))}
    return {"ssl": verifying_context(trust)}


def pool_settings(trust: ServerTrust | None) -> dict[str, Any]:
    """urllib3 connection-pool settings for an https pool (see ``http_client``). No CA
    files of requests' own (``ca_certs``): the context has the trust anchors."""
    trust = trust or ServerTrust()
    if trust.fingerprint is not None:
        # CERT_NONE: no chain, name or date checks; the fingerprint check stays
        # (urllib3 then counts the connection as verified).
        return {"cert_reqs": "CERT_NONE", "assert_fingerprint": trust.fingerprint,
                "assert_hostname": False, "ca_certs": None, "ca_cert_dir": None}
    return {"cert_reqs": "CERT_REQUIRED", "ssl_context": verifying_context(trust),
            "ca_certs": None, "ca_cert_dir": None}


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and what caused it: ``__cause__``/``__context__``, exceptions among its
    arguments (requests wraps urllib3's that way) and urllib3's ``reason``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        item = todo.pop(0)
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        inner = [getattr(item, "reason", None), item.__cause__, item.__context__, *item.args]
        todo.extend(x for x in inner if isinstance(x, BaseException))


def certificate_refusal(exc: BaseException, trust: ServerTrust | None) -> tuple[str, str] | None:
    """``(code, message)`` when ``exc`` (or what caused it) is a refused certificate; the
    message is for a person (``domain/refusals.py``, and what the check found)."""
    found = _refusal(exc, trust is not None and trust.fingerprint is not None)
    if found is None:
        return None
    code, detail = found
    return code, sentence(explain(code)) + (f" {detail}" if detail else "")


def _refusal(exc: BaseException, pinned: bool) -> tuple[str, str] | None:
    chain = list(_chain(exc))
    for item in chain:
        if isinstance(item, aiohttp.ServerFingerprintMismatch):
            return MISMATCH, f"It presented SHA-256 {spaced(item.got.hex())}."
    for item in chain:  # urllib3: 'Fingerprints did not match. Expected "…", got "…"'
        if "ingerprints did not match" in str(item):
            got = _GOT.search(str(item))
            return MISMATCH, f"It presented SHA-256 {spaced(got[1])}." if got else ""
    for item in chain:
        reason: str | None = None
        if isinstance(item, aiohttp.ClientConnectorCertificateError):  # an SSL error too
            cause = item.certificate_error
            reason = getattr(cause, "verify_message", None) or str(cause)
        elif isinstance(item, ssl.SSLCertVerificationError):
            reason = getattr(item, "verify_message", None) or str(item)
        if reason is not None:
            return (MISMATCH if pinned else UNTRUSTED), f"The check said: {reason}."
    if any("CERTIFICATE_VERIFY_FAILED" in str(item) for item in chain):
        return (MISMATCH if pinned else UNTRUSTED), ""
    return None


_GOT = re.compile(r'got "?([0-9a-f]{64})')
