"""Bad uploads: odd names, wrong sizes, files that vanish, a server that dies mid-way.

Each must end with a clear message for the person and lose nothing: no
half-stored file, no phantom row, the meeting's list unchanged or complete.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import requests

from conference_gui.models.resources_controller import TransferState
from conference_gui.server import ServerThread
from tests.conftest import Loop, Meeting, until

from .conftest import MAX_UPLOAD_MB, ServerProcess, figure
from .support import badge, converged, server_state


def errors_of(win: Any) -> list[str]:
    seen: list[str] = []
    win.features["resources"].controller.error_message.connect(seen.append)
    return seen


def stored_files(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "files").iterdir())


def temp_files(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "tmp").iterdir())


def test_odd_file_names_from_the_window_are_shared_cleaned(
    aloop: Loop, hooked: ServerThread, hmeeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    """Control characters, non-UTF-8 bytes, leading dots, a name that already exists."""
    win = windows(hmeeting, hmeeting.host)
    seen = errors_of(win)
    folder = tmp_path / "odd"
    (folder / "again").mkdir(parents=True)
    raw_names = [
        b"tab\there\x01\x7f.txt",
        b"caf\xe9-latin1.txt",
        b"..hidden.txt",
        b"report.txt",
        b"again/report.txt",
        b"\xe2\x80\xaegpj.exe",
    ]
    paths = []
    for raw in raw_names:
        target = os.path.join(os.fsencode(folder), raw)
        with open(target, "wb") as fh:
            fh.write(b"data of " + raw)
        paths.append(Path(os.fsdecode(target)))

    async def story() -> None:
        await until(lambda: win.socket.is_ready)
        transfers = win.features["resources"].dock.upload(paths)
        assert len(transfers) == len(paths), seen
        await until(lambda: all(t.finished for t in transfers), timeout=30)
        assert [t.state for t in transfers] == [TransferState.DONE] * len(paths), [
            (t.name, t.message) for t in transfers
        ]
        truth = await asyncio.to_thread(server_state, hmeeting)
        await until(lambda: converged(win, truth))
        names = sorted(r.name for r in win.features["resources"].model.ledger.resources())
        # Both report.txt are kept (distinct ids); unsafe characters are gone.
        assert names.count("report.txt") == 2, names
        assert all(not any(ord(c) < 32 or c in "\x7f\u202e/\\" for c in n) for n in names)
        assert "hidden.txt" in names and "gpj.exe" in names, names
        assert any(n.startswith("caf") and n.endswith("-latin1.txt") for n in names), names
        assert seen == []

    aloop.run(story())


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\eve\\secret.txt", "secret.txt"),
        ("/absolute/path.txt", "path.txt"),
        ("..", "file"),
        ("a\x00b.txt", None),  # a raw NUL in a header is a malformed request: 400
        ("n" * 996 + ".txt", "n" * 251 + ".txt"),
        ("\u202etxt.exe", "txt.exe"),
    ],
)
def test_names_with_paths_and_junk_never_become_paths(
    hooked: ServerThread, hmeeting: Meeting, tmp_path: Path, sent: str, shown: str | None
) -> None:
    r = requests.post(
        f"{hmeeting.url}/api/sessions/{hmeeting.session_id}/resources",
        files={"file": (sent, b"payload")},
        timeout=10,
        headers={"Authorization": f"Bearer {hmeeting.host.token}"},
    )
    data = tmp_path / "server-data"
    if shown is None:
        assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_request")
        assert stored_files(data) == [] == temp_files(data)
        return
    assert r.status_code == 201, r.text
    answer = r.json()["resource"]
    assert answer["name"] == shown
    assert stored_files(data) == [answer["id"]]
    everything = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert all(p.startswith("server-data") for p in everything), everything


def test_non_utf8_bytes_in_the_part_header(hooked: ServerThread, hmeeting: Meeting) -> None:
    """A raw Latin-1 file name in the multipart header is accepted, minus the bad byte."""
    boundary = "XyZ"
    body = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="caf\xe9.txt"\r\n\r\n'
        + b"bytes\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    r = requests.post(
        f"{hmeeting.url}/api/sessions/{hmeeting.session_id}/resources",
        data=body,
        timeout=10,
        headers={
            "Authorization": f"Bearer {hmeeting.host.token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    # aiohttp reads header bytes as UTF-8 with surrogate escapes; the server drops the
    # lone surrogate like any unsafe character, so the name stays valid text.
    assert r.status_code == 201, r.text
    assert r.json()["resource"]["name"] == "caf.txt"


def test_empty_file_is_refused_everywhere(
    aloop: Loop, hooked: ServerThread, hmeeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    """Decision: refused. An empty file shares nothing and is almost always a mistake
    (a failed export, a placeholder); the client says so before sending, the server
    answers 422 empty_file to anyone else."""
    r = requests.post(
        f"{hmeeting.url}/api/sessions/{hmeeting.session_id}/resources",
        files={"file": ("empty.txt", b"")},
        timeout=10,
        headers={"Authorization": f"Bearer {hmeeting.host.token}"},
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "empty_file")
    win = windows(hmeeting, hmeeting.host)
    seen = errors_of(win)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")

    async def story() -> None:
        await until(lambda: win.socket.is_ready)
        assert win.features["resources"].dock.upload([empty]) == []
        assert any("empty" in m for m in seen), seen

    aloop.run(story())
    assert stored_files(tmp_path / "server-data") == []


def test_oversize_is_refused_before_the_body_is_read(
    hooked: ServerThread, hmeeting: Meeting, tmp_path: Path
) -> None:
    """A declared 100 MB body to a 1 MiB server: 413 arrives with zero body bytes sent."""
    host, port = hooked.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            f"POST /api/sessions/{hmeeting.session_id}/resources HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: Bearer {hmeeting.host.token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {100 * 1024 * 1024}\r\n\r\n".encode()
        )
        answer = conn.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert '"too_large"' in answer
    assert temp_files(tmp_path / "server-data") == [] == stored_files(tmp_path / "server-data")


def test_oversize_refused_by_the_server_reaches_the_person(
    aloop: Loop, hooked: ServerThread, hmeeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    """The client did not know the limit (say, the server lowered it): the 413 still
    becomes a clear message, even though the server stops reading mid-body."""
    win = windows(hmeeting, hmeeting.host)
    seen = errors_of(win)
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x00" * (MAX_UPLOAD_MB * 1024 * 1024 * 8))

    async def story() -> None:
        await until(
            lambda: (
                win.socket.is_ready
                and win.features["resources"].controller.max_upload_bytes is not None
            )
        )
        win.features[
            "resources"
        ].controller.max_upload_bytes = None  # as if /api/info had not answered
        [transfer] = win.features["resources"].dock.upload([big])
        await until(lambda: transfer.finished, timeout=30)
        assert transfer.state is TransferState.FAILED
        assert any("big.bin" in m and "larger than the meeting accepts" in m for m in seen), seen
        assert win.features["resources"].model.rowCount() == 0

    aloop.run(story())
    data = tmp_path / "server-data"
    assert stored_files(data) == []
    # the refused part file is deleted
    assert temp_files(data) == []


def test_file_gone_or_unreadable_between_choosing_and_uploading(
    aloop: Loop, hooked: ServerThread, hmeeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    """Uploads beyond the 3 parallel slots wait; their files change meanwhile."""
    win = windows(hmeeting, hmeeting.host)
    seen = errors_of(win)
    folder = tmp_path / "pick"
    folder.mkdir()
    files = []
    for i in range(5):
        f = folder / f"f{i}.bin"
        f.write_bytes(bytes([i]) * 512 * 1024)
        files.append(f)

    async def story() -> None:
        await until(lambda: win.socket.is_ready)
        transfers = win.features["resources"].dock.upload(files)
        assert len(transfers) == 5
        files[3].unlink()  # deleted while queued
        files[4].unlink()
        files[4].mkdir()  # replaced by something unreadable as a file
        await until(lambda: all(t.finished for t in transfers), timeout=30)
        states = {t.name: t.state for t in transfers}
        ok = [n for n, s in states.items() if s is TransferState.DONE]
        failed = [t for t in transfers if t.state is TransferState.FAILED]
        # The first three had their slot at once; the others may have raced.
        assert {"f0.bin", "f1.bin", "f2.bin"} <= set(ok), states
        for t in failed:
            assert "cannot read" in t.message.lower(), t.message
            assert any(t.name in m for m in seen), seen
        truth = await asyncio.to_thread(server_state, hmeeting)
        await until(lambda: converged(win, truth))
        assert len(truth[1]) == len(ok)

    aloop.run(story())
    assert temp_files(tmp_path / "server-data") == []


@pytest.mark.timeout(120)
def test_server_dies_mid_upload(
    aloop: Loop, windows: Any, tmp_path: Path, server_processes: list[ServerProcess]
) -> None:
    data = tmp_path / "data"
    proc = ServerProcess(data)
    server_processes.append(proc)
    meeting = Meeting(proc.url)
    win = windows(meeting, meeting.host)
    seen = errors_of(win)
    big = tmp_path / "movie.bin"
    with open(big, "wb") as fh:
        fh.write(os.urandom(1024) * (300 * 1024))  # 300 MiB

    async def story() -> None:
        await until(lambda: win.socket.is_ready)
        [transfer] = win.features["resources"].dock.upload([big])
        await until(lambda: transfer.done > 10 * 1024 * 1024, timeout=30, what="upload under way")
        proc.proc.send_signal(signal.SIGKILL)
        await until(lambda: transfer.finished, timeout=30)
        figure("killed_after_bytes_sent", transfer.done, "B")
        assert transfer.state is TransferState.FAILED
        assert any("movie.bin" in m and "server" in m for m in seen), seen
        assert win.features["resources"].model.rowCount() == 0
        again = await asyncio.to_thread(ServerProcess, data, proc.port)
        server_processes.append(again)
        truth = await asyncio.to_thread(server_state, meeting)
        assert truth == (0, [])
        await until(lambda: converged(win, truth), timeout=30)
        assert badge(win) == 0

    aloop.run(story(), timeout=100)
    assert stored_files(data) == []
