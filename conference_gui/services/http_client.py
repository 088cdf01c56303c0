"""REST calls of the wire contract, run off the GUI thread.

``requests`` blocks, so every call runs in an executor and the GUI thread only
awaits the result. Two lanes: control calls (list, delete, join, info) run on
the window's executor; transfers (uploads, downloads, previews) on a pool of
their own, at most :data:`MAX_DOWNLOADS` downloads at once, so a refetch or a
delete never waits behind a slow transfer. A transfer can be cancelled at any
time, also while it waits for a slot or for a server that has stopped
answering: its socket is shut down from the GUI thread, and the awaiting
coroutine returns at once. Uploads stream from disk with requests-toolbelt's encoder
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
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests_toolbelt.multipart.encoder import MultipartEncoder, MultipartEncoderMonitor

from conference_gui import protocol as wire
from conference_gui.domain.resources import Resource, Snapshot
from conference_gui.domain.trust import ServerTrust
from conference_gui.domain.wire import PayloadError, decode
from conference_gui.services.tls import certificate_refusal, pool_settings

log = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[int, int], None]

CHUNK = 256 * 1024
PROGRESS_INTERVAL = 0.1  # seconds between progress reports
#: Downloads (and previews) received at once; more wait for a slot.
MAX_DOWNLOADS = 4
#: Threads of the transfer lane: the uploads the resources controller runs at once
#: (3) plus MAX_DOWNLOADS, and one to spare.
TRANSFER_WORKERS = 8
#: How long an upload waits for the server's answer once the body is sent (or for
#: the server to take more of the body); a silent server ends the upload after it.
UPLOAD_READ_TIMEOUT = 60.0


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
    """Set from the GUI thread; read by the worker between chunks, and it shuts down the
    transfer's socket, so a worker blocked on a silent server wakes at once."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[Any] = []
        self._waiters: list[asyncio.Future[None]] = []

    def cancel(self) -> None:
        self._event.set()
        with self._lock:
            sockets, self._sockets = self._sockets, []
            waiters, self._waiters = self._waiters, []
        for sock in sockets:
            _shutdown(sock)
        for waiter in waiters:
            loop = waiter.get_loop()
            loop.call_soon_threadsafe(_resolve, waiter)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def attach(self, sock: Any) -> None:
        """The socket a worker opened for this transfer (called on the worker's thread)."""
        with self._lock:
            if not self._event.is_set():
                self._sockets.append(sock)
                return
        _shutdown(sock)

    def detach_all(self) -> None:
        with self._lock:
            self._sockets.clear()

    async def wait(self) -> None:
        """Returns once the transfer is cancelled."""
        if self.cancelled:
            return
        waiter = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiters.append(waiter)
        if self.cancelled:
            _resolve(waiter)
        await waiter


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _shutdown(sock: Any) -> None:
    import socket

    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


#: The cancel token of the transfer running on this worker thread.
_current = threading.local()


class _TrackedHTTPConnection(urllib3.connection.HTTPConnection):
    """Hands its socket to the current transfer's cancel token."""

    def connect(self) -> None:
        super().connect()
        token: CancelToken | None = getattr(_current, "cancel", None)
        if token is not None and self.sock is not None:
            token.attach(self.sock)


class _TrackedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        token: CancelToken | None = getattr(_current, "cancel", None)
        if token is not None and self.sock is not None:
            token.attach(self.sock)


class _TrackedPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


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
    """Reads a streamed request body CHUNK bytes at a time, and checks an https server's
    certificate as ``trust`` says (``services/tls.py``).

    urllib3 reads 16 KiB per call by default; every read runs the multipart
    encoder and the progress callback in Python, which held a 1 GiB upload to
    ~0.6× curl's speed on a 2-core machine (256 KiB: ~1×, see docs/BENCHMARKS.md).
    """

    def __init__(self, trust: ServerTrust | None = None) -> None:
        self._trust = trust
        super().__init__()

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        if host.get("scheme") == "https":
            settings: Any = pool_settings(self._trust)  # more keys than requests' stubs list
            pool.update(settings)
        return host, pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        super().cert_verify(conn, url, verify, cert)
        if url.lower().startswith("https"):  # the pool's settings, not requests' defaults
            for name, value in pool_settings(self._trust).items():
                if name != "ssl_context":
                    setattr(conn, name, value)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs.setdefault("blocksize", CHUNK)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        # Transfers hand their sockets to their cancel token (see CancelToken).
        self.poolmanager.pool_classes_by_scheme = {"http": _TrackedPool,
                                                   "https": _TrackedHTTPSPool}


