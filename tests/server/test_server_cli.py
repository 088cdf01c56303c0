"""``conference-server`` as a user runs it: a real process, real signals."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conference_gui import __version__
from conference_gui.server import ServerConfig, ServerThread

from .support import TIMEOUT

SERVER = [sys.executable, "-m", "conference_gui.server"]
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SERVER, *args], capture_output=True, text=True, timeout=60)


def _first_line(proc: subprocess.Popen[str], timeout: float = 20) -> str:
    assert proc.stdout is not None
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(proc.stdout.readline).result(timeout).strip()


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_port_zero_prints_the_url_and_stops_cleanly(tmp_path: Path, signum: int) -> None:
    data_dir = tmp_path / "data"
    proc = subprocess.Popen([*SERVER, "--port", "0", "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _first_line(proc)
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.removeprefix("listening on ")
        assert int(url.rsplit(":", 1)[1]) > 0
        assert requests.get(f"{url}/api/health", timeout=TIMEOUT).json() == {"ok": True}
        created = requests.post(f"{url}/api/sessions", json={"title": "T", "name": "N"},
                                timeout=TIMEOUT)
        assert created.status_code == 201
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert (data_dir / "conference.sqlite3").is_file()


def test_version() -> None:
    out = _run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"conference-server {__version__}"


def test_help_lists_every_flag() -> None:
    out = _run("--help")
    assert out.returncode == 0
    for flag in ("--host", "--port", "--data-dir", "--max-upload-mb", "--redis-url",
                 "--database-url", "--version", "--help"):
        assert flag in out.stdout


@pytest.mark.parametrize("args", [["--redis-url", "http://localhost"],
                                  ["--database-url", "mysql://db/x"]])
def test_unknown_kinds_of_scale_out_urls_exit_2(args: list[str]) -> None:
    # The multi-node runs themselves are in tests/multinode (real Redis and PostgreSQL).
    out = _run(*args)
    assert out.returncode == 2
    assert "url must be" in out.stderr


@pytest.mark.parametrize("args", [["--port", "x"], ["--port", "70000"],
                                  ["--max-upload-mb", "0"], ["--bogus"]])
def test_bad_arguments_exit_2(args: list[str]) -> None:
    assert _run(*args).returncode == 2


def test_port_in_use_exits_1(tmp_path: Path) -> None:
    holder = ServerThread(ServerConfig(port=0, data_dir=tmp_path / "a"))
    holder.start()
    try:
        port = holder.url.rsplit(":", 1)[1]
        out = _run("--port", port, "--data-dir", str(tmp_path / "b"))
    finally:
        holder.stop()
    assert out.returncode == 1
    assert "conference-server:" in out.stderr and "Traceback" not in out.stderr
