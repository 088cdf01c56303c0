"""One error shape for the whole wire: ``{"error": {"code", "message"}}``.

REST handlers and socket handlers raise :class:`ApiError`; the middleware here
turns it, aiohttp's own HTTP errors (404, 405, 413, ...) and any unexpected
exception into that JSON shape, so no client ever sees an HTML page or a
traceback.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger(__name__)

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: The code used when an HTTP status arrives without a more specific one.
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    410: "ended",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    507: "insufficient_storage",
}


class ApiError(Exception):
    """A refusal the client can act on; ``status`` only matters over HTTP."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        #: extra HTTP headers for the answer (e.g. Retry-After)
        self.headers: dict[str, str] | None = None

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def ended_error() -> ApiError:
    """What every request about a meeting its host ended gets."""
    return ApiError(410, "ended", "The host ended this meeting")


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(error_body(code, message), status=status, headers=headers)


def code_for_status(status: int) -> str:
    return STATUS_CODES.get(status, "client_error" if status < 500 else "server_error")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every 4xx/5xx as JSON, whatever raised or returned it."""
    try:
        response = await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    except HttpProcessingError as exc:  # e.g. a malformed multipart part header
        status = exc.code if 400 <= exc.code < 600 else 400
        return error_response(status, code_for_status(status), exc.message or _reason(status))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        if exc.status == 404:
            message = f"No such route: {request.method} {request.path}"
        elif exc.status == 405:
            message = f"{request.method} is not allowed on {request.path}"
        else:
            message = exc.text or exc.reason
        return error_response(exc.status, code_for_status(exc.status), message, headers)
    except asyncio.CancelledError:
        raise
    except ConnectionError:
        # The client went away mid-request (e.g. an aborted upload): nobody will
        # read this answer, but it keeps aiohttp from logging a 500.
        log.debug("client disconnected during %s %s", request.method, request.path)
        return error_response(400, "bad_request", "The request was not completed")
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            log.exception("Unhandled error in %s %s", request.method, request.path)
            return error_response(500, "internal", "Internal server error")
        log.error("disk full while handling %s %s", request.method, request.path)
        return error_response(507, "insufficient_storage", "The server's disk is full")
    except Exception:
        log.exception("Unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal", "Internal server error")
    # Responses built elsewhere (engine.io answers 400 as text/plain) get the same shape.
    if (
        response.status >= 400
        and isinstance(response, web.Response)
        and response.content_type != "application/json"
    ):
        return error_response(response.status, code_for_status(response.status),
                              _reason(response.status))
    return response
