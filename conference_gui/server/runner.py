"""Running the app: on the caller's loop (:func:`start_server`, used by the CLI) or on a
loop of its own in a daemon thread (:class:`ServerThread`, used by the desktop client's
embedded server and by tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from .app import SOCKETS, build_app
from .config import ServerConfig
from .tls import ServerCertificate, server_certificate

T = TypeVar("T")

#: How long in-flight requests get to finish when the server stops.
SHUTDOWN_GRACE_SECONDS = 5.0
_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}


#: ``CONFERENCE_SERVER_LOOP=asyncio`` runs the server on asyncio's own loop even where
#: uvloop is installed (to compare, or to rule it out); ``uvloop`` insists on it.
LOOP_ENV = "CONFERENCE_SERVER_LOOP"


def loop_factory(choice: str | None = None) -> Callable[[], asyncio.AbstractEventLoop]:
    """The event loop the server runs on: uvloop where it is installed (Linux, macOS;
    the ``fast`` extra), else asyncio's selector loop. uvloop makes the loop's own
    work (callbacks, socket writes, thread hand-overs) cheaper; the server's
    behaviour is the same on both (the test suites run on whichever is installed).
    """
    choice = (choice or os.environ.get(LOOP_ENV) or "auto").lower()
    if choice not in ("auto", "uvloop", "asyncio"):
        raise ValueError(f"{LOOP_ENV} must be auto, uvloop or asyncio (got {choice!r})")
    if choice != "asyncio" and sys.platform != "win32" and importlib.util.find_spec("uvloop"):
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    if choice == "uvloop":
        raise ValueError("uvloop is not installed (pip install 'conference-gui[fast]')")
    return asyncio.SelectorEventLoop


#: ``CONFERENCE_SERVER_GC=python`` keeps Python's own garbage-collector settings.
GC_ENV = "CONFERENCE_SERVER_GC"
#: The cyclic collector's thresholds of a server process (see :func:`tune_gc`).
GC_THRESHOLDS = (20_000, 50, 1000)


def tune_gc() -> None:
    """Fewer, not longer, pauses of the cyclic garbage collector in a server process.

    Nearly all of a server's garbage goes by reference counting. Python's default
    (a young-generation pass per 700 objects more alive than before, a middle one
    every tenth) ran ~90 passes in one 200-client fan-out run, 5-56 ms each on the
    loaded 2-core machine: each one stops the loop in the middle of someone's
    event. What lives at start (modules, the app) is frozen out of every pass;
    later passes come after 20,000 new objects. For ``conference-server`` (and
    the bench's copy of it) only: it is the whole process's setting, and the
    embedded server lives in the window's process.
    """
    if os.environ.get(GC_ENV, "").lower() == "python":
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


def http_url(host: str, port: int, *, tls: bool = False) -> str:
    scheme = "https" if tls else "http"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class RunningServer:
    """A listening server on the current event loop."""

    def __init__(self, app: web.Application, runner: web.AppRunner, port: int,
                 host: str, certificate: ServerCertificate | None = None) -> None:
        self.app = app
        self.port = port
        self.host = host
        #: what it serves HTTPS with (None: plain HTTP)
        self.certificate = certificate
        self._runner = runner

    @property
    def listen_url(self) -> str:
        """Where it listens, as configured (may be a wildcard address)."""
        return http_url(self.host, self.port, tls=self.certificate is not None)

    @property
    def url(self) -> str:
        """Where a client on this machine can reach it."""
        return http_url("127.0.0.1" if self.host in _WILDCARD_HOSTS else self.host, self.port,
                        tls=self.certificate is not None)

    @property
    def fingerprint(self) -> str | None:
        """SHA-256 (hex) of the self-signed certificate clients pin; None for plain HTTP
        and for a certificate of a CA (clients verify that one the usual way)."""
        return self.certificate.pinned_fingerprint if self.certificate else None

    async def close(self) -> None:
        """Stop listening, drop sockets (app on_shutdown), finish requests, close storage."""
        server = self._runner.server
        transports = [] if server is None else list(server._connections.values())
        await self._runner.cleanup()
        if self.certificate is not None:
            # Closing a TLS connection waits for the peer's close_notify (up to 30 s),
            # which a client holding an idle keep-alive connection never sends; the
            # loop would then end with the socket still open. Requests are done by
            # now: close the sockets without that wait.
            for transport in transports:
                transport.abort()
            await asyncio.sleep(0)


async def start_server(config: ServerConfig) -> RunningServer:
    """Start listening (HTTPS when ``config.serves_tls``); returns once connections are
    accepted."""
    certificate = None
    if config.serves_tls:
        certificate = await asyncio.to_thread(
            server_certificate, config.host, config.data_dir, config.tls_cert, config.tls_key)
    app = build_app(config)
    runner = web.AppRunner(app, handle_signals=False,
                           shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port,
                           ssl_context=certificate.context() if certificate else None)
        await site.start()
        port = int(runner.addresses[0][1])
    except BaseException:
        await runner.cleanup()
        raise
    return RunningServer(app, runner, port, config.host, certificate)


class ServerThread:
    """Runs the server on its own asyncio loop in a daemon thread."""

    def __init__(self, config: ServerConfig) -> None:
        self._config = config
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._server: RunningServer | None = None
        self._error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> str:
        """Start and block until listening; returns the base URL ``http://127.0.0.1:PORT``
        (``https://`` when it serves TLS, see :attr:`fingerprint`)."""
        if self._thread is not None:
            raise RuntimeError("ServerThread can only be started once")
        self._thread = threading.Thread(target=self._run, name="conference-server",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop(timeout)
            raise TimeoutError(f"server did not start within {timeout} s")
        if self._error is not None:
            self._thread.join(timeout)
            raise RuntimeError(f"server failed to start: {self._error}") from self._error
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        """Drop sockets, stop listening, close storage and join the thread. Idempotent."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._ready.wait(timeout)
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"server thread did not stop within {timeout} s")

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not running")
        return self._server.url

    @property
    def fingerprint(self) -> str | None:
        """SHA-256 (hex) of the self-signed certificate it serves (None: plain HTTP, or a
        certificate of a CA)."""
        if self._server is None:
            raise RuntimeError("the server is not running")
        return self._server.fingerprint

    @property
    def app(self) -> web.Application:
        """The running application (for test hooks run through :meth:`run`)."""
        if self._server is None:
            raise RuntimeError("the server is not running")
        return self._server.app

    def run(self, coro_factory: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
        """Run an async callable on the server loop and return its result (test hook)."""
        if self._loop is None or self._server is None:
            raise RuntimeError("the server is not running")

        async def call() -> T:
            return await coro_factory()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout)

    def connection_count(self, session_id: str | None = None) -> int:
        """Live ``/video`` connections, of one session if given."""
        sockets = self.app[SOCKETS]
        return self.run(lambda: sockets.connection_count(session_id))

    def disconnect_all(self, session_id: str | None = None) -> None:
        """Drop every ``/video`` connection at the transport; clients will reconnect."""
        sockets = self.app[SOCKETS]
        self.run(lambda: sockets.drop_connections(session_id))

    # --- thread body ----------------------------------------------------------
    def _run(self) -> None:
        # A loop of the server's own kind, whatever loop policy the host process
        # installed (qasync's would hand this thread a Qt loop it cannot run).
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            self._server = await start_server(self._config)
        except BaseException as exc:  # reported to start() in the caller's thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._server.close()
