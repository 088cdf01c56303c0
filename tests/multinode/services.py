"""Real Redis and PostgreSQL instances for the multi-node tests (and bench/scaling_fanout.py).

Each instance is our own: its own data folder under the temp folder, its own
loopback port, started here and stopped at teardown. Nothing touches a system
service. PostgreSQL refuses to run as root, so as root its folder is handed to
the ``postgres`` user (or ``nobody``) and the binaries run through ``runuser``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = STARTUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on port {port}") from None
            time.sleep(0.05)


# --- finding the binaries ---------------------------------------------------------
def redis_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if os.path.exists(p)),
        None)


def postgres_bindir() -> Path | None:
    """The folder with initdb/pg_ctl: Debian's /usr/lib/postgresql/N/bin (newest), or PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda p: int(re.sub(r"\D", "", p.split("/")[-2]) or 0))
    for folder in reversed(candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    return None


def missing_services() -> list[str]:
    missing = []
    if redis_binary() is None:
        missing.append("redis-server")
    if postgres_bindir() is None:
        missing.append("PostgreSQL (initdb, pg_ctl)")
    return missing


# --- Redis ----------------------------------------------------------------------------
@dataclass
class RedisInstance:
    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_redis(folder: Path) -> RedisInstance:
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (folder / "redis.log").open("wb")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder), "--daemonize", "no", "--protected-mode", "yes"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        wait_for_port(port)
    except BaseException:
        process.kill()
        raise
    return RedisInstance(port, folder, process)


# --- PostgreSQL -----------------------------------------------------------------------
@dataclass
class PostgresInstance:
    port: int
    folder: Path
    bindir: Path
    user: str | None  # run the binaries as this user (we are root), else as ourselves
    databases: list[str] = field(default_factory=list)

    @property
    def datadir(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        # psql, not psycopg: see tests/multinode/test_multinode.py for why this process
        # keeps psycopg out.
        subprocess.run([str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q",
                        "-c", f'CREATE DATABASE "{name}"'],
                       check=True, capture_output=True, timeout=60)
        self.databases.append(name)
        return self.url(name)

    def stop(self) -> None:
        _run_as(self.user, [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m",
                            "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _run_as(user: str | None, argv: list[str], check: bool = True
            ) -> subprocess.CompletedProcess[bytes]:
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    result = subprocess.run(argv, capture_output=True, timeout=120)
    if check and result.returncode != 0:
        raise RuntimeError(f"{argv} failed ({result.returncode}):\n"
                           f"{result.stdout.decode(errors='replace')}"
                           f"{result.stderr.decode(errors='replace')}")
    return result


def _service_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and there is no 'postgres' or 'nobody' user")


def start_postgres() -> PostgresInstance:
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL (initdb, pg_ctl) is not installed")
    user = _service_user()
    # Our own folder outside pytest's (root-only) temp tree, so the service user can enter it.
    folder = Path(tempfile.mkdtemp(prefix="conference-pg-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    port = free_port()
    instance = PostgresInstance(port, folder, bindir, user)
    try:
        _run_as(user, [str(bindir / "initdb"), "-D", str(instance.datadir), "-U", "postgres",
                       "--auth=trust", "--encoding=UTF8", "--no-sync", "--locale=C"])
        options = (f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder}"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                   " -c max_connections=200")
        _run_as(user, [str(bindir / "pg_ctl"), "-D", str(instance.datadir), "-o", options,
                       "-l", str(folder / "postgres.log"), "-w", "-t", "60", "start"])
    except BaseException:
        instance.stop()
        raise
    return instance


# --- server nodes -----------------------------------------------------------------------
class Node:
    """One ``conference-server`` process (``python -m conference_gui.server``)."""

    def __init__(self, name: str, data_dir: Path, log_dir: Path, *, redis_url: str | None,
                 database_url: str | None, extra_env: dict[str, str] | None = None) -> None:
        self.name = name
        self.data_dir = data_dir
        self.log_path = log_dir / f"node-{name}.log"
        argv = [sys.executable, "-m", "conference_gui.server", "--host", "127.0.0.1",
                "--port", "0", "--data-dir", str(data_dir)]
        if redis_url:
            argv += ["--redis-url", redis_url]
        if database_url:
            argv += ["--database-url", database_url]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log, env=env)
        self.url = self._read_url()

    def _read_url(self) -> str:
        found: list[str] = []
        stdout = self.process.stdout
        assert stdout is not None

        def read() -> None:
            for raw in stdout:
                line = raw.decode(errors="replace").strip()
                match = re.match(r"listening on (http://\S+)", line)
                if match and not found:
                    found.append(match.group(1))

        self._reader = threading.Thread(target=read, daemon=True, name=f"node-{self.name}-stdout")
        self._reader.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not found:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"node {self.name} did not start:\n{self.log()}")
            time.sleep(0.02)
        return found[0]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the node vanishes without closing anything (a crash, a lost machine)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self._release()

    def _release(self) -> None:
        if hasattr(self, "_reader"):
            self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._release()


@contextlib.contextmanager
def nodes(count: int, data_dir: Path, log_dir: Path, *, redis_url: str | None,
          database_url: str | None) -> Iterator[list[Node]]:
    """``count`` nodes sharing one data folder, Redis and database; started one after the other."""
    started: list[Node] = []
    try:
        for i in range(count):
            started.append(Node(chr(ord("a") + i), data_dir, log_dir, redis_url=redis_url,
                                database_url=database_url))
        yield started
    finally:
        for node in started:
            node.stop()
