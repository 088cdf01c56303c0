"""Checks for untrusted JSON payloads, shared by REST bodies and socket events.

A payload that is not an object is a 400 ``bad_request``; a missing or
ill-typed field is a 422 ``invalid`` that names the field.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError


def expect_object(payload: object) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_request", "The payload must be a JSON object")
    return payload


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid", message)


def get_str(body: dict[str, Any], key: str, *, max_length: int | None = None) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise _invalid(f"'{key}' must be a string")
    if max_length is not None and len(value) > max_length:
        raise _invalid(f"'{key}' must be at most {max_length} characters")
    return value


def get_bool(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    if not isinstance(value, bool):
        raise _invalid(f"'{key}' must be true or false")
    return value


def get_int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(f"'{key}' must be an integer")
    return value


def get_object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise _invalid(f"'{key}' must be an object")
    return value


def get_str_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(f"'{key}' must be a list of strings")
    return value


def non_blank(value: str, key: str) -> str:
    if not value.strip():
        raise _invalid(f"'{key}' must not be blank")
    return value
