"""Invite links: one string a host can paste into a chat to bring someone in.

Shape: ``http://HOST:PORT/join/<sessionId>?invite=<code>`` — the origin is the
server URL, so the link alone is enough to join, and the server can answer the
same URL in a browser with instructions.

A server that leaves loopback speaks HTTPS with a self-signed certificate; its
link says which one: ``https://HOST:PORT/join/<sessionId>?invite=<code>&cert=sha256:<64
hex digits>``, and the client accepts exactly that certificate
(``domain/trust.py``). The parameter is an addition: links without it (plain
HTTP on loopback, or a server with a CA's certificate) read as before, and
clients that predate it ignore it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from conference_gui.domain.trust import PREFIX, ServerTrust, parse_fingerprint


class InviteError(ValueError):
    """A link that cannot be used to join; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class InviteLink:
    server_url: str
    session_id: str
    code: str
    #: SHA-256 (hex) of the server's self-signed certificate, for an https:// server
    fingerprint: str | None = None

    def __post_init__(self) -> None:
        if self.fingerprint is not None:
            object.__setattr__(self, "fingerprint", parse_fingerprint(self.fingerprint))

    def __str__(self) -> str:
        params = {"invite": self.code}
        if self.fingerprint is not None:
            params["cert"] = PREFIX + self.fingerprint
        query = urlencode(params, safe=":")
        return f"{self.server_url.rstrip('/')}/join/{quote(self.session_id, safe='')}?{query}"

    @property
    def trust(self) -> ServerTrust:
        """How to check the server's certificate: pinned when the link names one."""
        return ServerTrust(fingerprint=self.fingerprint)

    @classmethod
    def parse(cls, text: str) -> InviteLink:
        text = text.strip()
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InviteError(
                f"“{text[:80]}” is not an invite link (expected http://host:port/join/…)."
            )
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) < 2 or segments[-2] != "join":
            raise InviteError("The invite link has no meeting in it (…/join/<meeting>).")
        query = parse_qs(parts.query)
        codes = query.get("invite", [])
        if not codes or not codes[0]:
            raise InviteError("The invite link has no invite code (…?invite=<code>).")
        fingerprint = None
        if "cert" in query:
            try:
                fingerprint = parse_fingerprint(query["cert"][0])
            except ValueError:
                raise InviteError(
                    "The invite link's certificate fingerprint is damaged "
                    "(…&cert=sha256:<64 hex digits>); copy the whole link again."
                ) from None
            if parts.scheme != "https":
                raise InviteError("The invite link names a certificate but is not https://.")
        prefix = "/".join(segments[:-2])
        base = f"{parts.scheme}://{parts.netloc}" + (f"/{prefix}" if prefix else "")
        return cls(server_url=base, session_id=unquote(segments[-1]), code=codes[0],
                   fingerprint=fingerprint)


def token_name(token: str) -> str:
    """The ``name`` claim of a sign-in token, unverified ("" if there is none).

    Only for showing: the server verifies tokens; the client just reads which
    name it was given (a JWT's middle part is base64url JSON).
    """
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 8192:
        return ""
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        return ""
    name = claims.get("name") if isinstance(claims, dict) else None
    return name if isinstance(name, str) else ""
