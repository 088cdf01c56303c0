"""Streaming receipt of a multipart upload into a temp file.

Nothing here holds more than one chunk in memory. The declared
``Content-Length`` is checked before any byte is read, and the bytes are
counted while streaming because the length may be absent (chunked) or wrong.
On any failure the temp file is deleted before the exception leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from .blobs import BlobStore, TempBlob
from .errors import ApiError
from .names import clean_filename

FIELD = "file"
#: Room for multipart boundaries and part headers on top of the file itself.
MULTIPART_OVERHEAD = 64 * 1024
CHUNK_SIZE = 256 * 1024
_MEDIA_TYPE = re.compile(r"[\w!#$&^.+-]+/[\w!#$&^.+-]+(\s*;[ -~]*)?")
_GENERIC_TYPE = "application/octet-stream"
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_WHATWG_ESCAPES = {"%22": '"', "%0A": "\n", "%0D": "\r", "%0a": "\n", "%0d": "\r"}


def disposition_params(header: str) -> dict[str, str]:
    """The parameters of a part's ``Content-Disposition``, decoded the way clients encode them.

    Browsers, curl, requests and Qt follow WHATWG: the value is quoted raw,
    ``"`` becomes ``%22``, and a backslash is just a backslash (old Windows
    clients send full ``C:\\...`` paths). aiohttp's parser applies RFC
    quoted-pair unescaping, which would eat those backslashes before the path
    can be stripped, so the header is read here. ``filename*`` (RFC 5987)
    wins over ``filename``.
    """
    params: dict[str, str] = {}
    for match in _PARAM.finditer(header):
        key, value = match.group(1).lower(), match.group(2).strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"')
            value = re.sub(r"%(22|0[AaDd])", lambda m: _WHATWG_ESCAPES[m.group(0)], value)
        params.setdefault(key, value)
    extended = params.pop("filename*", None)
    if extended is not None:
        charset, _, rest = extended.partition("'")
        _language, _, encoded = rest.partition("'")
        with contextlib.suppress(LookupError, UnicodeDecodeError):  # keep plain filename
            params["filename"] = unquote(encoded, encoding=charset or "utf-8", errors="strict")
    return params


@dataclass(slots=True)
class ReceivedUpload:
    blob: TempBlob
    name: str
    size: int
    content_type: str


T = TypeVar("T")


@dataclass(slots=True)
class Budget:
    """How many bytes one upload may still take: the meeting's quota, and the disk's."""

    meeting_room: int
    total_room: int
    meeting_quota: int

    def check(self, size: int) -> None:
        if size > self.meeting_room:
            raise ApiError(413, "quota_exceeded",
                           "This meeting's shared files are full (at most "
                           f"{self.meeting_quota // (1024 * 1024)} MiB); delete some first")
        if size > self.total_room:
            raise ApiError(507, "insufficient_storage", "The server has no room for more files")


@dataclass(slots=True)
class Ticket:
    """One upload in flight: counts what it received towards its meeting's usage."""

    gate: UploadGate
    session_id: str
    user_key: tuple[str, str]
    received: int = 0

    def add(self, n: int) -> None:
        self.received += n
        self.gate.inflight[self.session_id] = self.gate.inflight.get(self.session_id, 0) + n


@dataclass(slots=True)
class UploadGate:
    """Uploads received at the same time, per user and in total, and their bytes so far."""

    per_user: int
    total: int
    inflight: dict[str, int] = field(default_factory=dict)
    _users: dict[tuple[str, str], int] = field(default_factory=dict)
    _running: int = 0

    @contextlib.contextmanager
    def slot(self, session_id: str, user_id: str) -> Iterator[Ticket]:
        key = (session_id, user_id)
        if self._running >= self.total:
            raise ApiError(429, "too_many_uploads",
                           "The server is receiving too many files; try again in a moment")
        if self._users.get(key, 0) >= self.per_user:
            raise ApiError(429, "too_many_uploads",
                           f"At most {self.per_user} of your files are received at once")
        self._running += 1
        self._users[key] = self._users.get(key, 0) + 1
        ticket = Ticket(self, session_id, key)
        try:
            yield ticket
        finally:
            self._running -= 1
            left = self._users[key] - 1
            if left:
                self._users[key] = left
            else:
                del self._users[key]
            rest = self.inflight.get(session_id, 0) - ticket.received
            if rest > 0:
                self.inflight[session_id] = rest
            else:
                self.inflight.pop(session_id, None)

    def inflight_total(self) -> int:
        return sum(self.inflight.values())


