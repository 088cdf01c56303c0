"""Untrusted JSON payloads (REST bodies and socket events) into protocol types.

The shapes are declared once in :mod:`conference_gui.protocol`; this maps its
refusals to the server's error codes: a payload that is not an object is a 400
``bad_request``; a missing or ill-typed field (or one that breaks a declared
length or range) is a 422 ``invalid`` whose message names the field.
"""

from __future__ import annotations

from typing import TypeVar

from conference_gui import protocol as wire

from .errors import ApiError

T = TypeVar("T")


def parse(payload: object, kind: type[T]) -> T:
    """A decoded JSON value (a socket event's payload) as ``kind``."""
    try:
        return wire.convert_object(payload, kind)
    except wire.NotAnObject as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    except wire.PayloadError as exc:
        raise ApiError(422, "invalid", f"Invalid payload: {exc}") from None


def parse_body(raw: bytes, kind: type[T]) -> T:
    """A JSON body (bytes) as ``kind``."""
    try:
        return wire.decode(raw, kind)
    except wire.NotAnObject as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    except wire.PayloadError as exc:
        raise ApiError(422, "invalid", f"Invalid body: {exc}") from None


def non_blank(value: str, key: str) -> str:
    if not value.strip():
        raise ApiError(422, "invalid", f"'{key}' must not be blank")
    return value
