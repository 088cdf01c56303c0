"""Wire payloads into domain objects.

Everything that arrives over the network is untrusted. The shapes are declared
once in :mod:`conference_gui.protocol` (shared with the server); :func:`decode`
checks a payload against its type and raises :class:`PayloadError` on anything
malformed, which callers log and drop, so bad input never reaches the models
half-parsed. The ``from_wire`` constructors of the domain objects then only map
the checked wire values to the domain's own classes (and parse times).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from conference_gui import protocol
from conference_gui.protocol import PayloadError

__all__ = ["PayloadError", "decode", "parse_time"]

T = TypeVar("T")


def decode(data: object, kind: type[T]) -> T:
    """``data`` (decoded JSON) as the protocol type ``kind``, or PayloadError."""
    return protocol.convert(data, kind)


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
