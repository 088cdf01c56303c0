"""REST calls of the wire contract, run off the GUI thread.

``requests`` blocks, so every call runs in an executor and the GUI thread only
awaits the result. Uploads stream from disk with requests-toolbelt's encoder
(plain ``files=`` would read the whole file into memory); downloads stream to
a temporary file beside the target. Progress is throttled in the worker and
handed to the loop, so a person sees at most ~10 updates a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import os
import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import requests
from requests.adapters import HTTPAdapter
from requests_toolbelt.multipart.encoder import MultipartEncoder, MultipartEncoderMonitor

from conference_gui import protocol as wire
from conference_gui.domain.resources import Resource, Snapshot
from conference_gui.domain.wire import PayloadError, decode

log = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[int, int], None]

CHUNK = 256 * 1024
PROGRESS_INTERVAL = 0.1  # seconds between progress reports


class ApiError(Exception):
    """A failed REST call: HTTP status (0 when none), contract code, human message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class Cancelled(Exception):
    """The person cancelled the transfer."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What ``POST /api/sessions`` or ``/join`` hands back."""

    server_url: str
    session_id: str
    session_title: str
    user_id: str
    token: str
    invite: str | None = None


@dataclass(frozen=True, slots=True)
class ServerInfo:
    version: str
    max_upload_bytes: int


