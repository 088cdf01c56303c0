"""``conference-server --redis-url/--database-url`` from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import Services
from .services import Node, free_port

SERVER = [sys.executable, "-m", "conference_gui.server", "--port", "0"]


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SERVER, "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=60)


def test_unreachable_redis_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    out = run("--redis-url", f"redis://:pw-secret@127.0.0.1:{free_port()}/0", data_dir=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "cannot reach Redis" in out.stderr
    assert "pw-secret" not in out.stderr


def test_unreachable_database_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    out = run("--database-url", f"postgresql://u:pw-secret@127.0.0.1:{free_port()}/db",
              data_dir=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "PostgreSQL at postgresql://127.0.0.1" in out.stderr
    assert "pw-secret" not in out.stderr


def test_a_node_with_both_urls_starts_logs_them_and_stops_cleanly(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    node = Node("solo", tmp_path / "data", tmp_path, redis_url=services.redis.url,
                database_url=database_url)
    try:
        assert node.url.startswith("http://127.0.0.1:")
    finally:
        node.stop()
    assert node.process.returncode == 0
    log = node.log()
    assert "database: PostgresStorage(postgresql://127.0.0.1:" in log
    assert f"redis: {services.redis.url}" in log


def test_in_process_server_thread_with_redis_and_postgres(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    """ServerThread (the embedded way) runs a node too, and stops without leftovers."""
    import gc

    import requests

    from conference_gui.server import ServerConfig, ServerThread

    gc.collect()
    server = ServerThread(ServerConfig(port=0, data_dir=tmp_path / "data",
                                       redis_url=services.redis.url, database_url=database_url))
    url = server.start()
    try:
        r = requests.post(f"{url}/api/sessions", json={"title": "t", "name": "Ann"}, timeout=10)
        assert r.status_code == 201
    finally:
        server.stop()
