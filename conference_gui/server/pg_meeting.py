"""Meeting state (participants, hands, polls, chat) shared by all nodes in PostgreSQL.

Used together with :class:`~conference_gui.server.pg_storage.PostgresStorage`.
A meeting is one JSON document (participants with their connections, polls
with their votes) in ``meetings``; :meth:`PgMeetingRegistry.edit` reads it
``FOR UPDATE``, lets the unchanged rules of :class:`Meeting` work on it and
writes it back in the same transaction, so two nodes never interleave two
changes of one meeting. Chat messages are rows of ``chat_messages`` (the
join ack reads the last 200).

Presence survives a crashed node: every connection is named
``<node id>/<socket id>``; each node beats in ``cluster_nodes`` every
:data:`HEARTBEAT_SECONDS`; a node not seen for :data:`DEAD_AFTER_SECONDS` is
dead, and any live node removes its connections from its meetings
(``meeting_nodes`` says which) and publishes ``participant-left`` for users
who had no other connection. A node that finds itself declared dead (a long
pause) takes a new node id and drops its sockets, whose clients reconnect and
join again - its old connections are then removed like a dead node's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import psycopg
from psycopg.types.json import Jsonb

from .errors import ApiError
from .ids import new_id
from .meeting import CHAT_HISTORY, CallMove, ChatMessage, Meeting, MeetingRegistry
from .pg_storage import PostgresStorage

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
DEAD_AFTER_SECONDS = 10.0

#: Called as ``on_left(session_id, user_id)`` for users a dead node's sweep removed.
LeftCallback = Callable[[str, str], Awaitable[None]]
#: Called when this node was declared dead: drop every local connection.
EvictedCallback = Callable[[], Awaitable[None]]
#: Called as ``on_moved(session_id, move)`` for calls that moved off a dead node.
MovedCallback = Callable[[str, CallMove], Awaitable[None]]


class PgMeetingRegistry(MeetingRegistry):
    def __init__(self, storage: PostgresStorage, *,
                 heartbeat: float = HEARTBEAT_SECONDS, dead_after: float = DEAD_AFTER_SECONDS
                 ) -> None:
        super().__init__()
        self._storage = storage
        self._heartbeat = heartbeat
        self._dead_after = dead_after
        self.node_id = new_id()[:16]
        self.on_left: LeftCallback | None = None
        self.on_evicted: EvictedCallback | None = None
        self.on_moved: MovedCallback | None = None
        self._task: asyncio.Task[None] | None = None

    def attach(self, on_left: LeftCallback, on_evicted: EvictedCallback,
               on_moved: MovedCallback | None = None) -> None:
        self.on_left, self.on_evicted, self.on_moved = on_left, on_evicted, on_moved

    def connection_key(self, socket_id: str) -> str:
        return f"{self.node_id}/{socket_id}"

    # --- reading and changing a meeting -----------------------------------------
    @asynccontextmanager
    async def edit(self, session_id: str) -> AsyncIterator[Meeting]:
        async with self._storage.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO meetings (session_id, state) VALUES (%s, '{}') "
                "ON CONFLICT (session_id) DO NOTHING", (session_id,))
            cur = await conn.execute(
                "SELECT state FROM meetings WHERE session_id = %s FOR UPDATE", (session_id,))
            row = await cur.fetchone()
            meeting = Meeting.from_state(session_id, row[0] if row else {})
            yield meeting  # an exception in the block rolls everything back
            await conn.execute("UPDATE meetings SET state = %s WHERE session_id = %s",
                               (Jsonb(meeting.to_state()), session_id))
            for m in meeting.chat:  # only what this block posted: it started empty
                await conn.execute(
                    "INSERT INTO chat_messages (session_id, id, sender_id, sender_name, text, "
                    "sent_at) VALUES (%s, %s, %s, %s, %s, %s)",
                    (session_id, m.id, m.sender_id, m.sender_name, m.text, m.sent_at))
            prefix = f"{self.node_id}/"
            if any(c.startswith(prefix) for p in meeting.participants.values()
                   for c in p.connections):
                await conn.execute(
                    "INSERT INTO meeting_nodes (session_id, node_id) VALUES (%s, %s) "
                    "ON CONFLICT DO NOTHING", (session_id, self.node_id))

    @asynccontextmanager
    async def view(self, session_id: str) -> AsyncIterator[Meeting]:
        async with self._storage.connection() as conn:
            cur = await conn.execute(
                "SELECT m.state, c.id, c.sender_id, c.sender_name, c.text, c.sent_at "
                "FROM (SELECT %s::text AS session_id) s "
                "LEFT JOIN meetings m ON m.session_id = s.session_id "
                "LEFT JOIN LATERAL (SELECT * FROM chat_messages WHERE session_id = s.session_id "
                "  ORDER BY seq DESC LIMIT %s) c ON true "
                "ORDER BY c.seq",
                (session_id, CHAT_HISTORY))
            rows = await cur.fetchall()
        state = (rows[0][0] if rows else None) or {}
        chat = [ChatMessage(*row[1:]) for row in rows if row[1] is not None]
        yield Meeting.from_state(session_id, state, chat)

    async def chat_before(self, session_id: str, before: str | None, limit: int
                          ) -> tuple[list[ChatMessage], bool]:
        async with self._storage.connection() as conn:
            if before is None:
                cur = await conn.execute(
                    "SELECT id, sender_id, sender_name, text, sent_at FROM chat_messages "
                    "WHERE session_id = %s ORDER BY seq DESC LIMIT %s", (session_id, limit + 1))
            else:
                found = await (await conn.execute(
                    "SELECT seq FROM chat_messages WHERE session_id = %s AND id = %s",
                    (session_id, before))).fetchone()
                if found is None:
                    raise ApiError(404, "not_found", "No such chat message")
                cur = await conn.execute(
                    "SELECT id, sender_id, sender_name, text, sent_at FROM chat_messages "
                    "WHERE session_id = %s AND seq < %s ORDER BY seq DESC LIMIT %s",
                    (session_id, found[0], limit + 1))
            rows = await cur.fetchall()
        messages = [ChatMessage(*row) for row in rows[:limit]]
        messages.reverse()
        return messages, len(rows) > limit

    # --- node liveness ----------------------------------------------------------
    async def start(self) -> None:
        await self._register()
        self._task = asyncio.create_task(self._beat_forever(), name="meeting-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(psycopg.Error, RuntimeError):
            # Our sockets were closed (and their presence removed) at shutdown.
            async with self._storage.connection() as conn:
                await conn.execute("DELETE FROM cluster_nodes WHERE node_id = %s",
                                   (self.node_id,))

    async def _register(self) -> None:
        async with self._storage.connection() as conn:
            await conn.execute(
                "INSERT INTO cluster_nodes (node_id, seen_at) VALUES (%s, now()) "
                "ON CONFLICT (node_id) DO UPDATE SET seen_at = now()", (self.node_id,))

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            try:
                await self.beat()
                await self.sweep()
            except (psycopg.Error, RuntimeError, OSError):
                log.warning("meeting heartbeat failed; retrying", exc_info=True)

    async def beat(self) -> None:
        """Say we are alive - unless we were declared dead meanwhile."""
        async with self._storage.connection() as conn:
            cur = await conn.execute(
                "UPDATE cluster_nodes SET seen_at = now() WHERE node_id = %s "
                "AND seen_at >= now() - make_interval(secs => %s)",
                (self.node_id, self._dead_after))
            alive = cur.rowcount == 1
        if alive:
            return
        old = self.node_id
        self.node_id = new_id()[:16]
        log.warning("node %s was declared dead; continuing as %s and reconnecting clients",
                    old, self.node_id)
        await self._register()
        if self.on_evicted is not None:
            await self.on_evicted()

    async def sweep(self) -> None:
        """Remove the connections of dead nodes from their meetings."""
        async with self._storage.connection() as conn:
            cur = await conn.execute(
                "SELECT node_id FROM cluster_nodes "
                "WHERE seen_at < now() - make_interval(secs => %s)", (self._dead_after,))
            dead = [row[0] for row in await cur.fetchall()]
        for node in dead:
            await self._sweep_node(node)

    async def _sweep_node(self, node: str) -> None:
        async with self._storage.connection() as conn:
            cur = await conn.execute("SELECT session_id FROM meeting_nodes WHERE node_id = %s",
                                     (node,))
            sessions = [row[0] for row in await cur.fetchall()]
        for session_id in sessions:
            async with self.edit(session_id) as meeting:
                left, moves = meeting.drop_connections(f"{node}/")
            async with self._storage.connection() as conn:
                await conn.execute(
                    "DELETE FROM meeting_nodes WHERE session_id = %s AND node_id = %s",
                    (session_id, node))
            for user_id in left:
                log.info("user %s left meeting %s with dead node %s", user_id, session_id, node)
                if self.on_left is not None:
                    await self.on_left(session_id, user_id)
            for move in moves:
                if self.on_moved is not None:
                    await self.on_moved(session_id, move)
        async with self._storage.connection() as conn:
            await conn.execute(
                "DELETE FROM cluster_nodes WHERE node_id = %s "
                "AND seen_at < now() - make_interval(secs => %s)", (node, self._dead_after))