class ApiClient:
    """The meeting's REST client; one per window. Control calls run on the window's
    ``executor``; transfers on a lane of their own (see the module docstring)."""

    def __init__(
        self, server_url: str, token: str | None, executor: Executor, *, timeout: float = 15.0,
        upload_read_timeout: float = UPLOAD_READ_TIMEOUT, trust: ServerTrust | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.trust = trust
        self._token = token
        self._executor = executor
        self._timeout = timeout
        self._upload_read_timeout = upload_read_timeout
        self._local = threading.local()
        self._transfers: ThreadPoolExecutor | None = None
        self._download_slots: asyncio.Semaphore | None = None
        self._running: set[CancelToken] = set()

    # -- the transfer lane -------------------------------------------------
    def _transfer_pool(self) -> ThreadPoolExecutor:
        if self._transfers is None:
            self._transfers = ThreadPoolExecutor(TRANSFER_WORKERS,
                                                 thread_name_prefix="http-transfer")
        return self._transfers

    async def _transfer(self, fn: Callable[[], T], cancel: CancelToken) -> T:
        """Run ``fn`` on the transfer lane; returns at once (Cancelled) when cancelled."""
        if cancel.cancelled:
            raise Cancelled()

        def work() -> T:
            _current.cancel = cancel
            try:
                return fn()
            finally:
                _current.cancel = None
                cancel.detach_all()

        self._running.add(cancel)
        future = asyncio.get_running_loop().run_in_executor(self._transfer_pool(), work)
        cancelled = asyncio.ensure_future(cancel.wait())
        racing: list[asyncio.Future[Any]] = [future, cancelled]
        try:
            await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the awaiting task was cancelled (window closing)
            cancel.cancel()
            future.add_done_callback(_retrieve)
            raise
        finally:
            self._running.discard(cancel)
            cancelled.cancel()
        if future.done():
            return future.result()
        future.add_done_callback(_retrieve)  # the worker ends on its own, soon
        raise Cancelled()

    async def _download_slot(self, cancel: CancelToken) -> None:
        """Wait for one of MAX_DOWNLOADS slots (cancellable while waiting)."""
        if self._download_slots is None:
            self._download_slots = asyncio.Semaphore(MAX_DOWNLOADS)
        await acquire_or_cancel(self._download_slots, cancel)

    def close(self) -> None:
        """Cancel every transfer and let the transfer lane's threads go (window closing)."""
        for token in list(self._running):
            token.cancel()
        if self._transfers is not None:
            self._transfers.shutdown(wait=False, cancel_futures=True)
            self._transfers = None

    # -- plumbing ---------------------------------------------------------
    def _session(self) -> requests.Session:
        s: requests.Session | None = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.mount("http://", _ChunkedBodyAdapter())
            s.mount("https://", _ChunkedBodyAdapter(self.trust))
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
            raise _network_error(exc, self.trust) from exc
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
        data = await self._transfer(
            lambda: self._upload_blocking(session_id, path, throttle, cancel), cancel)
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
                with _transfer_session(self.trust) as http:
                    resp = http.post(
                        f"{self.server_url}/api/sessions/{session_id}/resources",
                        data=monitor,
                        headers=headers,
                        timeout=(self._timeout, self._upload_read_timeout),
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
                raise _network_error(exc, self.trust) from exc
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
        await self._download_slot(cancel)
        try:
            return await self._transfer(
                lambda: self._download_blocking(session_id, resource_id, target, throttle,
                                                cancel), cancel)
        finally:
            assert self._download_slots is not None
            self._download_slots.release()

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
            with _transfer_session(self.trust) as http, http.get(
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
            if cancel.cancelled:
                raise Cancelled() from exc
            raise _network_error(exc, self.trust) from exc
        except OSError as exc:
            if cancel.cancelled:
                raise Cancelled() from exc
            raise ApiError(
                0, "disk", f"Cannot save “{target.name}”: {exc.strerror or exc}"
            ) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()


def _transfer_session(trust: ServerTrust | None) -> requests.Session:
    """A session of its own for one transfer: its connection is new, so its socket is
    handed to the transfer's cancel token (pooled connections would not be)."""
    session = requests.Session()
    session.mount("http://", _ChunkedBodyAdapter())
    session.mount("https://", _ChunkedBodyAdapter(trust))
    return session


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # a cancelled transfer's worker error is expected; not logged


async def acquire_or_cancel(slots: asyncio.Semaphore, cancel: CancelToken) -> None:
    """Acquire a slot, or raise Cancelled as soon as the transfer is cancelled."""
    if cancel.cancelled:
        raise Cancelled()
    acquire = asyncio.ensure_future(slots.acquire())
    cancelled = asyncio.ensure_future(cancel.wait())
    racing: list[asyncio.Future[Any]] = [acquire, cancelled]
    try:
        await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
    finally:
        cancelled.cancel()
        if not acquire.done():
            acquire.cancel()
    if acquire.done() and not acquire.cancelled():
        if cancel.cancelled:
            slots.release()
            raise Cancelled()
        return
    raise Cancelled()


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


def _network_error(exc: requests.RequestException, trust: ServerTrust | None = None) -> ApiError:
    refused = certificate_refusal(exc, trust)
    if refused is not None:
        return ApiError(0, *refused)
    if isinstance(exc, requests.Timeout):
        return ApiError(0, "timeout", "The server did not answer in time.")
    if isinstance(exc, requests.ConnectionError):
        return ApiError(0, "unreachable", "Cannot reach the server (connection lost).")
    return ApiError(0, "network", f"Network error: {exc}")
