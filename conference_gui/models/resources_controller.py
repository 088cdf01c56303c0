"""Keeps the resource model true and carries out what the person asks for.

:class:`ResourceController` listens to the window's one :class:`SocketService`,
feeds events into the model's ledger, fetches a snapshot whenever the ledger
asks for one (first join, gap, reconnect with a different revision), and runs
uploads, downloads and deletes through the :class:`ApiClient`. Widgets only
call its methods and watch its signals.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import os
import time
from collections.abc import Coroutine, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal

from conference_gui.domain.meeting import JoinAck, Participant
from conference_gui.domain.refusals import explain
from conference_gui.domain.resources import (
    Outcome,
    ResourceDeleted,
    ResourceEvent,
    ResourceUploaded,
)
from conference_gui.domain.units import format_size
from conference_gui.models.me import Me
from conference_gui.models.resource_model import ResourceListModel
from conference_gui.services.http_client import (
    ApiClient,
    ApiError,
    Cancelled,
    CancelToken,
    acquire_or_cancel,
)
from conference_gui.services.socket_service import SocketService
from conference_gui.tasks import TaskKeeper

log = logging.getLogger(__name__)

MAX_PARALLEL_UPLOADS = 3
#: Socket events are applied at most once per frame (60 Hz) ...
FRAME_SECONDS = 0.016
#: ... and during a burst (the last frame had more than one) once per this many frames.
BURST_FRAMES = 2


class TransferState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Transfer(QObject):
    """One upload or download the person can watch and cancel.

    Signals:
        changed(): progress or state moved.
    """

    changed = Signal()

    def __init__(self, kind: str, name: str, total: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kind = kind  # "upload" | "download"
        self.name = name
        self.total = total
        self.done = 0
        self.state = TransferState.QUEUED
        self.message = ""
        self.path: Path | None = None
        self.cancel_token = CancelToken()

    @property
    def finished(self) -> bool:
        return self.state in (TransferState.DONE, TransferState.FAILED, TransferState.CANCELLED)

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def set_progress(self, done: int, total: int) -> None:
        if self.finished:  # a late report from a worker after Cancel
            return
        self.done, self.total = done, total or self.total
        self.state = TransferState.RUNNING
        self.changed.emit()

    def finish(self, state: TransferState, message: str = "") -> None:
        self.state, self.message = state, message
        self.changed.emit()


class ResourceController(QObject):
    """Feeds the resource model and performs resource actions.

    Signals:
        transfer_started(Transfer): an upload or download began (the dock shows it).
        error_message(str): something failed that the person should read.
        fetched(int): a snapshot at this revision was loaded (how often we refetch).
    """

    transfer_started = Signal(object)
    error_message = Signal(str)
    fetched = Signal(int)

    def __init__(
        self,
        socket: SocketService,
        api: ApiClient,
        model: ResourceListModel,
        session_id: str,
        me: Me,
        parent: QObject | None = None,
        *,
        download_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        me.changed.connect(self._on_me_changed)
        self._socket = socket
        self._api = api
        self.model = model
        self._ledger = model.ledger
        self._session_id = session_id
        self.download_dir = download_dir or Path.home() / "Downloads"
        self.max_upload_bytes: int | None = None
        self.fetch_count = 0
        self._fetch_task: asyncio.Task[None] | None = None
        self._tasks = TaskKeeper("resources", on_error=self._on_task_error)
        self._upload_slots: asyncio.Semaphore | None = None
        self._queue: list[ResourceEvent] = []
        self._last_flush = -FRAME_SECONDS
        self._frame = FRAME_SECONDS
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._flush_timer.timeout.connect(self._flush)
        socket.joined.connect(self.on_socket_joined)
        socket.resource_uploaded.connect(self.on_resource_event)
        socket.resource_deleted.connect(self.on_resource_event)

    # -- keeping the model true ----------------------------------------------
    def _on_me_changed(self, me: Participant) -> None:
        self.model.set_viewer(me.id, me.is_host)

    def on_socket_joined(self, ack: JoinAck) -> None:
        if self.max_upload_bytes is None:
            self._spawn(self._load_limits())
        if self._ledger.connected(ack.resource_revision) is Outcome.NEED_FETCH:
            self.refetch()

    def on_resource_event(self, event: ResourceEvent) -> None:
        """Apply a socket event at once, or with the others of its frame.

        An event after a quiet frame is applied right here (it shows at once);
        events that follow within the same frame are queued and applied together
        when the frame is over. A burst of thousands of uploads then costs the
        views one row insert and one repaint per frame, not one per event: every
        socket message is its own loop pass, so "once per pass" was once per event.
        While a burst lasts, frames are BURST_FRAMES long: fewer repaints, the
        same events.
        """
        self._queue.append(event)
        if self._flush_timer.isActive():
            return
        wait = self._last_flush + self._frame - time.monotonic()
        if wait <= 0:
            self._flush()
        else:
            self._flush_timer.start(max(1, math.ceil(wait * 1000)))

    def _apply_now(self, event: ResourceEvent) -> None:
        """An answer to our own request: apply it (after anything queued) right away."""
        self._queue.append(event)
        self._flush()

    def _flush(self) -> None:
        self._flush_timer.stop()
        self._last_flush = time.monotonic()
        batch, self._queue = self._queue, []
        self._frame = FRAME_SECONDS * (BURST_FRAMES if len(batch) > 1 else 1)
        if batch and self._ledger.apply_many(batch) is Outcome.NEED_FETCH:
            self.refetch()

    def refetch(self) -> None:
        """Fetch a snapshot unless one is already on its way."""
        if self._fetch_task is None or self._fetch_task.done():
            self._fetch_task = self._spawn(self._fetch_until_consistent())

    async def _fetch_until_consistent(self) -> None:
        delay = 0.2
        while True:
            self._ledger.fetch_started()
            self.fetch_count += 1
            try:
                snapshot = await self._api.list_resources(self._session_id)
            except ApiError as exc:
                self._ledger.fetch_failed()
                log.warning("resource list failed: %s", exc)
                self.error_message.emit(
                    self.tr("Could not load the shared files: %s") % exc.message
                )
                if not self._socket.is_ready:
                    return  # the next join asks again
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            outcome = self._ledger.load_snapshot(snapshot)
            self.fetched.emit(snapshot.revision)
            if outcome is not Outcome.NEED_FETCH:
                return
            await asyncio.sleep(0.05)

    async def _load_limits(self) -> None:
        try:
            self.max_upload_bytes = (await self._api.info()).max_upload_bytes
        except ApiError as exc:
            log.warning("server info unavailable: %s", exc)

    # -- uploads --------------------------------------------------------------
    def check_upload(self, path: Path) -> str | None:
        """Why ``path`` cannot be shared, in words for a person; None if it can."""
        try:
            st = path.stat()
        except OSError as exc:
            return self.tr("“%s” cannot be read: %s") % (path.name, exc.strerror or exc)
        if not path.is_file():
            return self.tr("“%s” is not a file.") % path.name
        if not os.access(path, os.R_OK):
            return self.tr("“%s” cannot be read: permission denied.") % path.name
        if st.st_size == 0:
            return self.tr("“%s” is empty; there is nothing to share.") % path.name
        limit = self.max_upload_bytes
        if limit is not None and st.st_size > limit:
            return self.tr("“%s” is %s; the meeting accepts files up to %s.") % (
                path.name,
                format_size(st.st_size),
                format_size(limit),
            )
        return None

    def upload_files(self, paths: Iterable[Path]) -> list[Transfer]:
        """Start uploading each acceptable file; refuse the others with a message."""
        started = []
        for path in paths:
            problem = self.check_upload(path)
            if problem:
                self.error_message.emit(problem)
                continue
            transfer = Transfer("upload", path.name, path.stat().st_size, self)
            self.transfer_started.emit(transfer)
            self._spawn(self._upload(path, transfer))
            started.append(transfer)
        return started

    async def _upload(self, path: Path, transfer: Transfer) -> None:
        if self._upload_slots is None:
            self._upload_slots = asyncio.Semaphore(MAX_PARALLEL_UPLOADS)
        try:  # a queued upload can be cancelled while it waits for a slot
            await acquire_or_cancel(self._upload_slots, transfer.cancel_token)
        except Cancelled:
            transfer.finish(TransferState.CANCELLED, self.tr("Cancelled"))
            return
        try:
            transfer.set_progress(0, transfer.total)
            try:
                resource, revision = await self._api.upload(
                    self._session_id,
                    path,
                    progress=transfer.set_progress,
                    cancel=transfer.cancel_token,
                )
            except Cancelled:
                transfer.finish(TransferState.CANCELLED, self.tr("Cancelled"))
                return
            except ApiError as exc:
                message = self.tr("Upload of “%s” failed: %s") % (path.name, _explain(exc))
                transfer.finish(TransferState.FAILED, message)
                self.error_message.emit(message)
                return
            except Exception as exc:  # a bug: never leave the transfer "running" forever
                transfer.finish(TransferState.FAILED, self.tr("Upload failed: %s") % exc)
                raise  # logged and reported by the task keeper
        finally:
            self._upload_slots.release()
        # The server confirmed it: show it now, even if the socket event is slower.
        self._apply_now(ResourceUploaded(revision, resource))
        transfer.finish(TransferState.DONE)

    # -- downloads ------------------------------------------------------------
    def download(self, resource_id: str) -> Transfer | None:
        res = self._ledger.get(resource_id)
        if res is None:
            self.error_message.emit(self.tr("That file is no longer shared."))
            return None
        transfer = Transfer("download", res.name, res.size, self)
        self.transfer_started.emit(transfer)
        self._spawn(self._download(resource_id, res.name, transfer))
        return transfer

    async def _download(self, resource_id: str, name: str, transfer: Transfer) -> None:
        try:
            self.download_dir.mkdir(parents=True, exist_ok=True)
            target = unique_path(self.download_dir, name)
            target.touch(exist_ok=False)  # reserve the name against a parallel download
        except OSError as exc:
            message = self.tr("Cannot save to %s: %s") % (self.download_dir, exc.strerror or exc)
            transfer.finish(TransferState.FAILED, message)
            self.error_message.emit(message)
            return
        transfer.set_progress(0, transfer.total)
        try:
            transfer.path = await self._api.download(
                self._session_id,
                resource_id,
                target,
                progress=transfer.set_progress,
                cancel=transfer.cancel_token,
            )
        except Cancelled:
            target.unlink(missing_ok=True)
            transfer.finish(TransferState.CANCELLED, self.tr("Cancelled"))
            return
        except ApiError as exc:
            target.unlink(missing_ok=True)
            message = self.tr("Download of “%s” failed: %s") % (name, _explain(exc))
            transfer.finish(TransferState.FAILED, message)
            self.error_message.emit(message)
            return
        transfer.finish(TransferState.DONE)

    # -- delete ---------------------------------------------------------------
    def request_delete(self, resource_ids: Iterable[str]) -> None:
        """Delete each file in the background; failures arrive as error_message."""
        for rid in resource_ids:
            self._spawn(self._delete_quietly(rid))

    async def _delete_quietly(self, resource_id: str) -> None:
        await self.delete(resource_id)

    async def delete(self, resource_id: str) -> bool:
        res = self._ledger.get(resource_id)
        name = res.name if res else resource_id
        try:
            revision = await self._api.delete_resource(self._session_id, resource_id)
        except ApiError as exc:
            if exc.status == 404:
                self.refetch()  # someone else was faster; make sure the list says so
            self.error_message.emit(self.tr("Could not delete “%s”: %s") % (name, _explain(exc)))
            return False
        self._apply_now(ResourceDeleted(revision, resource_id))
        return True

    # -- tasks ----------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return self._tasks.spawn(coro)

    def _on_task_error(self, exc: BaseException) -> None:
        self.error_message.emit(self.tr("Something went wrong: %s") % exc)

    async def shutdown(self) -> None:
        """Cancel what is running (window closing), transfers included."""
        self._api.close()
        await self._tasks.shutdown()


def unique_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name (1).ext`` … if taken; the name never leaves ``folder``."""
    safe = name.replace("/", "_").replace("\\", "_").replace("\x00", "").strip(". ") or "download"
    candidate = folder / safe
    stem, dot, ext = safe.rpartition(".")
    if not dot:
        stem, ext = safe, ""
    n = 1
    while candidate.exists():
        candidate = folder / (f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})")
        n += 1
    return candidate


def _explain(exc: ApiError) -> str:
    """The words for a failed REST call (one table for the client: domain.refusals)."""
    return QCoreApplication.translate("ResourceController",
                                      explain(exc.code, exc.message, exc.status))
