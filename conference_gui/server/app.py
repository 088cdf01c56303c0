"""Assembly: one aiohttp application with the REST API and Socket.IO on ``/socket.io/``."""

from __future__ import annotations

import asyncio

import socketio
from aiohttp import web

from .auth import TokenService, load_or_create_secret
from .blobs import BlobStore
from .bridge import SocketBridge
from .config import ServerConfig
from .context import ServerContext
from .errors import error_middleware
from .events import EventBus
from .meeting import MeetingRegistry
from .realtime import VideoNamespace
from .resources import ResourceService
from .rest import RestApi
from .storage import DB_FILE, SqliteStorage
from .testhooks import TestHooks

CONTEXT = web.AppKey("conference_context", ServerContext)
SOCKETS = web.AppKey("conference_sockets", VideoNamespace)
SIO = web.AppKey("conference_sio", socketio.AsyncServer)

#: Limit for bodies read whole (JSON). Uploads are streamed and not subject to it.
MAX_JSON_BODY = 1024 * 1024


class UnsupportedConfig(ValueError):
    """A configured feature this server version does not implement yet."""


def build_app(config: ServerConfig) -> web.Application:
    """Wire all parts together. Reads (or makes) the token secret; the database opens at startup."""
    if config.redis_url or config.database_url:
        raise UnsupportedConfig(
            "--redis-url and --database-url are not supported yet; "
            "this server keeps state in SQLite and in memory"
        )
    storage = SqliteStorage(config.data_dir / DB_FILE)
    blobs = BlobStore(config.data_dir)
    bus = EventBus()
    ctx = ServerContext(
        config=config,
        storage=storage,
        blobs=blobs,
        tokens=TokenService(load_or_create_secret(config.data_dir), config.token_ttl_seconds),
        bus=bus,
        meetings=MeetingRegistry(),
        resources=ResourceService(storage, blobs, bus),
    )

    app = web.Application(client_max_size=MAX_JSON_BODY, middlewares=[error_middleware])
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[], logger=False,
                               engineio_logger=False)
    sockets = VideoNamespace(ctx)
    sio.register_namespace(sockets)
    SocketBridge(sio).attach(bus)
    sio.attach(app)
    app.add_routes(RestApi(ctx).routes())
    if config.test_hooks:
        app.add_routes(TestHooks(sockets).routes())

    app[CONTEXT] = ctx
    app[SOCKETS] = sockets
    app[SIO] = sio
    app.on_startup.append(_open)
    app.on_shutdown.append(_disconnect_sockets)
    app.on_cleanup.append(_close)
    return app


async def _open(app: web.Application) -> None:
    ctx = app[CONTEXT]
    await asyncio.to_thread(ctx.blobs.prepare)
    await ctx.storage.open()


async def _disconnect_sockets(app: web.Application) -> None:
    await app[SOCKETS].drop_connections()
    await app[SIO].shutdown()


async def _close(app: web.Application) -> None:
    await app[CONTEXT].storage.close()
