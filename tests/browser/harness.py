"""What the browser tests need around a real headless Chromium.

* :func:`socketio_client_js` finds the real socket.io-client 4 browser build,
  installed by ``.ci/services.sh`` outside the repo (npm cannot be reached from
  the tests' private network namespace).
* :class:`PageServer`: a tiny aiohttp server on loopback, on its own thread,
  that serves the participant page (``page/``) and socket.io-client, and keeps
  the JSON reports the pages POST to ``/report``.
* :class:`Chromium`: headless Chromium with fake camera and microphone, its
  DevTools HTTP endpoint on loopback to open and close tabs.

Everything listens on and talks to 127.0.0.1 only; Chromium is told not to
reach any Google service.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

PAGE_DIR = Path(__file__).resolve().parent / "page"
#: Where ``.ci/services.sh`` installs socket.io-client (``npm install --prefix``).
DEFAULT_JS_PREFIX = "/opt/conference-gui-js"
JS_PREFIX_ENV = "CONFERENCE_GUI_JS_PREFIX"
SOCKETIO_JS_ENV = "CONFERENCE_GUI_SOCKETIO_JS"
CHROMIUM_ENV = "CONFERENCE_GUI_CHROMIUM"


def socketio_client_js() -> Path:
    """The browser build of socket.io-client 4 (``dist/socket.io.min.js``).

    ``$CONFERENCE_GUI_SOCKETIO_JS`` names the file itself; else it is looked for
    under ``$CONFERENCE_GUI_JS_PREFIX`` (default ``/opt/conference-gui-js``).
    Missing → the test fails and says how to install it.
    """
    named = os.environ.get(SOCKETIO_JS_ENV)
    prefix = Path(os.environ.get(JS_PREFIX_ENV, DEFAULT_JS_PREFIX))
    path = Path(named) if named else prefix / "node_modules/socket.io-client/dist/socket.io.min.js"
    if not path.is_file():
        pytest.fail(
            f"socket.io-client's browser build is missing: {path}. Install it outside the "
            f"repo before the tests (they run without a network): `bash .ci/services.sh`, or "
            f"`npm install --prefix {prefix} socket.io-client@4` "
            f"(or point ${SOCKETIO_JS_ENV} at a socket.io.min.js of version 4)."
        )
    package = path.parent.parent / "package.json"
    if package.is_file():
        version = json.loads(package.read_text(encoding="utf-8")).get("version", "")
        if not str(version).startswith("4."):
            pytest.fail(f"{package}: socket.io-client {version}, not 4.x")
    return path


def chromium_binary() -> str:
    """Debian's ``chromium`` (``.ci/services.sh`` installs it), or ``$CONFERENCE_GUI_CHROMIUM``."""
    named = os.environ.get(CHROMIUM_ENV)
    found = named or shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not found:
        pytest.fail("Chromium is missing: `bash .ci/services.sh` installs Debian's chromium")
    return found


