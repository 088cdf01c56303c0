""":class:`Storage` on PostgreSQL, shared by several server nodes (``--database-url``).

Imported only when a ``postgresql://`` URL is configured, so the SQLite default
needs neither psycopg nor a database server.

Guarantees:

- **Gapless revisions across nodes.** A change bumps the session's revision
  with ``UPDATE sessions SET revision = revision + 1 ... RETURNING revision``
  in the same transaction as the insert/delete. The UPDATE takes the
  session's row lock, so concurrent writers - on any node - queue behind each
  other and each gets the next number; a rolled-back change gives its number
  back.
- **List and revision belong together**: they are read by one statement,
  hence from one snapshot.
- **Events in revision order across nodes** (:meth:`PostgresStorage.ordered`):
  a session-level advisory lock per session is held over "commit, then
  publish to Redis", and the change is made on the connection that holds it.
  Without it revisions would still be gapless, but two nodes could publish
  R+2 before R+1 and listening clients would refetch.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from .storage import ResourceListing, ResourceRecord, SessionNotFound, SessionRecord

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: sessions.ended_at
#: First key of our advisory locks (the second is the hashed session id / 0 for the schema).
_LOCK_SPACE = 0x636F  # "co"
_POOL_MIN, _POOL_MAX = 1, 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conference_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    invite TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revision BIGINT NOT NULL DEFAULT 0
);
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS ended_at TEXT;
CREATE TABLE IF NOT EXISTS resources (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    uploader_id TEXT NOT NULL,
    uploader_name TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    added_revision BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_by_session ON resources (session_id, added_revision);
CREATE TABLE IF NOT EXISTS meetings (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    state JSONB NOT NULL
);
CREATE TABLE IF NOT EXISTS chat_messages (
    seq BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    text TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_by_session ON chat_messages (session_id, seq);
CREATE TABLE IF NOT EXISTS cluster_nodes (
    node_id TEXT PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS meeting_nodes (
    session_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    PRIMARY KEY (session_id, node_id)
);
"""

_COLUMNS = "id, session_id, name, size, content_type, uploader_id, uploader_name, uploaded_at"

#: The connection of the current task's :meth:`PostgresStorage.ordered` block, if any.
_ordered_conn: contextvars.ContextVar[psycopg.AsyncConnection[Any] | None] = (
    contextvars.ContextVar("conference_ordered_conn", default=None)
)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable database URL>"
    host, port, db = info.get("host", ""), info.get("port", ""), info.get("dbname", "")
    return f"postgresql://{host}{':' + str(port) if port else ''}/{db}"


