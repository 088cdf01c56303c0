"""The server's parts on their own: names, tokens, storage, bus, lifecycle."""

from __future__ import annotations

import asyncio
import os
import socket
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conference_gui.server import ServerConfig, ServerThread, build_app
from conference_gui.server.app import UnsupportedConfig
from conference_gui.server.auth import Identity, TokenService, load_or_create_secret
from conference_gui.server.errors import ApiError
from conference_gui.server.events import ChatPosted, DomainEvent, EventBus, ParticipantLeft
from conference_gui.server.meeting import ChatMessage
from conference_gui.server.names import (
    MAX_FILENAME,
    clean_display_name,
    clean_filename,
    content_disposition,
)
from conference_gui.server.storage import (
    ResourceRecord,
    SessionNotFound,
    SessionRecord,
    SqliteStorage,
)

_UNSAFE_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}


def _unsafe(text: str) -> bool:
    return any(unicodedata.category(c) in _UNSAFE_CATEGORIES or c in "\u202e\u202d"
               for c in text)


# --- names ------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_clean_filename_properties(raw: str) -> None:
    name = clean_filename(raw)
    assert name and len(name) <= MAX_FILENAME
    assert "/" not in name and "\\" not in name
    assert not _unsafe(name)
    assert not name.startswith((".", " ")) and not name.endswith((".", " "))
    assert clean_filename(name) == name


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=300).map(clean_filename))
def test_content_disposition_round_trips(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    head, _, encoded = header.partition("; filename*=UTF-8''")
    assert unquote(encoded, errors="strict") == name
    fallback = head.removeprefix('attachment; filename="').removesuffix('"')
    assert fallback and not any(c in fallback for c in '"\\;%')


@given(st.text(max_size=200))
def test_clean_display_name_is_one_short_line(raw: str) -> None:
    name = clean_display_name(raw)
    assert len(name) <= 64 and name == name.strip()
    assert "  " not in name and not _unsafe(name)
    assert not any(c.isspace() and c != " " for c in name)


def test_long_names_keep_their_extension() -> None:
    assert clean_filename("a" * 300 + ".pdf") == "a" * 251 + ".pdf"
    assert clean_filename("a" * 300 + "." + "x" * 40) == ("a" * 300 + "." + "x" * 40)[:255]


# --- tokens -------------------------------------------------------------------------

def test_tokens_round_trip_and_expire() -> None:
    tokens = TokenService(b"s" * 32, ttl_seconds=60)
    who = Identity("u1", "s1", "Ann", "host")
    assert tokens.verify(tokens.issue(who)) == who
    long_ago = TokenService(b"s" * 32, ttl_seconds=60, clock=lambda: 1_000_000.0)
    with pytest.raises(ApiError) as expired:
        tokens.verify(long_ago.issue(who))
    assert (expired.value.status, expired.value.code) == (401, "token_expired")
    with pytest.raises(ApiError) as wrong:
        TokenService(b"t" * 32, 60).verify(tokens.issue(who))
    assert wrong.value.code == "unauthorized"
    assert "s" * 8 not in repr(tokens)


def test_secret_is_made_once_private_and_checked(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path / "d")
    assert len(first) == 32 and load_or_create_secret(tmp_path / "d") == first
    if os.name == "posix":
        assert (tmp_path / "d" / "secret.key").stat().st_mode & 0o777 == 0o600
    (tmp_path / "d" / "secret.key").write_bytes(b"short")
    with pytest.raises(RuntimeError):
        load_or_create_secret(tmp_path / "d")


# --- storage ------------------------------------------------------------------------

def _resource(rid: str, session_id: str = "s1") -> ResourceRecord:
    return ResourceRecord(rid, session_id, f"{rid}.txt", 1, "text/plain", "u1", "Ann",
                          "2030-01-01T00:00:00.000Z")


def test_sqlite_storage_revisions(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"

    async def main() -> None:
        storage = SqliteStorage(path)
        await storage.open()
        try:
            await storage.create_session(SessionRecord("s1", "T", "inv", "2030-01-01T00:00:00Z"))
            assert await storage.revision("s1") == 0
            assert await storage.add_resource(_resource("aaaaaaaa")) == 1
            assert await storage.add_resource(_resource("bbbbbbbb")) == 2
            assert await storage.delete_resource("s1", "cccccccc") is None
            assert await storage.revision("s1") == 2  # nothing deleted, nothing bumped
            assert await storage.delete_resource("s1", "aaaaaaaa") == 3
            listing = await storage.list_resources("s1")
            assert (listing.revision, [r.id for r in listing.resources]) == (3, ["bbbbbbbb"])
            with pytest.raises(SessionNotFound):
                await storage.add_resource(_resource("dddddddd", session_id="nope"))
            with pytest.raises(SessionNotFound):
                await storage.list_resources("nope")
            assert await storage.get_session("nope") is None
            revisions = await asyncio.gather(
                *(storage.add_resource(_resource(f"{i:08x}e")) for i in range(30)))
            assert sorted(revisions) == list(range(4, 34))
        finally:
            await storage.close()
        reopened = SqliteStorage(path)
        await reopened.open()
        try:
            assert await reopened.revision("s1") == 33
            assert (await reopened.get_session("s1")) == SessionRecord(
                "s1", "T", "inv", "2030-01-01T00:00:00Z")
        finally:
            await reopened.close()

    asyncio.run(main())


# --- bus ----------------------------------------------------------------------------

def test_bus_delivers_in_order_and_isolates_failures() -> None:
    seen: list[str] = []

    async def broken(event: DomainEvent) -> None:
        raise RuntimeError("subscriber bug")

    async def record(event: DomainEvent) -> None:
        seen.append(type(event).__name__)

    async def main() -> None:
        bus = EventBus()
        bus.subscribe(broken)
        unsubscribe = bus.subscribe(record)
        message = ChatMessage("m", "u", "Ann", "hi", "2030-01-01T00:00:00.000Z")
        await bus.publish(ChatPosted("s", message))
        await bus.publish(ParticipantLeft("s", "u"))
        unsubscribe()
        await bus.publish(ParticipantLeft("s", "u"))

    asyncio.run(main())
    assert seen == ["ChatPosted", "ParticipantLeft"]


# --- configuration and lifecycle ------------------------------------------------------

def test_config_and_unsupported_options(tmp_path: Path) -> None:
    config = ServerConfig(data_dir=str(tmp_path), max_upload_mb=2)  # type: ignore[arg-type]
    assert config.data_dir == tmp_path and config.max_upload_bytes == 2 * 1024 * 1024
    with pytest.raises(ValueError):
        ServerConfig(data_dir=tmp_path, max_upload_mb=0)
    with pytest.raises(UnsupportedConfig):
        build_app(ServerConfig(data_dir=tmp_path, redis_url="http://x"))
    with pytest.raises(UnsupportedConfig):
        build_app(ServerConfig(data_dir=tmp_path, database_url="mysql://x"))


def test_server_thread_lifecycle(tmp_path: Path) -> None:
    ServerThread(ServerConfig(port=0, data_dir=tmp_path)).stop()  # never started: no-op
    server = ServerThread(ServerConfig(port=0, data_dir=tmp_path))
    url = server.start()
    assert url == server.url and url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        server.start()
    server.stop()
    server.stop()  # idempotent
    with socket.socket() as probe:  # the port is free again
        probe.bind(("127.0.0.1", int(url.rsplit(":", 1)[1])))


def test_server_thread_reports_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        server = ServerThread(ServerConfig(port=port, data_dir=tmp_path))
        with pytest.raises(RuntimeError, match="failed to start"):
            server.start()
        server.stop()


def test_nodes_starting_together_share_one_whole_secret(tmp_path: Path) -> None:
    """Several nodes on one shared folder, started at once: all read the same,
    complete secret (never a half-written one)."""
    import threading

    from conference_gui.server.auth import load_or_create_secret

    results: list[bytes] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def node() -> None:
        start.wait()
        try:
            results.append(load_or_create_secret(tmp_path / "shared"))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=node) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results)) == 1 and len(results[0]) >= 32
    assert [p.name for p in (tmp_path / "shared").iterdir()] == ["secret.key"]
    assert ((tmp_path / "shared" / "secret.key").stat().st_mode & 0o777) == 0o600
