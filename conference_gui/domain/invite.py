"""Invite links: one string a host can paste into a chat to bring someone in.

Shape: ``http://HOST:PORT/join/<sessionId>?invite=<code>`` — the origin is the
server URL, so the link alone is enough to join, and the server can answer the
same URL in a browser with instructions.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit


class InviteError(ValueError):
    """A link that cannot be used to join; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class InviteLink:
    server_url: str
    session_id: str
    code: str

    def __str__(self) -> str:
        query = urlencode({"invite": self.code})
        return f"{self.server_url.rstrip('/')}/join/{quote(self.session_id, safe='')}?{query}"

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
        codes = parse_qs(parts.query).get("invite", [])
        if not codes or not codes[0]:
            raise InviteError("The invite link has no invite code (…?invite=<code>).")
        prefix = "/".join(segments[:-2])
        base = f"{parts.scheme}://{parts.netloc}" + (f"/{prefix}" if prefix else "")
        return cls(server_url=base, session_id=unquote(segments[-1]), code=codes[0])


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
