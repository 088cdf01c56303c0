"""``conference-server`` in a child process, to stop, kill and restart (tests and bench)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from conference_gui.server.testhooks import ENV_SWITCH


class ServerProcess:
    """``conference-server`` in a child process (with test hooks), to stop or kill."""

    def __init__(
        self, data_dir: Path, port: int = 0, *, hooks: bool = True, extra: tuple[str, ...] = ()
    ) -> None:
        env = dict(os.environ)
        if hooks:
            env[ENV_SWITCH] = "1"
        else:
            env.pop(ENV_SWITCH, None)
        self.log_path = data_dir.parent / f"server-{data_dir.name}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "conference_gui.server",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
        )
        self.url = self._wait_for_url()
        self.port = int(self.url.rsplit(":", 1)[1])

    def _wait_for_url(self, timeout: float = 20.0) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline().decode()
                if line.startswith("listening on "):
                    return line.removeprefix("listening on ").strip()
                if not line and self.proc.poll() is not None:
                    break
        self.kill()
        raise RuntimeError(f"server did not start: {self.log_path.read_text(errors='replace')}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not go. Idempotent."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._close()

    def _close(self) -> None:
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self._log.closed:
            self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")
