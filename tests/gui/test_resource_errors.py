"""Bad input and failures: a clear message, no phantom row, nothing lost."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLabel

from conference_gui.models.resources_controller import TransferState
from conference_gui.server import ServerThread
from tests.conftest import Loop, Meeting, until


def errors_of(win: Any) -> list[str]:
    seen: list[str] = []
    win.features["resources"].controller.error_message.connect(seen.append)
    return seen


def test_empty_missing_and_oversize_files_are_refused_before_upload(
    aloop: Loop, meeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    ann = windows(meeting, meeting.host)
    seen = errors_of(ann)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:  # sparse: large on paper, cheap on disk
        fh.truncate(600 * 1024 * 1024)

    async def story() -> None:
        await until(
            lambda: (
                ann.socket.is_ready
                and ann.features["resources"].controller.max_upload_bytes is not None
            )
        )
        started = ann.features["resources"].dock.upload([empty, tmp_path / "gone.pdf", big])
        assert started == []
        assert any("empty.txt" in m and "empty" in m for m in seen)
        assert any("gone.pdf" in m and "cannot be read" in m for m in seen)
        assert any("big.bin" in m and "629.1 MB" in m and "536.9 MB" in m for m in seen), seen
        assert ann.features["resources"].model.rowCount() == 0

    aloop.run(story())


def test_cancelled_upload_leaves_no_row_and_no_temp_file(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    ann = windows(meeting, meeting.host)
    src = tmp_path / "movie.bin"
    src.write_bytes(b"\x01" * (8 * 1024 * 1024))

    async def story() -> None:
        await until(lambda: ann.socket.is_ready)
        [transfer] = ann.features["resources"].dock.upload([src])
        transfer.cancel()
        await until(lambda: transfer.finished, what="upload finished")
        assert transfer.state is TransferState.CANCELLED
        await until(
            lambda: not list((tmp_path / "server-data" / "tmp").glob("*")), what="temp gone"
        )
        assert ann.features["resources"].model.rowCount() == 0
        assert meeting.listed(meeting.host)["resources"] == []

    aloop.run(story())


def test_server_failure_during_upload_shows_a_message_and_no_row(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    ann = windows(meeting, meeting.host)
    seen = errors_of(ann)
    src = tmp_path / "report.pdf"
    src.write_bytes(b"%PDF-1.4 fake\n" * 100)
    # A real fault on the server: its files folder is replaced by a plain file,
    # so storing the upload fails inside the server.
    files_dir = tmp_path / "server-data" / "files"
    shutil.rmtree(files_dir, ignore_errors=True)
    files_dir.write_bytes(b"not a folder")

    async def story() -> None:
        await until(lambda: ann.socket.is_ready)
        [transfer] = ann.features["resources"].dock.upload([src])
        await until(lambda: transfer.finished, what="upload finished")
        assert transfer.state is TransferState.FAILED
        assert any("report.pdf" in m and "server had a problem" in m for m in seen), seen
        assert ann.features["resources"].model.rowCount() == 0
        assert meeting.listed(meeting.host)["resources"] == []

    aloop.run(story())


def test_forged_token_shows_a_human_error_in_the_status(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    forged = meeting.join("Mallory")
    forged.token = forged.token[:-4] + ("AAAA" if not forged.token.endswith("AAAA") else "BBBB")
    win = windows(meeting, forged)
    status = win.findChild(QLabel, "connectionStatus")

    async def story() -> None:
        # A refused sign-in is final: the window says why and closes, and the app
        # offers "You were disconnected from …" with the same words (ui/left_screen.py).
        await until(lambda: win.left_because is not None, what="the meeting refused us")
        said = win.left_detail
        assert "invalid token" in said or "sign-in" in said, said
        assert status.text() == said or "sign-in" in status.text() or not win.isVisible()
        assert not win.features["resources"].dock.upload_button.isEnabled()

    aloop.run(story())


def test_download_saves_the_bytes_in_the_download_folder(
    aloop: Loop, meeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    meeting.upload(meeting.host, "Zürich plan.txt", b"hello from the meeting\n")
    bob = windows(meeting, meeting.join("Bob"))

    async def story() -> None:
        await until(lambda: bob.features["resources"].model.rowCount() == 1)
        transfer = bob.features["resources"].controller.download(
            bob.features["resources"].model.resource_at(0).id
        )
        assert transfer is not None
        await until(lambda: transfer.finished)
        assert transfer.state is TransferState.DONE, transfer.message
        assert transfer.path is not None
        assert transfer.path.name == "Zürich plan.txt"
        assert transfer.path.read_bytes() == b"hello from the meeting\n"
        again = bob.features["resources"].controller.download(
            bob.features["resources"].model.resource_at(0).id
        )
        assert again is not None
        await until(lambda: again.finished)
        assert again.path is not None and again.path.name == "Zürich plan (1).txt"

    aloop.run(story())


def test_participant_cannot_delete_someone_elses_file(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    meeting.upload(meeting.host, "host-only.txt", b"x")
    bob = windows(meeting, meeting.join("Bob"))
    seen = errors_of(bob)

    async def story() -> None:
        await until(lambda: bob.features["resources"].model.rowCount() == 1 and bob.socket.is_ready)
        bob.features["resources"].dock.view.selectAll()
        assert not bob.features["resources"].dock.delete_button.isEnabled()  # not offered
        ok = await bob.features["resources"].controller.delete(
            bob.features["resources"].model.resource_at(0).id
        )
        assert not ok  # and refused by the server if forced
        assert any("may not" in m for m in seen), seen
        assert bob.features["resources"].model.rowCount() == 1

    aloop.run(story())


def test_server_refusal_of_an_oversize_file_is_explained(
    aloop: Loop, windows: Any, tmp_path: Path
) -> None:
    """The client's own size check is the first line; the server's 413 is the
    second, for when the client could not learn the limit in time."""
    from conference_gui.server import ServerConfig

    small = ServerThread(ServerConfig(port=0, data_dir=tmp_path / "small", max_upload_mb=1))
    small.start()
    try:
        meeting = Meeting(small.url)
        ann = windows(meeting, meeting.host)
        seen = errors_of(ann)
        src = tmp_path / "video.mp4"
        src.write_bytes(b"\0" * (3 * 1024 * 1024))

        async def story() -> None:
            await until(
                lambda: (
                    ann.socket.is_ready
                    and ann.features["resources"].controller.max_upload_bytes is not None
                )
            )
            ann.features[
                "resources"
            ].controller.max_upload_bytes = None  # as if /api/info had not answered yet
            [transfer] = ann.features["resources"].dock.upload([src])
            await until(lambda: transfer.finished, what="upload finished")
            assert transfer.state is TransferState.FAILED
            assert any("video.mp4" in m and "larger than the meeting accepts" in m for m in seen)
            assert ann.features["resources"].model.rowCount() == 0
            assert not list((tmp_path / "small" / "tmp").glob("*"))

        aloop.run(story())
    finally:
        small.stop()