class PostgresStorage:
    """:class:`~conference_gui.server.storage.Storage` on a PostgreSQL connection pool."""

    def __init__(self, url: str, *, connect_timeout: float = 10.0,
                 max_connections: int = _POOL_MAX) -> None:
        self._url = url
        self._timeout = connect_timeout
        self._max = max_connections
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        # Writers of one meeting on this node queue here first, so that at most one
        # pooled connection per node and meeting waits on the advisory lock.
        self._local_order: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary())

    def __repr__(self) -> str:  # never show the password
        return f"PostgresStorage({redact(self._url)})"

    # --- lifecycle --------------------------------------------------------------
    async def open(self) -> None:
        connect_timeout = max(1, int(self._timeout))
        try:
            # One plain connection first: a wrong URL or a database that is down
            # fails at once with its own message (the pool would retry until its
            # timeout), and the schema is ready before the pool hands out anything.
            conn = await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, connect_timeout=connect_timeout)
            async with conn:
                await _create_schema(conn)
            pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                self._url, min_size=_POOL_MIN, max_size=self._max, open=False,
                kwargs={"autocommit": True, "connect_timeout": connect_timeout},
                timeout=self._timeout, name="conference",
            )
            try:
                await pool.open(wait=True, timeout=self._timeout)
            except BaseException:
                await pool.close()
                raise
        except psycopg.Error as exc:
            raise RuntimeError(f"PostgreSQL at {redact(self._url)}: {exc}") from exc
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def connection(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        """A pooled autocommit connection (the ordered one inside :meth:`ordered`)."""
        return self._conn()

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        held = _ordered_conn.get()
        if held is not None:  # inside ordered(): use the connection holding the lock
            yield held
            return
        if self._pool is None:
            raise RuntimeError("storage is not open")
        async with self._pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def ordered(self, session_id: str) -> AsyncIterator[None]:
        if self._pool is None:
            raise RuntimeError("storage is not open")
        local = self._local_order.get(session_id)
        if local is None:  # alive while someone holds or waits for it
            local = self._local_order[session_id] = asyncio.Lock()
        async with local, self._pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))",
                               (_LOCK_SPACE, session_id))
            token = _ordered_conn.set(conn)
            try:
                yield
            finally:
                _ordered_conn.reset(token)
                try:
                    await conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))",
                                       (_LOCK_SPACE, session_id))
                except BaseException:
                    # Never hand a connection that may still hold the lock back to
                    # the pool: closing it releases every session-level lock.
                    with contextlib.suppress(Exception):
                        await conn.close()
                    raise

    # --- Storage ----------------------------------------------------------------
    async def create_session(self, session: SessionRecord) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO sessions (id, title, invite, created_at) VALUES (%s, %s, %s, %s)",
                (session.id, session.title, session.invite, session.created_at),
            )

    async def get_session(self, session_id: str) -> SessionRecord | None:
        async with self._conn() as conn:
            cur = await conn.execute(
                "SELECT id, title, invite, created_at, ended_at FROM sessions WHERE id = %s",
                (session_id,),
            )
            row = await cur.fetchone()
        return SessionRecord(*row) if row else None

    async def revision(self, session_id: str) -> int:
        async with self._conn() as conn:
            cur = await conn.execute("SELECT revision FROM sessions WHERE id = %s",
                                     (session_id,))
            row = await cur.fetchone()
        if row is None:
            raise SessionNotFound(session_id)
        return int(row[0])

    async def list_resources(self, session_id: str) -> ResourceListing:
        # One statement, one snapshot: the rows and the revision always match.
        async with self._conn() as conn:
            cur = await conn.execute(
                "SELECT s.revision, r.id, r.session_id, r.name, r.size, r.content_type, "
                "r.uploader_id, r.uploader_name, r.uploaded_at "
                "FROM sessions s LEFT JOIN resources r ON r.session_id = s.id "
                "WHERE s.id = %s ORDER BY r.added_revision DESC",
                (session_id,),
            )
            rows = await cur.fetchall()
        if not rows:
            raise SessionNotFound(session_id)
        resources = [ResourceRecord(*row[1:]) for row in rows if row[1] is not None]
        return ResourceListing(int(rows[0][0]), resources)

    async def get_resource(self, session_id: str, resource_id: str) -> ResourceRecord | None:
        async with self._conn() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM resources WHERE session_id = %s AND id = %s",
                (session_id, resource_id),
            )
            row = await cur.fetchone()
        return ResourceRecord(*row) if row else None

    async def add_resource(self, resource: ResourceRecord) -> int:
        r = resource
        async with self._conn() as conn, conn.transaction():
            revision = await _bump(conn, r.session_id)
            await conn.execute(
                f"INSERT INTO resources ({_COLUMNS}, added_revision) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (r.id, r.session_id, r.name, r.size, r.content_type, r.uploader_id,
                 r.uploader_name, r.uploaded_at, revision),
            )
        return revision

    async def usage(self, session_id: str) -> tuple[int, int]:
        async with self._conn() as conn:
            cur = await conn.execute(
                "SELECT COALESCE(SUM(size) FILTER (WHERE session_id = %s), 0), "
                "COALESCE(SUM(size), 0) FROM resources", (session_id,))
            row = await cur.fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    async def resource_ids(self) -> set[str]:
        async with self._conn() as conn:
            cur = await conn.execute("SELECT id FROM resources")
            return {row[0] for row in await cur.fetchall()}

    async def end_session(self, session_id: str, ended_at: str) -> list[str] | None:
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE sessions SET ended_at = %s WHERE id = %s AND ended_at IS NULL",
                (ended_at, session_id))
            if cur.rowcount != 1:
                return None
            cur = await conn.execute(
                "DELETE FROM resources WHERE session_id = %s RETURNING id", (session_id,))
            ids = [row[0] for row in await cur.fetchall()]
            await conn.execute("DELETE FROM meetings WHERE session_id = %s", (session_id,))
            await conn.execute("DELETE FROM chat_messages WHERE session_id = %s", (session_id,))
            return ids

    async def delete_resource(self, session_id: str, resource_id: str) -> int | None:
        async with self._conn() as conn, conn.transaction():
            # Session row first, like add_resource: one lock order, no deadlock.
            cur = await conn.execute("SELECT 1 FROM sessions WHERE id = %s FOR UPDATE",
                                     (session_id,))
            if await cur.fetchone() is None:
                return None
            cur = await conn.execute(
                "DELETE FROM resources WHERE session_id = %s AND id = %s",
                (session_id, resource_id),
            )
            if cur.rowcount == 0:
                return None
            return await _bump(conn, session_id)


async def _bump(conn: psycopg.AsyncConnection[Any], session_id: str) -> int:
    cur = await conn.execute(
        "UPDATE sessions SET revision = revision + 1 WHERE id = %s RETURNING revision",
        (session_id,),
    )
    row = await cur.fetchone()
    if row is None:
        raise SessionNotFound(session_id)
    return int(row[0])


async def _create_schema(conn: psycopg.AsyncConnection[Any]) -> None:
    """Create or check the schema; nodes starting together take turns (advisory lock)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK_SPACE,))
        await conn.execute("CREATE TABLE IF NOT EXISTS conference_meta "
                           "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        cur = await conn.execute(
            "SELECT value FROM conference_meta WHERE key = 'schema_version'"
        )
        row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"the database has schema {version}; this server knows {SCHEMA_VERSION}"
            )
        for statement in filter(str.strip, _SCHEMA.split(";")):
            await conn.execute(statement)
        await conn.execute(
            "INSERT INTO conference_meta (key, value) VALUES ('schema_version', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (str(SCHEMA_VERSION),),
        )
