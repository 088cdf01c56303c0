"""Durable state: sessions, resources and the per-session revision.

:class:`Storage` is the seam between the server and its database; every
method is one transaction. :class:`SqliteStorage` (the single-machine
default) runs all queries on ONE worker thread, so the event loop never waits
on disk and transactions are serialised without locks.
:class:`~conference_gui.server.pg_storage.PostgresStorage` is the same
interface on PostgreSQL, for several server nodes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

T = TypeVar("T")

DB_FILE = "conference.sqlite3"
SCHEMA_VERSION = 2  # 2: sessions.ended_at (the host ended the meeting)


class SessionNotFound(LookupError):
    """The session id is unknown to the storage."""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    title: str
    invite: str
    created_at: str
    #: when the host ended the meeting for everyone (its files are gone then)
    ended_at: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceRecord:
    id: str
    session_id: str
    name: str
    size: int
    content_type: str
    uploader_id: str
    uploader_name: str
    uploaded_at: str


@dataclass(frozen=True, slots=True)
class ResourceListing:
    """The resources of a session and the revision they are the state of."""

    revision: int
    resources: list[ResourceRecord]


class Storage(Protocol):
    """What the server needs from a database. Each call is atomic."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def create_session(self, session: SessionRecord) -> None: ...

    async def get_session(self, session_id: str) -> SessionRecord | None: ...

    async def revision(self, session_id: str) -> int:
        """The current revision; raises :class:`SessionNotFound`."""
        ...

    async def list_resources(self, session_id: str) -> ResourceListing:
        """Newest first, read in the same transaction as the revision."""
        ...

    async def get_resource(self, session_id: str, resource_id: str) -> ResourceRecord | None: ...

    async def add_resource(self, resource: ResourceRecord) -> int:
        """Insert and bump the session's revision by one, atomically; return the new revision."""
        ...

    async def delete_resource(self, session_id: str, resource_id: str) -> int | None:
        """Delete and bump the revision atomically; ``None`` if there was no such resource."""
        ...

    async def usage(self, session_id: str) -> tuple[int, int]:
        """Bytes of the session's files, and of all files."""
        ...

    async def resource_ids(self) -> set[str]:
        """The ids of every resource (the orphan sweep at start)."""
        ...

    async def end_session(self, session_id: str, ended_at: str) -> list[str] | None:
        """Mark the session ended and delete its resource rows, atomically; returns the
        deleted resources' ids, or ``None`` if it was ended already (or is unknown)."""
        ...

    def ordered(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """Hold this while changing a session's resources *and* publishing the change.

        Inside it, no other writer of the session - on this node or, for a shared
        database, on any node - commits a change, so events are published in
        revision order. Revisions are gapless without it; it only orders events.
        """
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    invite TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    ended_at TEXT
);
CREATE TABLE IF NOT EXISTS resources (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    uploader_id TEXT NOT NULL,
    uploader_name TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    added_revision INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_by_session
    ON resources (session_id, added_revision);
"""

_RESOURCE_COLUMNS = (
    "id, session_id, name, size, content_type, uploader_id, uploader_name, uploaded_at"
)


class SqliteStorage:
    """:class:`Storage` on a stdlib SQLite file, all calls on one dedicated thread."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._order_lock = asyncio.Lock()

    @asynccontextmanager
    async def ordered(self, session_id: str) -> AsyncIterator[None]:
        # One SQLite file belongs to one node: a process-wide lock is enough.
        async with self._order_lock:
            yield

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._executor is None or self._conn is None:
            raise RuntimeError("storage is not open")
        conn = self._conn
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, conn)

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._executor, self._connect)

    def _connect(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(self._path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self._path} has schema {version}; this server knows {SCHEMA_VERSION}"
                )
            conn.executescript(_SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
            if "ended_at" not in columns:  # a schema 1 database
                conn.execute("ALTER TABLE sessions ADD COLUMN ended_at TEXT")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        return conn

    async def close(self) -> None:
        if self._executor is None:
            return
        if self._conn is not None:
            await self._call(lambda conn: conn.close())
            self._conn = None
        self._executor.shutdown(wait=True)
        self._executor = None

    async def create_session(self, session: SessionRecord) -> None:
        def run(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    "INSERT INTO sessions (id, title, invite, created_at) VALUES (?, ?, ?, ?)",
                    (session.id, session.title, session.invite, session.created_at),
                )

        await self._call(run)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        def run(conn: sqlite3.Connection) -> SessionRecord | None:
            row = conn.execute(
                "SELECT id, title, invite, created_at, ended_at FROM sessions WHERE id = ?",
                (session_id,),
            ).fetchone()
            return SessionRecord(*row) if row else None

        return await self._call(run)

    async def revision(self, session_id: str) -> int:
        return await self._call(lambda conn: _revision(conn, session_id))

    async def list_resources(self, session_id: str) -> ResourceListing:
        def run(conn: sqlite3.Connection) -> ResourceListing:
            with _transaction(conn, immediate=False):
                revision = _revision(conn, session_id)
                rows = conn.execute(
                    f"SELECT {_RESOURCE_COLUMNS} FROM resources WHERE session_id = ? "
                    "ORDER BY added_revision DESC",
                    (session_id,),
                ).fetchall()
            return ResourceListing(revision, [ResourceRecord(*row) for row in rows])

        return await self._call(run)

    async def get_resource(self, session_id: str, resource_id: str) -> ResourceRecord | None:
        def run(conn: sqlite3.Connection) -> ResourceRecord | None:
            row = conn.execute(
                f"SELECT {_RESOURCE_COLUMNS} FROM resources WHERE session_id = ? AND id = ?",
                (session_id, resource_id),
            ).fetchone()
            return ResourceRecord(*row) if row else None

        return await self._call(run)

    async def add_resource(self, resource: ResourceRecord) -> int:
        r = resource

        def run(conn: sqlite3.Connection) -> int:
            with _transaction(conn):
                revision = _bump(conn, r.session_id)
                conn.execute(
                    f"INSERT INTO resources ({_RESOURCE_COLUMNS}, added_revision) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (r.id, r.session_id, r.name, r.size, r.content_type, r.uploader_id,
                     r.uploader_name, r.uploaded_at, revision),
                )
            return revision

        return await self._call(run)

    async def usage(self, session_id: str) -> tuple[int, int]:
        def run(conn: sqlite3.Connection) -> tuple[int, int]:
            mine, total = conn.execute(
                "SELECT COALESCE(SUM(CASE WHEN session_id = ? THEN size END), 0), "
                "COALESCE(SUM(size), 0) FROM resources", (session_id,)).fetchone()
            return int(mine), int(total)

        return await self._call(run)

    async def resource_ids(self) -> set[str]:
        return await self._call(
            lambda conn: {row[0] for row in conn.execute("SELECT id FROM resources")})

    async def end_session(self, session_id: str, ended_at: str) -> list[str] | None:
        def run(conn: sqlite3.Connection) -> list[str] | None:
            with _transaction(conn):
                ended = conn.execute(
                    "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                    (ended_at, session_id)).rowcount
                if not ended:
                    return None
                ids = [row[0] for row in conn.execute(
                    "SELECT id FROM resources WHERE session_id = ?", (session_id,))]
                conn.execute("DELETE FROM resources WHERE session_id = ?", (session_id,))
                return ids

        return await self._call(run)

    async def delete_resource(self, session_id: str, resource_id: str) -> int | None:
        def run(conn: sqlite3.Connection) -> int | None:
            with _transaction(conn):
                deleted = conn.execute(
                    "DELETE FROM resources WHERE session_id = ? AND id = ?",
                    (session_id, resource_id),
                ).rowcount
                return _bump(conn, session_id) if deleted else None

        return await self._call(run)


@contextmanager
def _transaction(conn: sqlite3.Connection, immediate: bool = True) -> Iterator[None]:
    """BEGIN ... COMMIT, or ROLLBACK on error.

    Writers take IMMEDIATE so that a second process on the same file waits
    instead of failing halfway through.
    """
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _revision(conn: sqlite3.Connection, session_id: str) -> int:
    row = conn.execute("SELECT revision FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise SessionNotFound(session_id)
    return int(row[0])


def _bump(conn: sqlite3.Connection, session_id: str) -> int:
    row = conn.execute(
        "UPDATE sessions SET revision = revision + 1 WHERE id = ? RETURNING revision",
        (session_id,),
    ).fetchone()
    if row is None:
        raise SessionNotFound(session_id)
    return int(row[0])
