"""First run and everyday polish, tried as a new user would (issue 14)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import requests

from tests.conftest import Loop, Meeting, until


def test_each_window_says_which_meeting_and_who_you_are(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))

    async def story() -> None:
        await until(lambda: ann.socket.is_ready and bob.socket.is_ready)
        await until(lambda: "Bob" in bob.windowTitle())
        assert ann.windowTitle() == "Standup — Ann — Conference"
        assert bob.windowTitle() == "Standup — Bob — Conference"

    aloop.run(story())


def _visible(cls: type) -> list[Any]:
    from PySide6.QtWidgets import QApplication

    return [w for w in QApplication.topLevelWidgets() if isinstance(w, cls) and w.isVisible()]


def test_after_leaving_ann_can_rejoin_or_close(aloop: Loop, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    from conference_gui.app import parse_args, run
    from conference_gui.services.settings import AppSettings
    from conference_gui.ui.left_screen import LeftScreen
    from conference_gui.ui.main_window import MainWindow

    args = parse_args(["--name", "Ann", "--title", "Retro", "--data-dir", str(tmp_path / "d")])
    args.settings = AppSettings.at(tmp_path / "settings.ini")

    async def leave(win: Any) -> None:
        win.request_leave()
        box = win.leave_box
        assert isinstance(box, QMessageBox)
        [leave_button] = [b for b in box.buttons() if b.text() == "Leave"]
        leave_button.click()

    async def story() -> None:
        task = asyncio.ensure_future(run(args))
        await until(lambda: any(w.socket.is_ready for w in _visible(MainWindow)), timeout=20)
        [first] = _visible(MainWindow)
        await leave(first)
        await until(lambda: _visible(LeftScreen), what="You left …")
        [screen] = _visible(LeftScreen)
        assert screen.headline.text() == "You left “Retro”"
        assert screen.rejoin_button.isVisible() and screen.close_button.isVisible()
        screen.rejoin_button.click()
        await until(lambda: any(w.socket.is_ready for w in _visible(MainWindow)), timeout=20,
                    what="back in the meeting")
        [second] = _visible(MainWindow)
        assert second is not first and second.meeting.title == "Retro"
        await leave(second)
        await until(lambda: _visible(LeftScreen))
        _visible(LeftScreen)[0].close_button.click()
        assert await asyncio.wait_for(task, 20) == 0
        assert not _visible(MainWindow)

    aloop.run(story(), timeout=60)


def test_a_refused_sign_in_says_so_instead_of_hanging(
    aloop: Loop, meeting: Meeting, tmp_path: Path
) -> None:
    from conference_gui.app import create_window
    from conference_gui.services.settings import AppSettings
    from conference_gui.ui.left_screen import LeftBecause

    win = create_window(meeting.url, meeting.session_id, meeting.host.user_id, "not-a-token",
                        title="Standup", settings=AppSettings.at(tmp_path / "s.ini"),
                        fake_media=True)

    async def story() -> None:
        await until(lambda: win.left_because is not None, timeout=15)
        assert win.left_because is LeftBecause.DISCONNECTED
        assert "sign-in" in win.left_detail or "token" in win.left_detail.lower()
        await until(lambda: not win.isVisible())

    aloop.run(story())
    aloop.run(win.shutdown())
    win.deleteLater()


def test_the_prejoin_screen_asks_for_a_name_and_remembers_mic_and_camera(
    qtbot: Any, tmp_path: Path
) -> None:
    from conference_gui.services.media import MediaDevices
    from conference_gui.services.settings import AppSettings
    from conference_gui.ui.prejoin import PreJoinDialog

    settings = AppSettings.at(tmp_path / "s.ini")
    devices = MediaDevices(settings, fake=True, name="Ann")
    devices.start()
    try:
        dialog = PreJoinDialog(settings, "Standup", camera=devices.camera_frames,
                               mic_level=devices.mic_level)
        qtbot.addWidget(dialog)
        dialog.show()
        assert not dialog.join_button.isEnabled()  # no name yet
        qtbot.keyClicks(dialog.name_edit, "Ann Lee")
        assert dialog.join_button.isEnabled()
        qtbot.waitUntil(lambda: dialog.preview.property("framesRendered") > 3, timeout=5000)
        qtbot.waitUntil(lambda: dialog.meter.value() > 0, timeout=3000)  # the tone is heard
        dialog.camera_check.click()
        assert dialog.preview.property("cameraOn") is False
        dialog.join_button.click()
        assert dialog.result() == PreJoinDialog.DialogCode.Accepted
        assert settings.display_name() == "Ann Lee"
        assert settings.camera_on_at_join() is False and settings.mic_on_at_join() is True
    finally:
        devices.stop()


def test_the_host_ends_the_meeting_for_everyone(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    from PySide6.QtWidgets import QMessageBox, QPushButton

    from conference_gui.ui.left_screen import LeftBecause

    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))

    async def story() -> None:
        await until(lambda: ann.socket.is_ready and bob.socket.is_ready)
        await until(lambda: ann.session.me.is_host)
        bob.request_leave()
        assert bob.leave_box.findChild(QPushButton, "endMeetingButton") is None  # not host
        bob.leave_box.reject()
        ann.request_leave()
        ann.leave_box.findChild(QPushButton, "endMeetingButton").click()
        box = ann.end_box
        assert isinstance(box, QMessageBox)
        assert "files shared in it are deleted" in box.text()
        [end] = [b for b in box.buttons() if b.text() == "End meeting"]
        end.click()
        await until(lambda: bob.left_because is LeftBecause.ENDED, timeout=10,
                    what="Bob is told the host ended it")
        assert bob.left_detail == "Ended by Ann."
        await until(lambda: ann.left_because is LeftBecause.ENDED, timeout=10)
        gone = requests.get(f"{meeting.url}/api/sessions/{meeting.session_id}/resources",
                            headers={"Authorization": f"Bearer {meeting.host.token}"},
                            timeout=10)
        assert gone.status_code == 410

    aloop.run(story())


def test_others_are_told_when_a_file_is_removed(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))

    async def story() -> None:
        await until(lambda: ann.socket.is_ready and bob.socket.is_ready)
        rid = meeting.upload(meeting.host, "notes.txt", b"notes")["resource"]["id"]
        await until(lambda: bob.features["resources"].model.rowCount() == 1)
        assert await ann.features["resources"].controller.delete(rid)
        await until(lambda: any(t.text() == "Ann removed notes.txt" for t in bob.toasts.toasts()),
                    what="Bob's toast")
        assert not any("removed" in t.text() for t in ann.toasts.toasts())  # her own act

    aloop.run(story())


def test_delete_asks_with_buttons_that_say_what_they_do_and_files_open_where_last_picked(
    aloop: Loop, meeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QMessageBox

    ann = windows(meeting, meeting.host)
    dock = ann.features["resources"].dock

    async def story() -> None:
        await until(lambda: ann.socket.is_ready)
        meeting.upload(meeting.host, "plan.txt", b"plan")
        await until(lambda: ann.features["resources"].model.rowCount() == 1)
        dock.view.selectAll()
        dock.confirm_delete_selected()
        box = dock.confirm_box
        assert isinstance(box, QMessageBox)
        assert sorted(b.text() for b in box.buttons()) == ["Cancel", "Delete"]
        box.reject()

        folder = tmp_path / "slides"
        folder.mkdir()
        ann.settings.set_upload_dir(folder)
        dock.choose_files()
        assert dock.file_dialog is not None
        assert Path(dock.file_dialog.directory().absolutePath()) == folder
        dock.file_dialog.reject()
        # The chat's placeholder fits its field (the dock at its default width).
        ann.features["chat"].dock.show()
        ann.features["chat"].dock.raise_()
        await until(lambda: ann.features["chat"].dock.isVisible())
        await asyncio.sleep(0.05)
        chat_input = ann.features["chat"].dock.input
        metrics = chat_input.fontMetrics()
        assert metrics.horizontalAdvance(chat_input.placeholderText()) < chat_input.width()

    aloop.run(story())
