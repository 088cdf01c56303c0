"""One Storage interface, two implementations: the same behaviour on SQLite and PostgreSQL.

Plus what only a shared database must show: two independent pools (two nodes)
writing to one session at once still get gapless, unique revisions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest

from conference_gui.server.app import UnsupportedConfig, make_storage
from conference_gui.server.config import ServerConfig
from conference_gui.server.pg_storage import SCHEMA_VERSION, PostgresStorage, redact
from conference_gui.server.storage import (
    ResourceRecord,
    SessionNotFound,
    SessionRecord,
    SqliteStorage,
    Storage,
)

from .services import free_port

StorageFactory = Callable[[], Storage]


def session(sid: str = "s1") -> SessionRecord:
    return SessionRecord(sid, "Standup", "invite-code", "2026-11-25T21:00:00.000Z")


def resource(rid: str, sid: str = "s1", name: str = "a.txt") -> ResourceRecord:
    return ResourceRecord(rid, sid, name, 3, "text/plain", "u1", "Ann", "2026-11-25T21:00:00.000Z")


@pytest.fixture(params=["sqlite", "postgresql"])
def new_storage(request: pytest.FixtureRequest, tmp_path: Path) -> StorageFactory:
    if request.param == "sqlite":
        return lambda: SqliteStorage(tmp_path / "conference.sqlite3")
    url = request.getfixturevalue("database_url")
    return lambda: PostgresStorage(url)


@asynccontextmanager
async def opened(storage: Storage) -> AsyncIterator[Storage]:
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


def test_the_contract_on_both_backends(new_storage: StorageFactory) -> None:
    async def story() -> None:
        async with opened(new_storage()) as db:
            assert await db.get_session("s1") is None
            with pytest.raises(SessionNotFound):
                await db.revision("s1")
            with pytest.raises(SessionNotFound):
                await db.list_resources("s1")
            await db.create_session(session())
            assert await db.get_session("s1") == session()
            assert await db.revision("s1") == 0
            assert (await db.list_resources("s1")).resources == []

            assert await db.add_resource(resource("r1")) == 1
            async with db.ordered("s1"):
                assert await db.add_resource(resource("r2", name="b.txt")) == 2
            listing = await db.list_resources("s1")
            assert listing.revision == 2
            assert [r.id for r in listing.resources] == ["r2", "r1"]  # newest first
            assert await db.get_resource("s1", "r1") == resource("r1")
            assert await db.get_resource("other", "r1") is None

            assert await db.delete_resource("s1", "r1") == 3
            assert await db.delete_resource("s1", "r1") is None  # no bump for nothing
            assert await db.delete_resource("nope", "r2") is None
            assert await db.revision("s1") == 3
            with pytest.raises(SessionNotFound):
                await db.add_resource(resource("r9", sid="nope"))
            assert await db.revision("s1") == 3
            with pytest.raises(Exception):  # duplicate id: the transaction rolls back  # noqa: B017
                await db.add_resource(resource("r2"))
            assert await db.revision("s1") == 3  # ... and gives its revision back

        async with opened(new_storage()) as db:  # reopening keeps everything
            assert await db.revision("s1") == 3

    asyncio.run(story())


def test_two_pools_writing_one_session_get_gapless_unique_revisions(database_url: str) -> None:
    per_node = 60

    async def story() -> None:
        async with opened(PostgresStorage(database_url)) as a, \
                opened(PostgresStorage(database_url)) as b:
            await a.create_session(session())
            adds = [(a if i % 2 else b).add_resource(resource(f"r{i}"))
                    for i in range(2 * per_node)]
            revisions = await asyncio.gather(*adds)
            assert sorted(revisions) == list(range(1, 2 * per_node + 1))
            deletes = [(b if i % 2 else a).delete_resource("s1", f"r{i}") for i in range(20)]
            deleted = await asyncio.gather(*deletes)
            assert sorted(r for r in deleted if r is not None) == list(
                range(2 * per_node + 1, 2 * per_node + 21))
            listing = await b.list_resources("s1")
            assert listing.revision == 2 * per_node + 20
            assert len(listing.resources) == 2 * per_node - 20

    asyncio.run(story())


def test_ordered_blocks_writers_of_the_session_on_other_nodes(database_url: str) -> None:
    async def story() -> None:
        async with opened(PostgresStorage(database_url)) as a, \
                opened(PostgresStorage(database_url)) as b:
            await a.create_session(session())
            await a.create_session(session("s2"))
            order: list[str] = []

            async def node_b_writes(sid: str) -> None:
                async with b.ordered(sid):
                    await b.add_resource(resource(f"b-{sid}", sid=sid))
                    order.append(f"b:{sid}")

            async with a.ordered("s1"):
                other_session = asyncio.ensure_future(node_b_writes("s2"))
                await asyncio.wait_for(other_session, 10)  # another session: not blocked
                blocked = asyncio.ensure_future(node_b_writes("s1"))
                await asyncio.sleep(0.3)
                assert not blocked.done()  # node B waits for node A's commit *and* publish
                await a.add_resource(resource("a-1"))
                order.append("a:s1")
            await asyncio.wait_for(blocked, 10)
            assert order == ["b:s2", "a:s1", "b:s1"]
            assert [r.id for r in (await a.list_resources("s1")).resources] == ["b-s1", "a-1"]

    asyncio.run(story())


def test_nodes_starting_together_create_the_schema_once(database_url: str) -> None:
    async def story() -> None:
        storages = [PostgresStorage(database_url) for _ in range(4)]
        await asyncio.gather(*(s.open() for s in storages))
        await asyncio.gather(*(s.close() for s in storages))

    asyncio.run(story())
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT value FROM conference_meta WHERE key = 'schema_version'").fetchone()
        assert row == (str(SCHEMA_VERSION),)
        conn.execute("UPDATE conference_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="schema 99"):
        asyncio.run(PostgresStorage(database_url).open())


def test_unreachable_database_is_a_clear_error() -> None:
    url = f"postgresql://postgres:secret-pw@127.0.0.1:{free_port()}/nothing"
    storage = PostgresStorage(url, connect_timeout=1)
    assert "secret-pw" not in repr(storage)
    with pytest.raises(RuntimeError, match=r"PostgreSQL at postgresql://127\.0\.0\.1") as info:
        asyncio.run(storage.open())
    assert "secret-pw" not in str(info.value)
    assert redact("not a url ===") == "<unparsable database URL>"


@pytest.mark.parametrize(("url", "kind"), [
    (None, SqliteStorage), ("sqlite:///tmp/x/conference.sqlite3", SqliteStorage),
    ("postgresql://u@h:5432/db", PostgresStorage), ("postgres://u@h/db", PostgresStorage),
])
def test_the_url_chooses_the_backend(url: str | None, kind: type, tmp_path: Path) -> None:
    assert isinstance(make_storage(ServerConfig(data_dir=tmp_path, database_url=url)), kind)


@pytest.mark.parametrize("url", ["mysql://h/db", "sqlite://relative.db", "sqlite:///", "db"])
def test_unknown_database_urls_are_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedConfig):
        make_storage(ServerConfig(data_dir=tmp_path, database_url=url))
