"""Issue 15, findings 3 and 4: no bad network wedges the client's transfers.

The resource controller and its API client, against a server that takes an
upload's body and never answers, and against the real server behind a link
that sends downloads at 250 KB/s."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conference_gui.models.me import Me
from conference_gui.models.resource_model import ResourceListModel
from conference_gui.models.resources_controller import ResourceController, TransferState
from conference_gui.server import ServerThread
from conference_gui.services.http_client import ApiClient
from conference_gui.services.socket_service import SocketService
from tests.conftest import Loop, Meeting, until


class SilentServer:
    """Accepts connections, reads whatever comes, never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.received = 0
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self._conns.append(conn)
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                self.received += len(data)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


class SlowLink:
    """A TCP proxy to ``port``: requests pass at full speed, answers at ``rate`` bytes/s."""

    def __init__(self, port: int, rate: int) -> None:
        self.upstream, self.rate = port, rate
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                continue
            server = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pump, args=(client, server, 0), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, self.rate),
                             daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, rate: int) -> None:
        chunk = 8192
        try:
            while not self._stop.is_set():
                data = src.recv(chunk)
                if not data:
                    break
                dst.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            src.close()  # each socket is read by exactly one pump, which closes it

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(4, thread_name_prefix="http")  # as the window makes it
    yield pool
    pool.shutdown(wait=False, cancel_futures=True)


def controller_for(url: str, session_id: str, token: str, executor: ThreadPoolExecutor,
                   downloads: Path, **api_options: Any) -> ResourceController:
    socket_service = SocketService(url, session_id, "me", token)  # never started here
    api = ApiClient(url, token, executor, **api_options)
    return ResourceController(socket_service, api, ResourceListModel(), session_id,
                              Me("me"), download_dir=downloads)


def test_cancel_ends_an_upload_to_a_silent_server_within_2_s(
    aloop: Loop, executor: ThreadPoolExecutor, tmp_path: Path
) -> None:
    """Finding 3: to a server that takes the body and never answers, uploads stayed
    "running" for ever, Cancel did nothing, a queued upload ignored Cancel."""
    silent = SilentServer()
    files = []
    for i in range(4):
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(b"x" * 200_000)
        files.append(path)
    controller = controller_for(silent.url, "s", "t", executor, tmp_path / "dl",
                                upload_read_timeout=5.0)

    async def story() -> None:
        transfers = controller.upload_files(files)  # three run, the fourth waits
        await until(lambda: silent.received >= 3 * 200_000, what="bodies sent")
        queued = transfers[3]
        assert queued.state is TransferState.QUEUED
        started = time.monotonic()
        queued.cancel()
        transfers[0].cancel()
        await until(lambda: queued.finished and transfers[0].finished, timeout=2.0,
                    what="both cancelled within 2 s")
        figure_s = time.monotonic() - started
        assert queued.state is TransferState.CANCELLED
        assert transfers[0].state is TransferState.CANCELLED
        assert figure_s < 2.0
        # Without Cancel, the silent server's read timeout ends them with a message.
        await until(lambda: transfers[1].finished and transfers[2].finished, timeout=10.0)
        assert transfers[1].state is TransferState.FAILED
        assert "did not answer in time" in transfers[1].message
        # The control lane was never blocked meanwhile (nothing ran on it).
        assert executor._work_queue.qsize() == 0

    try:
        aloop.run(story())
        aloop.run(controller.shutdown())
    finally:
        silent.close()


def test_a_delete_and_a_refetch_never_wait_behind_slow_downloads(
    aloop: Loop, server: ServerThread, meeting: Meeting, executor: ThreadPoolExecutor,
    tmp_path: Path
) -> None:
    """Finding 4: four slow downloads (8 MiB at 250 KB/s) held every HTTP worker: a delete
    then took 31.8 s instead of 0.02 s. Goal: within 1 s."""
    port = int(server.url.rsplit(":", 1)[1])
    link = SlowLink(port, rate=250_000)
    big = [meeting.upload(meeting.host, f"big{i}.bin", b"b" * (8 * 1024 * 1024))["resource"]
           for i in range(5)]
    small = meeting.upload(meeting.host, "small.txt", b"small")["resource"]
    controller = controller_for(link.url, meeting.session_id, meeting.host.token, executor,
                                tmp_path / "dl")

    async def story() -> None:
        downloads = [controller._spawn(_download(controller, r["id"], tmp_path / f"d{i}"))
                     for i, r in enumerate(big)]  # four run, the fifth waits for a slot
        await until(lambda: len(list((tmp_path).glob("d*.part"))) >= 4, what="downloading")
        started = time.perf_counter()
        assert await controller.delete(small["id"])
        deleted = time.perf_counter() - started
        started = time.perf_counter()
        listing = await controller._api.list_resources(meeting.session_id)
        refetched = time.perf_counter() - started
        assert small["id"] not in {r.id for r in listing.resources}
        print(f"FIGURE delete_during_slow_downloads_s = {deleted:.3f}")
        print(f"FIGURE refetch_during_slow_downloads_s = {refetched:.3f}")
        assert deleted < 1.0 and refetched < 1.0
        assert len(list(tmp_path.glob("d*.part"))) == 4  # at most four at once
        for task in downloads:
            task.cancel()

    try:
        aloop.run(story())
        aloop.run(controller.shutdown())
    finally:
        link.close()


async def _download(controller: ResourceController, rid: str, target: Path) -> None:
    await controller._api.download(controller._session_id, rid, target.with_suffix(".bin"))