class PageServer:
    """Serves the participant page and socket.io-client; collects the pages' reports."""

    def __init__(self) -> None:
        self._js = socketio_client_js()
        self._reports: dict[str, dict[str, Any]] = {}
        self._history: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        self._commands: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="browser-pages",
                                        daemon=True)
        self.url = ""

    def start(self) -> str:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.url = future.result(10)
        return self.url

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_get("/participant.html", self._file(PAGE_DIR / "participant.html"))
        app.router.add_get("/participant.js", self._file(PAGE_DIR / "participant.js"))
        app.router.add_get("/socket.io.min.js", self._file(self._js))
        app.router.add_get("/favicon.ico", _no_content)
        app.router.add_post("/report", self._report)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    @staticmethod
    def _file(path: Path) -> Any:
        async def serve(_request: web.Request) -> web.FileResponse:
            return web.FileResponse(path, headers={"Cache-Control": "no-store"})
        return serve

    async def _report(self, request: web.Request) -> web.Response:
        body = await request.json()
        label = str(body.get("label"))
        with self._lock:
            self._reports[label] = body
            self._history.setdefault(label, []).append((time.monotonic(), body))
            del self._history[label][:-240]
            commands = self._commands.pop(label, {})
        if commands:
            return web.json_response(commands)
        return web.Response(status=204)

    def command(self, label: str, **command: object) -> None:
        """Hand ``command`` to the page in the answer to its next report
        (``drop=True``: close its socket's transport, as a network blip does)."""
        with self._lock:
            self._commands.setdefault(label, {}).update(command)

    def report(self, label: str) -> dict[str, Any] | None:
        """The newest report of the page labelled ``label`` (None before the first)."""
        with self._lock:
            return self._reports.get(label)

    def history(self, label: str) -> list[tuple[float, dict[str, Any]]]:
        with self._lock:
            return list(self._history.get(label, []))

    def forget(self, label: str) -> None:
        with self._lock:
            self._reports.pop(label, None)
            self._history.pop(label, None)

    def page_url(self, *, server: str, session: str, label: str, user: str | None = None,
                 token: str | None = None, invite: str | None = None,
                 name: str | None = None) -> str:
        """The participant page for a REST join made by the test (``user``, ``token``),
        or one the page makes itself (``invite``, ``name``)."""
        fields = {"server": server, "session": session, "label": label, "user": user,
                  "token": token, "invite": invite, "name": name}
        query = urllib.parse.urlencode({k: v for k, v in fields.items() if v is not None})
        return f"{self.url}/participant.html?{query}"

    def stop(self) -> None:
        async def stop() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()


async def _no_content(_request: web.Request) -> web.Response:
    return web.Response(status=204)


#: Chromium without the outside world: fake camera and microphone granted without a
#: prompt, loopback allowed for WebRTC, no Google services, no first-run, no QUIC.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # as root (CI)
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-quic",
    "--disable-extensions",
    "--disable-gpu",
    "--disable-background-timer-throttling",  # a second tab keeps reporting
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--disable-dev-shm-usage",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--metrics-recording-only",
    "--password-store=basic",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


class Chromium:
    """One headless Chromium process; tabs are opened and closed over DevTools' HTTP API."""

    def __init__(self, profile: Path, log: Path) -> None:
        self.profile = profile
        self.log_path = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.devtools = ""

    def start(self, url: str) -> None:
        """Start the browser with ``url`` in its first tab; returns once DevTools answers."""
        self.profile.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        try:
            self.proc = subprocess.Popen(
                [chromium_binary(), *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", url],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"Chromium exited with {self.proc.returncode}:\n{self.log()}")
            if active.is_file():
                lines = active.read_text().split()
                if lines:
                    self.devtools = f"http://127.0.0.1:{lines[0]}"
                    return
            time.sleep(0.1)
        raise AssertionError(f"Chromium's DevTools did not come up:\n{self.log()}")

    def log(self) -> str:
        """The end of Chromium's output, without the lines every run has (no D-Bus,
        no sound card, no mDNS in the tests' namespace)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        noise = ("dbus", "ALSA lib", "alsa_util", "mdns_responder")
        kept = [line for line in lines if not any(n in line for n in noise)]
        return "\n".join(kept)[-4000:]

    def _call(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(self.devtools + path, method=method)
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read().decode()
        try:
            return json.loads(body)
        except ValueError:
            return body

    def tabs(self) -> list[dict[str, Any]]:
        return [t for t in self._call("/json/list") if t.get("type") == "page"]

    def open_tab(self, url: str) -> str:
        """A new tab with ``url``; returns its DevTools id."""
        tab = self._call("/json/new?" + urllib.parse.quote(url, safe=""), method="PUT")
        return str(tab["id"])

    def close_tab(self, url_part: str) -> None:
        """Close the tab whose URL contains ``url_part`` (as a person closes it)."""
        for tab in self.tabs():
            if url_part in tab.get("url", ""):
                self._call(f"/json/close/{tab['id']}")
                return
        raise AssertionError(f"no tab with {url_part!r}: {self.tabs()}")

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        # Its renderer and utility processes are in its own session (process group).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
