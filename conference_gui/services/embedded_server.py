"""The local server that ``conference-gui`` starts when given no server.

It runs in its own thread with its own asyncio loop (``ServerThread``), so no
server work ever happens on the GUI thread; starting and stopping it block,
so both run in an executor.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from pathlib import Path

from conference_gui.server import ServerConfig, ServerThread


class EmbeddedServer:
    """Owns one ``ServerThread`` for the lifetime of the app."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1", port: int = 0, *,
                 insecure_http: bool = False) -> None:
        self._thread = ServerThread(ServerConfig(host=host, port=port, data_dir=data_dir,
                                                 insecure_http=insecure_http))
        self.url: str | None = None
        #: SHA-256 of its self-signed certificate when it serves HTTPS (beyond loopback)
        self.fingerprint: str | None = None

    async def start(self, executor: Executor | None = None) -> str:
        """Start; returns the URL this machine reaches it at (``https://`` with a
        :attr:`fingerprint` when it binds more than loopback)."""
        url = await asyncio.get_running_loop().run_in_executor(executor, self._thread.start)
        self.url = url
        self.fingerprint = self._thread.fingerprint
        return url

    async def stop(self, executor: Executor | None = None) -> None:
        await asyncio.get_running_loop().run_in_executor(executor, self._thread.stop)
