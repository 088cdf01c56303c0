"""Streaming receipt of a multipart upload into a temp file.

Nothing here holds more than one chunk in memory. The declared
``Content-Length`` is checked before any byte is read, and the bytes are
counted while streaming because the length may be absent (chunked) or wrong.
On any failure the temp file is deleted before the exception leaves.
"""

from __future__ import annotations

import contextlib
import mimetypes
import re
from dataclasses import dataclass
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


async def receive_upload(request: web.Request, blobs: BlobStore, max_bytes: int) -> ReceivedUpload:
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type",
                       "Upload with Content-Type multipart/form-data and a field 'file'")
    declared = request.content_length
    if declared is not None and declared > max_bytes + MULTIPART_OVERHEAD:
        raise too_large(max_bytes)
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError) as exc:
        raise ApiError(400, "bad_request", f"Malformed multipart body: {exc}") from None

    received: ReceivedUpload | None = None
    total = 0
    try:
        while True:
            try:
                part = await reader.next()
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
            while chunk := await part.read_chunk(CHUNK_SIZE):
                total += len(chunk)
                if total > max_bytes + MULTIPART_OVERHEAD:
                    raise too_large(max_bytes)
                if received is not None and is_file:
                    received.size += len(chunk)
                    if received.size > max_bytes:
                        raise too_large(max_bytes)
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
