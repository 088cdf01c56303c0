"""The bytes of resources, on disk under ``<data_dir>/files/<resource id>``.

Uploads are written to ``<data_dir>/tmp/`` first and renamed into place only
when complete, so a half-received file is never visible. File names on disk
are always server-made ids, never anything a user typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

_ID_PATTERN = re.compile(r"[0-9a-f]{8,64}")
_TEMP_SUFFIX = ".part"
#: With several nodes on one folder, temp files and orphans untouched this long belong
#: to a dead process (a live upload writes at least every ``upload_stall_seconds``).
STALE_SECONDS = 600.0


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.files_dir = root / "files"
        self.tmp_dir = root / "tmp"

    def prepare(self, *, shared: bool) -> int:
        """Create the folders and sweep temp files left by a crash (blocking; run it off
        the loop); returns how many went.

        Alone on the folder (SQLite) every temp file is a dead upload. With several
        nodes on the folder (``shared``) only stale ones go: another node may be
        receiving an upload right now.
        """
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        return _sweep(self.tmp_dir.glob(f"*{_TEMP_SUFFIX}"),
                      time.time() - STALE_SECONDS if shared else None)

    def sweep_orphans(self, known: set[str], *, shared: bool) -> int:
        """Delete stored bytes no resource row names (a crash between the file's rename
        and the row's commit, or between a row's delete and the file's); blocking."""
        orphans = (p for p in self.files_dir.iterdir()
                   if p.is_file() and p.name not in known)
        return _sweep(orphans, time.time() - STALE_SECONDS if shared else None)

    def path(self, resource_id: str) -> Path:
        if not _ID_PATTERN.fullmatch(resource_id):
            raise ValueError(f"not a resource id: {resource_id!r}")
        return self.files_dir / resource_id

    async def open_temp(self) -> TempBlob:
        path = self.tmp_dir / f"{uuid.uuid4().hex}{_TEMP_SUFFIX}"
        handle = await asyncio.to_thread(path.open, "xb")
        return TempBlob(path, handle, self)

    async def remove(self, resource_id: str) -> None:
        """Best effort: a failure (e.g. Windows, file open for a download) is logged, not raised."""
        path = self.path(resource_id)
        try:
            await asyncio.to_thread(path.unlink, True)
        except OSError:
            log.warning("could not remove %s; it is orphaned", path, exc_info=True)


def _sweep(paths: Iterable[Path], older_than: float | None) -> int:
    removed = 0
    for path in paths:
        with contextlib.suppress(OSError):
            if older_than is None or path.stat().st_mtime < older_than:
                path.unlink()
                removed += 1
    return removed


#: Written bytes up to this much wait in memory for the next write or the commit: a
#: small file then costs one trip to a worker thread instead of one per write.
WRITE_BUFFER = 64 * 1024


class TempBlob:
    """A file being received. Either :meth:`commit` or :meth:`discard` it."""

    def __init__(self, path: Path, handle: BinaryIO, store: BlobStore) -> None:
        self.path = path
        self._handle = handle
        self._store = store
        self._pending: list[bytes] = []
        self._pending_size = 0

    async def write(self, chunk: bytes) -> None:
        if self._pending_size + len(chunk) <= WRITE_BUFFER:
            self._pending.append(chunk)
            self._pending_size += len(chunk)
            return
        data = self._take(chunk)
        await asyncio.to_thread(self._handle.write, data)

    def _take(self, chunk: bytes = b"") -> bytes:
        data = b"".join([*self._pending, chunk]) if self._pending else chunk
        self._pending.clear()
        self._pending_size = 0
        return data

    async def commit(self, resource_id: str) -> None:
        """Move the complete file into place under its resource id."""
        target = self._store.path(resource_id)
        rest = self._take()

        def finish() -> None:
            if rest:
                self._handle.write(rest)
            self._handle.close()
            os.replace(self.path, target)

        try:
            await asyncio.to_thread(finish)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Close and delete. Synchronous on purpose: it must run even while being cancelled."""
        self._take()
        with contextlib.suppress(OSError):
            self._handle.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
