"""Strict readers for wire payloads.

Everything that arrives over the network is untrusted: a malformed payload
raises :class:`PayloadError`, which callers log and drop, so bad input never
reaches the models half-parsed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class PayloadError(ValueError):
    """A payload that does not have the shape the wire contract promises."""


def get_str(
    data: dict[str, Any], key: str, *, max_len: int = 10_000, empty_ok: bool = False
) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise PayloadError(f"{key} must be a string")
    if not value and not empty_ok:
        raise PayloadError(f"{key} must not be empty")
    if len(value) > max_len:
        raise PayloadError(f"{key} is longer than {max_len} characters")
    return value


def get_int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    # bool is an int subclass; True is not a revision.
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError(f"{key} must be an integer")
    return value


def get_bool(data: dict[str, Any], key: str, default: bool | None = None) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise PayloadError(f"{key} must be true or false")
    return value


def parse_time(value: object) -> datetime:
    """ISO-8601 to an aware UTC datetime (a trailing ``Z`` accepted)."""
    if not isinstance(value, str) or len(value) > 64:
        raise PayloadError("time must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        # Year 1 or 9999 with an offset falls outside datetime's range in UTC.
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise PayloadError(f"bad time {value!r}") from exc
