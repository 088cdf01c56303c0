"""Which Janus and which VideoRoom serve a meeting, and how its call carries media now.

One :class:`RoomRecord` per meeting that ever needed the SFU: the Janus
instance chosen for it (its URL, without secrets), the VideoRoom's id, and
the room's own secret and pin (random, made here: never a sample
configuration's), plus the call's current ``mode``. In memory on a single
server; in PostgreSQL (table ``sfu_rooms``) when several nodes share a
database, so that clients on different nodes land in the same VideoRoom and
agree on the mode. A mode change is a compare-and-set: when several nodes
notice the same change, only one announces it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..pg_storage import PostgresStorage

#: Janus room ids are unsigned 64-bit; JSON numbers stay exact below 2**53.
ROOM_ID_LIMIT = 2**52


@dataclass(frozen=True, slots=True)
class RoomRecord:
    session_id: str
    janus_url: str
    room: int
    secret: str
    pin: str
    mode: str = "mesh"
    #: why the call went back to the mesh while big ("media-server-lost"), or ""
    reason: str = ""


def new_room(session_id: str, janus_url: str) -> RoomRecord:
    return RoomRecord(
        session_id=session_id,
        janus_url=janus_url,
        room=secrets.randbelow(ROOM_ID_LIMIT - 1) + 1,
        secret=secrets.token_urlsafe(24),
        pin=secrets.token_urlsafe(18),
    )


class RoomDirectory(Protocol):
    async def open(self) -> None: ...
    async def get(self, session_id: str) -> RoomRecord | None: ...
    async def assign(self, session_id: str, janus_url: str) -> RoomRecord:
        """The meeting's record; made with ``janus_url`` (and a new room) if it has none."""
    async def move(self, session_id: str, janus_url: str) -> RoomRecord:
        """Put the meeting on another Janus (a new room, mode mesh)."""
    async def set_mode(self, session_id: str, mode: str, reason: str = "") -> bool:
        """Change the mode; True only for the one caller that changed it."""
    async def load(self) -> dict[str, int]:
        """Meetings per Janus URL (to spread new meetings)."""
    async def sessions_on(self, janus_url: str) -> list[str]: ...
    async def forget(self, session_id: str) -> None: ...


class MemoryRooms:
    """The directory of a single server node."""

    def __init__(self) -> None:
        self._rooms: dict[str, RoomRecord] = {}

    async def open(self) -> None:
        return None

    async def get(self, session_id: str) -> RoomRecord | None:
        return self._rooms.get(session_id)

    async def assign(self, session_id: str, janus_url: str) -> RoomRecord:
        record = self._rooms.get(session_id)
        if record is None:
            record = self._rooms[session_id] = new_room(session_id, janus_url)
        return record

    async def move(self, session_id: str, janus_url: str) -> RoomRecord:
        record = self._rooms[session_id] = new_room(session_id, janus_url)
        return record

    async def set_mode(self, session_id: str, mode: str, reason: str = "") -> bool:
        record = self._rooms.get(session_id)
        if record is None or record.mode == mode:
            return False
        self._rooms[session_id] = replace(record, mode=mode, reason=reason)
        return True

    async def load(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self._rooms.values():
            counts[record.janus_url] = counts.get(record.janus_url, 0) + 1
        return counts

    async def sessions_on(self, janus_url: str) -> list[str]:
        return [r.session_id for r in self._rooms.values() if r.janus_url == janus_url]

    async def forget(self, session_id: str) -> None:
        self._rooms.pop(session_id, None)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sfu_rooms (
    session_id TEXT PRIMARY KEY,
    janus_url TEXT NOT NULL,
    room BIGINT NOT NULL,
    secret TEXT NOT NULL,
    pin TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT 'mesh',
    reason TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sfu_rooms_by_janus ON sfu_rooms (janus_url);
"""
_COLUMNS = "session_id, janus_url, room, secret, pin, mode, reason"


def _record(row: Any) -> RoomRecord:
    return RoomRecord(*row)


class PgRooms:
    """The directory shared by the nodes of one PostgreSQL database."""

    def __init__(self, storage: PostgresStorage) -> None:
        self._storage = storage

    async def open(self) -> None:
        # Several nodes may start at once: one creates, the others wait for it.
        async with self._storage.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(727013)")
            await conn.execute(_SCHEMA)

    async def get(self, session_id: str) -> RoomRecord | None:
        async with self._storage.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM sfu_rooms WHERE session_id = %s", (session_id,))
            row = await cur.fetchone()
        return _record(row) if row else None

    async def assign(self, session_id: str, janus_url: str) -> RoomRecord:
        fresh = new_room(session_id, janus_url)
        async with self._storage.connection() as conn:
            await conn.execute(
                f"INSERT INTO sfu_rooms ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (session_id) DO NOTHING",
                (fresh.session_id, fresh.janus_url, fresh.room, fresh.secret, fresh.pin,
                 fresh.mode, fresh.reason))
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM sfu_rooms WHERE session_id = %s", (session_id,))
            row = await cur.fetchone()
        assert row is not None
        return _record(row)

    async def move(self, session_id: str, janus_url: str) -> RoomRecord:
        fresh = new_room(session_id, janus_url)
        async with self._storage.connection() as conn:
            cur = await conn.execute(
                "UPDATE sfu_rooms SET janus_url = %s, room = %s, secret = %s, pin = %s, "
                "mode = 'mesh', reason = '', updated_at = now() WHERE session_id = %s "
                f"RETURNING {_COLUMNS}",
                (janus_url, fresh.room, fresh.secret, fresh.pin, session_id))
            row = await cur.fetchone()
        return _record(row) if row else await self.assign(session_id, janus_url)

    async def set_mode(self, session_id: str, mode: str, reason: str = "") -> bool:
        async with self._storage.connection() as conn:
            cur = await conn.execute(
                "UPDATE sfu_rooms SET mode = %s, reason = %s, updated_at = now() "
                "WHERE session_id = %s AND mode <> %s RETURNING 1",
                (mode, reason, session_id, mode))
            return await cur.fetchone() is not None

    async def load(self) -> dict[str, int]:
        async with self._storage.connection() as conn:
            cur = await conn.execute(
                "SELECT janus_url, count(*) FROM sfu_rooms GROUP BY janus_url")
            return {url: int(n) for url, n in await cur.fetchall()}

    async def sessions_on(self, janus_url: str) -> list[str]:
        async with self._storage.connection() as conn:
            cur = await conn.execute(
                "SELECT session_id FROM sfu_rooms WHERE janus_url = %s", (janus_url,))
            return [row[0] for row in await cur.fetchall()]

    async def forget(self, session_id: str) -> None:
        async with self._storage.connection() as conn:
            await conn.execute("DELETE FROM sfu_rooms WHERE session_id = %s", (session_id,))
