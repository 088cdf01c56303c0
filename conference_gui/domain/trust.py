"""Which TLS certificate a client accepts from a meeting server (for ``https://`` URLs).

Two ways, never both at once for one server:

- **Pinned** (``fingerprint``): exactly the certificate whose SHA-256 is given —
  the self-signed one a server makes when it leaves loopback; the invite link
  carries its fingerprint. No CA is asked, no name or date is checked: the
  fingerprint says everything.
- **Verified** (no fingerprint): the usual checks of a certificate from a CA —
  the system's trusted CAs, plus ``ca_file`` (PEM) if given, and the host name.

Plain ``http://`` URLs (loopback, ``--insecure-http``) use neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: how an invite link writes it: ``sha256:`` and 64 hex digits
PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-f]{64}")


def parse_fingerprint(text: str) -> str:
    """``sha256:AB:CD:…`` / ``abcd…`` (any case, colons or not) -> 64 lower-case hex digits.

    Raises ValueError for anything else (another hash, a wrong length).
    """
    value = text.strip().lower()
    if value.startswith(PREFIX):
        value = value[len(PREFIX):]
    value = value.replace(":", "")
    if not _HEX.fullmatch(value):
        raise ValueError(f"not a SHA-256 certificate fingerprint: {text[:100]!r}")
    return value


def spaced(fingerprint: str) -> str:
    """``AB:CD:…``, as browsers and ``openssl x509 -fingerprint`` show it."""
    return ":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2)).upper()


@dataclass(frozen=True, slots=True)
class ServerTrust:
    """How to check a server's certificate (see the module docstring)."""

    #: SHA-256 of the one certificate to accept (64 lower-case hex digits)
    fingerprint: str | None = None
    #: CAs to trust besides the system's (PEM), for verified certificates
    ca_file: Path | None = None

    def __post_init__(self) -> None:
        if self.fingerprint is not None:
            object.__setattr__(self, "fingerprint", parse_fingerprint(self.fingerprint))
        if self.ca_file is not None:
            object.__setattr__(self, "ca_file", Path(self.ca_file))

    @property
    def pinned(self) -> bool:
        return self.fingerprint is not None
