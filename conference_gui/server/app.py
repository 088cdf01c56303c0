"""Assembly: one aiohttp application with the REST API and Socket.IO on ``/socket.io/``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

from .auth import TokenService, load_or_create_secret
from .blobs import BlobStore
from .bridge import NAMESPACE, SocketBridge
from .cluster import redis_manager, start_listening, stop_listening
from .config import ServerConfig
from .context import ServerContext
from .cors import cors_middleware
from .errors import error_middleware
from .events import EventBus, ParticipantLeft
from .meeting import MeetingRegistry
from .openapi import openapi_route
from .realtime import VideoNamespace
from .resources import ResourceService
from .rest import RestApi
from .storage import DB_FILE, SqliteStorage, Storage
from .testhooks import TestHooks
from .transport import VideoServer

log = logging.getLogger(__name__)

CONTEXT = web.AppKey("conference_context", ServerContext)
SOCKETS = web.AppKey("conference_sockets", VideoNamespace)
SIO = web.AppKey("conference_sio", socketio.AsyncServer)

#: Limit for bodies read whole (JSON). Uploads are streamed and not subject to it.
MAX_JSON_BODY = 1024 * 1024


class UnsupportedConfig(ValueError):
    """A configuration this server cannot run with (e.g. an unknown database URL scheme)."""


def make_storage(config: ServerConfig) -> Storage:
    """The storage the configuration asks for: SQLite in the data folder unless a URL says else.

    ``postgresql://`` / ``postgres://`` -> PostgreSQL (psycopg, imported only then);
    ``sqlite:///ABSOLUTE/PATH`` -> that SQLite file.
    """
    url = config.database_url
    if not url:
        return SqliteStorage(config.data_dir / DB_FILE)
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        try:
            from .pg_storage import PostgresStorage
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise UnsupportedConfig(
                f"--database-url {scheme}:// needs psycopg 3 (pip install 'psycopg[binary,pool]')"
            ) from exc
        return PostgresStorage(url)
    if scheme == "sqlite" and url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return SqliteStorage(Path(url[len("sqlite://"):]))
    raise UnsupportedConfig(
        "--database-url must be postgresql://USER@HOST:PORT/DB or sqlite:///PATH"
    )


def make_meetings(storage: Storage) -> MeetingRegistry:
    """Meeting state in memory, or in PostgreSQL (shared by the nodes) with PostgresStorage."""
    if type(storage).__name__ != "PostgresStorage":  # no psycopg import on the default path
        return MeetingRegistry()
    from .pg_meeting import PgMeetingRegistry
    from .pg_storage import PostgresStorage

    assert isinstance(storage, PostgresStorage)
    return PgMeetingRegistry(storage)


def build_app(config: ServerConfig) -> web.Application:
    """Wire all parts together. Reads (or makes) the token secret; the database opens at startup."""
    storage = make_storage(config)
    meetings = make_meetings(storage)
    blobs = BlobStore(config.data_dir)
    bus = EventBus()
    ctx = ServerContext(
        config=config,
        storage=storage,
        blobs=blobs,
        tokens=TokenService(load_or_create_secret(config.data_dir), config.token_ttl_seconds),
        bus=bus,
        meetings=meetings,
        resources=ResourceService(storage, blobs, bus),
    )

    # CORS outermost, so that error answers (made by error_middleware) carry it too.
    app = web.Application(client_max_size=MAX_JSON_BODY,
                          middlewares=[cors_middleware, error_middleware])
    manager = None
    if config.redis_url:
        try:
            manager = redis_manager(config.redis_url)
        except ValueError as exc:
            raise UnsupportedConfig(str(exc)) from None
    # Browsers are participants too (SPEC section 2), and their page comes from
    # another origin than this server. Any origin may connect (the WebSocket
    # transport never checked one); answering with CORS headers lets the
    # default HTTP long-polling transport of socket.io-client work as well. No
    # credentials: the token travels in ``auth``/the query, never in a cookie,
    # so a foreign page gains nothing it did not bring itself.
    sio = VideoServer(
        async_mode="aiohttp", cors_allowed_origins="*", cors_credentials=False,
        logger=False, engineio_logger=False,
        client_manager=manager,
        max_http_buffer_size=config.max_socket_message_kb * 1024,
        ping_interval=config.ping_interval, ping_timeout=config.ping_timeout,
        max_queue_packets=config.max_queue_packets,
        max_queue_bytes=config.max_queue_kb * 1024)
    sockets = VideoNamespace(ctx)

    async def left(session_id: str, user_id: str) -> None:  # a dead node's users (PostgreSQL)
        await bus.publish(ParticipantLeft(session_id, user_id))
        await sockets.sfu.review(session_id)

    async def emit(event: str, data: dict[str, Any], room: str) -> None:  # the SFU's events
        await sio.emit(event, data, room=room, namespace=NAMESPACE)

    meetings.attach(on_left=left, on_evicted=sockets.drop_connections,
                    on_moved=sockets.publish_call_move)
    sockets.sfu.attach(emit)
    sio.register_namespace(sockets)
    SocketBridge(sio).attach(bus)
    sio.attach(app)
    app.add_routes([*RestApi(ctx).routes(), openapi_route()])
    if config.test_hooks:
        app.add_routes(TestHooks(sockets, ctx).routes())

    app[CONTEXT] = ctx
    app[SOCKETS] = sockets
    app[SIO] = sio
    app.on_startup.append(_open)
    app.on_shutdown.append(_disconnect_sockets)
    app.on_cleanup.append(_close)
    return app


async def _open(app: web.Application) -> None:
    ctx = app[CONTEXT]
    shared = ctx.config.database_url is not None  # several nodes may share the folder
    temps = await asyncio.to_thread(ctx.blobs.prepare, shared=shared)
    await ctx.storage.open()
    try:
        known = await ctx.storage.resource_ids()
        orphans = await asyncio.to_thread(ctx.blobs.sweep_orphans, known, shared=shared)
    except BaseException:
        await ctx.storage.close()
        raise
    if temps or orphans:
        log.info("swept %d unfinished upload(s) and %d orphan file(s)", temps, orphans)
    try:
        await ctx.meetings.start()
        if ctx.config.redis_url:
            # Subscribed before the first client can connect (see cluster.py).
            await start_listening(app[SIO])
        await app[SOCKETS].sfu.start()
    except BaseException:
        if ctx.config.redis_url:
            await stop_listening(app[SIO])
        await ctx.meetings.stop()
        await ctx.storage.close()
        raise


async def _disconnect_sockets(app: web.Application) -> None:
    app[SOCKETS].shutting_down = True
    await app[SOCKETS].drop_connections()
    await app[SIO].shutdown()


async def _close(app: web.Application) -> None:
    await app[SOCKETS].sfu.stop()
    if app[CONTEXT].config.redis_url:
        await stop_listening(app[SIO])
    await app[CONTEXT].meetings.stop()
    await app[CONTEXT].storage.close()