class CancelToken:
    """Set from the GUI thread, read by the worker between chunks."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class _Throttle:
    """Calls ``report`` on the loop at most every PROGRESS_INTERVAL, and always at the end."""

    def __init__(self, loop: asyncio.AbstractEventLoop, report: Progress | None) -> None:
        self._loop, self._report, self._last = loop, report, 0.0

    def __call__(self, done: int, total: int, *, final: bool = False) -> None:
        if self._report is None:
            return
        if not final and 0 < total <= done:
            return  # the final report says "all of it"; it would say it twice
        now = time.monotonic()
        if final or now - self._last >= PROGRESS_INTERVAL:
            self._last = now
            self._loop.call_soon_threadsafe(self._report, done, total)


class _ChunkedBodyAdapter(HTTPAdapter):
    """Reads a streamed request body CHUNK bytes at a time.

    urllib3 reads 16 KiB per call by default; every read runs the multipart
    encoder and the progress callback in Python, which held a 1 GiB upload to
    ~0.6× curl's speed on a 2-core machine (256 KiB: ~1×, see docs/BENCHMARKS.md).
    """

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs.setdefault("blocksize", CHUNK)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


class ApiClient:
    """The meeting's REST client; one per window, sharing the window's executor."""

    def __init__(
        self, server_url: str, token: str | None, executor: Executor, *, timeout: float = 15.0
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self._token = token
        self._executor = executor
        self._timeout = timeout
        self._local = threading.local()

    # -- plumbing ---------------------------------------------------------
    def _session(self) -> requests.Session:
        s: requests.Session | None = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.mount("http://", _ChunkedBodyAdapter())
            s.mount("https://", _ChunkedBodyAdapter())
            self._local.session = s
        return s

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            resp = self._session().request(
                method,
                self.server_url + path,
                json=body,
                headers=self._headers(),
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise _network_error(exc) from exc
        return _answer(resp)

    # -- sessions (no token needed) -----------------------------------------
    async def info(self) -> ServerInfo:
        data = await self._run(lambda: self._json("GET", "/api/info"))
        try:
            info = decode(data, wire.ServerInfo)
            return ServerInfo(version=info.version, max_upload_bytes=info.max_upload_bytes)
        except PayloadError as exc:
            raise ApiError(0, "bad_answer", f"The server answered /api/info badly: {exc}") from exc

    async def create_session(self, title: str, name: str) -> Credentials:
        data = await self._run(
            lambda: self._json("POST", "/api/sessions", {"title": title, "name": name})
        )
        return self._credentials(data, invite=data.get("invite"))

    async def join_session(self, session_id: str, name: str, invite: str) -> Credentials:
        data = await self._run(
            lambda: self._json(
                "POST", f"/api/sessions/{session_id}/join", {"name": name, "invite": invite}
            )
        )
        return self._credentials(data, invite=invite)

    def _credentials(self, data: dict[str, Any], invite: object) -> Credentials:
        try:
            joined = decode(data, wire.SessionJoined)
            return Credentials(
                server_url=self.server_url,
                session_id=joined.session.id,
                session_title=joined.session.title,
                user_id=joined.user_id,
                token=joined.token,
                invite=invite if isinstance(invite, str) else None,
            )
        except PayloadError as exc:
            raise ApiError(0, "bad_answer", f"The server answered badly: {exc}") from exc

    # -- resources --------------------------------------------------------
    async def list_resources(self, session_id: str) -> Snapshot:
        data = await self._run(lambda: self._json("GET", f"/api/sessions/{session_id}/resources"))
        try:
            return Snapshot.from_wire(data)
        except PayloadError as exc:
            raise ApiError(0, "bad_answer", f"The resource list was malformed: {exc}") from exc

    async def delete_resource(self, session_id: str, resource_id: str) -> int:
        data = await self._run(
            lambda: self._json("DELETE", f"/api/sessions/{session_id}/resources/{resource_id}")
        )
        try:
            return decode(data, wire.RevisionAnswer).revision
        except PayloadError as exc:
            raise ApiError(0, "bad_answer", str(exc)) from exc

    async def upload(
        self,
        session_id: str,
        path: Path,
        *,
        progress: Progress | None = None,
        cancel: CancelToken | None = None,
    ) -> tuple[Resource, int]:
        """Stream ``path`` as multipart field ``file``; never holds the file in memory."""
        throttle = _Throttle(asyncio.get_running_loop(), progress)
        cancel = cancel or CancelToken()
        data = await self._run(lambda: self._upload_blocking(session_id, path, throttle, cancel))
        try:
            stored = decode(data, wire.ResourceStored)
            return Resource.of(stored.resource), stored.revision
        except PayloadError as exc:
            raise ApiError(0, "bad_answer", f"The upload answer was malformed: {exc}") from exc

    def _upload_blocking(
        self, session_id: str, path: Path, throttle: _Throttle, cancel: CancelToken
    ) -> dict[str, Any]:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        try:
            fh: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed in finally below
        except OSError as exc:
            raise ApiError(
                0, "unreadable", f"Cannot read “{path.name}”: {exc.strerror or exc}"
            ) from exc
        try:
            # A name that is not valid UTF-8 on disk (surrogate escapes) is sent
            # with U+FFFD in place of the bad bytes; it could not be encoded otherwise.
            # Control characters are dropped: raw in a header they make the request
            # invalid, and the server would remove them anyway.
            wire_name = path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            wire_name = "".join(c for c in wire_name if unicodedata.category(c) != "Cc")
            encoder = MultipartEncoder(fields={"file": (wire_name, fh, content_type)})
            total = encoder.len

            def on_read(monitor: MultipartEncoderMonitor) -> None:
                if cancel.cancelled:
                    raise Cancelled()
                throttle(monitor.bytes_read, total)

            monitor = MultipartEncoderMonitor(encoder, on_read)
            headers = {**self._headers(), "Content-Type": monitor.content_type}
            try:
                resp = self._session().post(
                    f"{self.server_url}/api/sessions/{session_id}/resources",
                    data=monitor,
                    headers=headers,
                    timeout=(self._timeout, None),
                )
            except Cancelled:
                raise
            except requests.RequestException as exc:
                if cancel.cancelled:
                    raise Cancelled() from exc
                # The server may have answered (413) and closed before we finished sending.
                resp_obj = getattr(exc, "response", None)
                if resp_obj is not None:
                    return _answer(resp_obj)
                raise _network_error(exc) from exc
            throttle(total, total, final=True)
            return _answer(resp)
        finally:
            fh.close()

    async def download(
        self,
        session_id: str,
        resource_id: str,
        target: Path,
        *,
        progress: Progress | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Stream the bytes to ``target`` (via a partial file renamed at the end)."""
        throttle = _Throttle(asyncio.get_running_loop(), progress)
        cancel = cancel or CancelToken()
        return await self._run(
            lambda: self._download_blocking(session_id, resource_id, target, throttle, cancel)
        )

    def _download_blocking(
        self,
        session_id: str,
        resource_id: str,
        target: Path,
        throttle: _Throttle,
        cancel: CancelToken,
    ) -> Path:
        url = f"{self.server_url}/api/sessions/{session_id}/resources/{resource_id}/content"
        partial = target.with_name(target.name + ".part")
        try:
            with self._session().get(
                url, headers=self._headers(), stream=True, timeout=self._timeout
            ) as resp:
                if resp.status_code != 200:
                    _answer(resp)
                total = int(resp.headers.get("Content-Length") or 0)
                done = 0
                with open(partial, "wb") as out:
                    for chunk in resp.iter_content(CHUNK):
                        if cancel.cancelled:
                            raise Cancelled()
                        out.write(chunk)
                        done += len(chunk)
                        throttle(done, total)
            os.replace(partial, target)
            throttle(done, total, final=True)
            return target
        except requests.RequestException as exc:
            raise _network_error(exc) from exc
        except OSError as exc:
            raise ApiError(
                0, "disk", f"Cannot save “{target.name}”: {exc.strerror or exc}"
            ) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()


def _answer(resp: requests.Response) -> dict[str, Any]:
    """Parse a JSON answer; turn the contract's error shape into ApiError."""
    try:
        data = resp.json()
    except ValueError:
        data = None
    if resp.status_code >= 400:
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict):
            raise ApiError(
                resp.status_code, str(err.get("code", "error")), str(err.get("message", ""))
            )
        raise ApiError(
            resp.status_code, "http_error", f"The server answered {resp.status_code} {resp.reason}."
        )
    if not isinstance(data, dict):
        raise ApiError(resp.status_code, "bad_answer", "The server's answer was not a JSON object.")
    return data


def _network_error(exc: requests.RequestException) -> ApiError:
    if isinstance(exc, requests.Timeout):
        return ApiError(0, "timeout", "The server did not answer in time.")
    if isinstance(exc, requests.ConnectionError):
        return ApiError(0, "unreachable", "Cannot reach the server (connection lost).")
    return ApiError(0, "network", f"Network error: {exc}")
