"""Opaque identifiers and wall-clock timestamps in the wire format."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_id() -> str:
    """96 random bits as lowercase hex: URL-safe and safe as a file name on any file system.

    Lowercase only, because resource ids name files and macOS/Windows folders
    are case-insensitive.
    """
    return secrets.token_hex(12)


def new_invite() -> str:
    """An unguessable invite code (144 random bits)."""
    return secrets.token_urlsafe(18)


def utc_now_iso() -> str:
    """ISO-8601 UTC with millisecond precision and a ``Z`` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
