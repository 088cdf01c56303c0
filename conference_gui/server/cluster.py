"""Several nodes: Socket.IO room emits through Redis (``--redis-url``).

python-socketio's :class:`socketio.AsyncRedisManager` publishes every emit on
one Redis pub/sub channel; each node (the sender too) receives it and delivers
it to its own sockets in the room. Redis pub/sub is at-most-once: a node that
is disconnected from Redis when a message is published never gets it. For
resource events the client's revision rule heals that (the next event shows a
gap, or the next reconnect shows a different revision, and the client
refetches); docs/SCALING.md lists what is not healed.

The ``redis`` package is imported only here, and only when a Redis URL is
configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import socketio

from .transport import FanoutManager

log = logging.getLogger(__name__)

#: The pub/sub channel; every node of one deployment must use the same.
CHANNEL = "conference-gui"
REDIS_SCHEMES = ("redis", "rediss", "unix")
SUBSCRIBE_TIMEOUT = 10.0


def redact_redis(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"***@{netloc}"))


class FanoutRedisManager(socketio.AsyncRedisManager, FanoutManager):
    """python-socketio's Redis manager; what it receives from Redis reaches this node's
    sockets through :class:`FanoutManager` (it comes after the pub/sub manager in the
    method order, so the pub/sub manager's local delivery is ours)."""


def redis_manager(url: str) -> socketio.AsyncRedisManager:
    """The client manager for ``AsyncServer``; its connections are named after the node."""
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        raise ValueError(f"--redis-url must be redis://, rediss:// or unix:// (got "
                         f"{redact_redis(url)!r})")
    if importlib.util.find_spec("redis") is None:
        raise ValueError("--redis-url needs the redis package (pip install 'redis>=5.0.1')")
    manager = FanoutRedisManager(url, channel=CHANNEL, redis_options={})
    # CLIENT LIST then shows which node a connection belongs to (also used below).
    manager.redis_options["client_name"] = node_name(manager)
    return manager


def node_name(manager: Any) -> str:
    return f"conference-node-{manager.host_id[:12]}"


async def start_listening(sio: socketio.AsyncServer, timeout: float = SUBSCRIBE_TIMEOUT) -> None:
    """Check Redis, start the manager's listener and wait until it is subscribed.

    python-socketio would start listening at the first client connection; a
    client that joined before the node subscribed could then miss an event
    without ever seeing a gap. Run this before the node accepts connections.
    """
    from redis import asyncio as aioredis  # only with --redis-url
    from redis.exceptions import RedisError, ResponseError

    manager = sio.manager
    probe = aioredis.Redis.from_url(manager.redis_url, socket_connect_timeout=timeout)
    try:
        try:
            await asyncio.wait_for(probe.ping(), timeout)
        except (RedisError, OSError, TimeoutError) as exc:
            raise RuntimeError(
                f"cannot reach Redis at {redact_redis(manager.redis_url)}: {exc}"
            ) from exc
        sio.manager_initialized = True
        manager.initialize()
        name = node_name(manager)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                clients = await probe.client_list(_type="pubsub")
                if any(c.get("name") == name and int(c.get("sub", 0)) > 0 for c in clients):
                    return
            except ResponseError:  # CLIENT LIST not allowed (managed Redis): best effort
                pubsub = getattr(manager, "pubsub", None)
                if pubsub is not None and pubsub.subscribed:
                    await asyncio.sleep(0.2)
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("the Redis subscription did not start within "
                                   f"{timeout:g} s")
            await asyncio.sleep(0.02)
    finally:
        await probe.aclose()


async def stop_listening(sio: socketio.AsyncServer) -> None:
    """Stop the listener task and close the manager's Redis connections."""
    manager = sio.manager
    task = getattr(manager, "thread", None)
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for attr in ("pubsub", "redis"):
        conn = getattr(manager, attr, None)
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.aclose()
