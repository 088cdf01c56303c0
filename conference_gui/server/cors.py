"""Cross-origin access to the REST API, for browser participants.

SPEC section 2: "Browsers are participants too". A browser participant's page
comes from another origin than this server (its own web server, a file), and
the REST join it starts with is a ``POST`` with a JSON body and later calls
carry ``Authorization``: without CORS answers the browser refuses them before
any reaches a handler (the preflight ``OPTIONS`` used to be a 405).

Any origin is allowed, without credentials: every request authenticates with a
bearer token the page holds itself (or an invite code it was given), never with
a cookie, so a foreign page gains nothing it did not bring. Socket.IO answers
its own CORS (``cors_allowed_origins`` in ``app.py``); this middleware keeps to
``/api/`` so that no answer carries the header twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

API_PREFIX = "/api/"
ALLOW_METHODS = "GET, POST, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type"
#: Headers a page may read: the download's name, and when to retry after a 429.
EXPOSE_HEADERS = "Content-Disposition, Retry-After"
PREFLIGHT_MAX_AGE = "600"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer CORS preflights under ``/api/`` and mark its answers readable by any origin."""
    if not request.path.startswith(API_PREFIX) or "Origin" not in request.headers:
        return await handler(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(status=204, headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        })
    response = await handler(request)
    if not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return response
