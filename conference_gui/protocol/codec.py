"""Turning untrusted JSON values into protocol types, and protocol types into JSON.

Every payload from the network goes through :func:`convert` (values that a JSON
decoder already produced: python-socketio hands over Python objects) or
:func:`decode` (raw bytes of a REST body). Both raise :class:`PayloadError`
and nothing else, whatever arrives.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")


class PayloadError(ValueError):
    """A payload that does not have the shape the wire contract promises."""


class NotAnObject(PayloadError):
    """The payload is not a JSON object at all (servers answer 400, not 422)."""


def convert(value: object, kind: type[T]) -> T:
    """``value`` (decoded JSON) as ``kind``; strict: no ``"1"`` for 1, no ``true`` for 1."""
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise PayloadError(str(exc)) from None


def convert_object(value: object, kind: type[T]) -> T:
    """Like :func:`convert` for a struct, but a non-object raises :class:`NotAnObject`."""
    if not isinstance(value, dict):
        raise NotAnObject("The payload must be a JSON object")
    return convert(value, kind)


def decode(raw: bytes, kind: type[T]) -> T:
    """A JSON text as ``kind``: not JSON or not an object -> NotAnObject, else PayloadError."""
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise NotAnObject("The body must be a JSON object") from None
    return convert_object(value, kind)


def to_json(value: Any) -> Any:
    """A protocol value as plain JSON values (dicts, lists, str, ...) for python-socketio."""
    return msgspec.to_builtins(value)


def encode(value: Any) -> bytes:
    """A protocol value as JSON bytes (REST answers)."""
    return msgspec.json.encode(value)