class Progress:
    """A body must keep coming: at least ``min_bytes`` in every ``window`` seconds
    (slowloris). Reads that wait longer, or bring less, end the upload with 408."""

    def __init__(self, window: float, min_bytes: int) -> None:
        self.window, self.min_bytes = window, min_bytes
        self._mark = time.monotonic()
        self._since = 0

    def _stalled(self) -> ApiError:
        return ApiError(408, "timeout", f"The upload stopped arriving (less than "
                        f"{self.min_bytes // 1024} KiB in {self.window:g} s)")

    def _tick(self, now: float) -> None:
        if now - self._mark >= self.window:
            if self._since < self.min_bytes:
                raise self._stalled()
            self._mark, self._since = now, 0

    async def read(self, start: Callable[[], Awaitable[T]]) -> T:
        # The read is never cancelled while the upload goes on (a multipart read
        # cancelled halfway could lose bytes); only a stalled upload abandons it.
        self._tick(time.monotonic())
        pending = asyncio.ensure_future(start())
        try:
            while True:
                left = self.window - (time.monotonic() - self._mark)
                done, _ = await asyncio.wait({pending}, timeout=max(left, 0.001))
                if done:
                    return pending.result()  # the caller counts what came
                self._tick(time.monotonic())  # raises when too little came
        except BaseException:
            pending.cancel()
            raise

    def count(self, n: int) -> None:
        self._since += n


def too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "too_large", f"The file is larger than the limit of {max_bytes} bytes")


def content_type_for(header: str | None, name: str) -> str:
    """The part's declared type if it is a real one, else a guess from the name.

    ``application/octet-stream`` says nothing, so a guess is tried for it too.
    """
    header = (header or "").strip()
    if (
        _MEDIA_TYPE.fullmatch(header)
        and len(header) <= 200
        and header.split(";")[0].strip().lower() != _GENERIC_TYPE
    ):
        return header
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or _GENERIC_TYPE


async def receive_upload(request: web.Request, blobs: BlobStore, max_bytes: int, *,
                         budget: Budget | None = None, ticket: Ticket | None = None,
                         progress: Progress | None = None) -> ReceivedUpload:
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type",
                       "Upload with Content-Type multipart/form-data and a field 'file'")
    declared = request.content_length
    if declared is not None and declared > max_bytes + MULTIPART_OVERHEAD:
        raise too_large(max_bytes)
    if budget is not None and declared is not None and declared > MULTIPART_OVERHEAD:
        budget.check(declared - MULTIPART_OVERHEAD)
    progress = progress or Progress(3600.0, 0)
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError) as exc:
        raise ApiError(400, "bad_request", f"Malformed multipart body: {exc}") from None

    received: ReceivedUpload | None = None
    total = 0
    try:
        while True:
            try:
                part = await progress.read(reader.next)
            except (ValueError, AssertionError) as exc:
                raise ApiError(400, "bad_request", f"Malformed multipart body: {exc}") from None
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise ApiError(422, "invalid", "Nested multipart bodies are not supported")
            params = disposition_params(part.headers.get("Content-Disposition", ""))
            is_file = params.get("name") == FIELD
            if is_file and received is not None:
                raise ApiError(422, "invalid", "Send one file per upload request")
            if is_file:
                name = clean_filename(params.get("filename"))
                received = ReceivedUpload(
                    await blobs.open_temp(), name, 0,
                    content_type_for(part.headers.get("Content-Type"), name),
                )
            read_chunk = functools.partial(part.read_chunk, CHUNK_SIZE)
            while chunk := await progress.read(read_chunk):
                progress.count(len(chunk))
                total += len(chunk)
                if total > max_bytes + MULTIPART_OVERHEAD:
                    raise too_large(max_bytes)
                if received is not None and is_file:
                    received.size += len(chunk)
                    if received.size > max_bytes:
                        raise too_large(max_bytes)
                    if budget is not None:
                        budget.check(received.size)
                    if ticket is not None:
                        ticket.add(len(chunk))
                    await received.blob.write(chunk)
        if received is None:
            raise ApiError(422, "invalid", "The multipart body has no field 'file'")
        if received.size == 0:
            raise ApiError(422, "empty_file", "The file is empty; there is nothing to share")
    except BaseException:
        if received is not None:
            received.blob.discard()
        raise
    return received
