"""What a desktop app is expected to remember and offer: settings, filter and
sort, the "new" accent, menus, a Leave that asks first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDockWidget, QMessageBox, QToolButton

from conference_gui.domain.resources import Person, Resource, ResourceUploaded, Snapshot
from conference_gui.models.resource_filter import ResourceFilterModel, SortOrder, UnseenResources
from conference_gui.models.resource_model import ResourceListModel
from conference_gui.services.settings import AppSettings, RecentMeeting
from tests.conftest import Loop, Meeting, until

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def res(n: int, name: str, size: int, by: str = "bob") -> Resource:
    return Resource(
        f"r{n}", "s", name, size, "text/plain", Person(by, by.title()), T0 + timedelta(minutes=n)
    )


def names(model: Any) -> list[str]:
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_settings_round_trip_through_an_ini_file(tmp_path: Path, qapp: Any) -> None:
    path = tmp_path / "s.ini"
    s = AppSettings.at(path)
    s.set_display_name("  Ann  ")
    for i in range(12):
        s.add_recent_meeting(RecentMeeting(f"M{i}", f"http://h/join/{i}?invite=x"))
    s.add_recent_meeting(RecentMeeting("M3 again", "http://h/join/3?invite=x"))
    s.set_toasts_enabled(False)
    s.set_download_dir(tmp_path / "dl")
    s.sync()
    again = AppSettings.at(path)
    assert again.display_name() == "Ann"
    recent = again.recent_meetings()
    assert len(recent) == 8
    assert recent[0] == RecentMeeting("M3 again", "http://h/join/3?invite=x")
    assert [m.link for m in recent].count("http://h/join/3?invite=x") == 1
    assert again.toasts_enabled() is False
    assert again.download_dir() == tmp_path / "dl"


def test_filter_and_sort_over_the_one_model(qtmodeltester: Any) -> None:
    model = ResourceListModel()
    model.ledger.load_snapshot(
        Snapshot(3, (res(1, "beta.txt", 300), res(2, "Alpha.pdf", 10), res(3, "gamma.png", 20)))
    )
    proxy = ResourceFilterModel(model)
    qtmodeltester.check(proxy, force_py=True)
    assert names(proxy) == ["gamma.png", "Alpha.pdf", "beta.txt"]  # newest first
    proxy.set_order(SortOrder.NAME)
    assert names(proxy) == ["Alpha.pdf", "beta.txt", "gamma.png"]
    proxy.set_order(SortOrder.SIZE)
    assert names(proxy) == ["beta.txt", "gamma.png", "Alpha.pdf"]  # largest first
    proxy.set_filter_text("A")
    assert names(proxy) == ["beta.txt", "gamma.png", "Alpha.pdf"]
    proxy.set_filter_text("pdf")
    assert names(proxy) == ["Alpha.pdf"]
    model.ledger.apply(ResourceUploaded(4, res(4, "zeta.pdf", 5)))
    assert names(proxy) == ["Alpha.pdf", "zeta.pdf"]  # live, still sorted and filtered


def test_unseen_counts_others_files_until_the_dock_is_seen(qapp: Any) -> None:
    model = ResourceListModel()
    unseen = UnseenResources(model, "ann")
    model.ledger.load_snapshot(Snapshot(0, ()))
    model.ledger.apply(ResourceUploaded(1, res(1, "a", 1, by="bob")))
    model.ledger.apply(ResourceUploaded(2, res(2, "b", 1, by="ann")))  # my own: not "new"
    assert unseen.count == 1
    unseen.set_watching(True)
    assert unseen.count == 0
    model.ledger.apply(ResourceUploaded(3, res(3, "c", 1)))
    assert unseen.count == 0  # arrived while looking
    unseen.set_watching(False)
    model.ledger.apply(ResourceUploaded(4, res(4, "d", 1)))
    model.ledger.load_snapshot(Snapshot(4, tuple(model.ledger.resources())))  # a resync
    assert unseen.count == 1  # still only "d": the resync does not make seen files new


def test_badge_says_how_many_are_new_until_the_dock_opens(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    bob = windows(meeting, meeting.join("Bob"))
    bob.features["resources"].dock.hide()
    button = bob.findChild(QToolButton, "resourcesButton")

    async def story() -> None:
        await until(lambda: bob.socket.is_ready)
        meeting.upload(meeting.host, "notes.txt", b"notes")
        bob.features["resources"].dock.show()
        await until(lambda: button.property("badgeCount") == 1)
        bob.features["resources"].dock.hide()
        meeting.upload(meeting.host, "slides.pdf", b"%PDF")
        meeting.upload(meeting.host, "plan.txt", b"plan")
        await until(lambda: button.property("badgeCount") == 3)
        # The count is the total; new-ness is a separate dot and its own words.
        assert button.accessibleName() == "Resources, 3 files, 2 new"
        assert button.toolTip() == "Resources: 2 new of 3 files"
        assert button.property("badgeNew") == 2
        assert button.property("badgeAccent") is False  # "orange 3" would read as "3 new"
        bob.features["resources"].dock.show()
        await until(lambda: button.property("badgeNew") == 0)
        assert button.accessibleName() == "Resources, 3 files"

    aloop.run(story())


def test_view_menu_toggles_every_dock_and_leave_asks_first(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    win = windows(meeting, meeting.host)

    async def story() -> None:
        await until(lambda: win.socket.is_ready)
        docks = win.findChildren(QDockWidget)
        in_menu = set(win.view_menu.actions())
        assert docks and all(d.toggleViewAction() in in_menu for d in docks)
        win.control_bar.leave_action.trigger()
        box = win.leave_box
        assert isinstance(box, QMessageBox) and box.isVisible()
        box.reject()  # changed their mind
        await until(lambda: win.leave_box is None)
        assert win.isVisible() and win.socket.is_ready
        win.control_bar.leave_action.trigger()
        assert win.leave_box is not None
        win.leave_box.accept()
        await until(lambda: not win.isVisible(), what="window closed after leaving")
        assert not win.socket.is_ready

    aloop.run(story())


def test_window_layout_is_restored_from_settings(
    aloop: Loop, meeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    from conference_gui.app import create_window

    settings_path = tmp_path / "layout.ini"

    async def story() -> None:
        first = create_window(
            meeting.url,
            meeting.session_id,
            meeting.host.user_id,
            meeting.host.token,
            settings=AppSettings.at(settings_path),
        )
        first.features["resources"].dock.hide()
        first.resize(700, 450)  # the offscreen screen is 800×600
        await first.shutdown()
        first.close()
        second = create_window(
            meeting.url,
            meeting.session_id,
            meeting.host.user_id,
            meeting.host.token,
            settings=AppSettings.at(settings_path),
        )
        try:
            assert not second.features["resources"].dock.isVisible()
            assert (second.width(), second.height()) == (700, 450)
        finally:
            await second.shutdown()
            second.close()

    aloop.run(story())


def test_control_bar_buttons_open_and_close_their_docks_in_order(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    win = windows(meeting, meeting.host)
    bar = win.control_bar

    async def story() -> None:
        button = win.findChild(QToolButton, "resourcesButton")
        win.features["resources"].dock.hide()
        assert not button.isChecked()
        button.click()
        assert win.features["resources"].dock.isVisible() and button.isChecked()
        button.click()
        assert not win.features["resources"].dock.isVisible()
        # Leave stays last, after every meeting button.
        order = [bar.widgetForAction(a) for a in bar.actions()]
        names = [w.objectName() for w in order if w is not None]
        assert names[-1] == "leaveButton", names
        assert (
            names.index("resourcesButton")
            < names.index("raiseHandButton")
            < names.index("leaveButton")
        )

    aloop.run(story())


def test_mentions_are_whole_words_in_any_case() -> None:
    from conference_gui.ui.notifier import mentions

    assert mentions("@ann can you look?", "Ann")
    assert mentions("thanks ANN.", "Ann")
    assert not mentions("annotate this", "Ann")
    assert not mentions("hello", "")
    assert mentions("ping Dave O'Brien!", "Dave O'Brien")


def test_a_mention_reaches_the_person_as_a_toast_when_there_is_no_tray(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    ann = windows(meeting, meeting.host)
    bob = windows(meeting, meeting.join("Bob"))
    notifier = ann.notifier
    toasts = ann.toasts

    def shown() -> list[str]:
        return [t.text() for t in toasts.toasts()]

    async def story() -> None:
        await until(lambda: ann.socket.is_ready and bob.socket.is_ready)
        await until(lambda: ann.features["participants"].controller.me is not None)
        bob.features["chat"].controller.send("<b>@Ann</b> the slides are up")
        await until(lambda: any("Bob mentioned you" in t for t in shown()), what="mention toast")
        assert any("<b>@Ann</b>" in t for t in shown())  # plain text, not HTML
        assert notifier.tray is None  # offscreen has no system tray
        assert notifier.sent_to_tray == 0

    aloop.run(story())


def test_double_clicking_an_image_previews_it(
    aloop: Loop, meeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage

    img = QImage(40, 30, QImage.Format.Format_RGB32)
    img.fill(QColor("#3366cc"))
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    meeting.upload(meeting.host, "chart.png", bytes(data.data()))
    bob = windows(meeting, meeting.join("Bob"))
    dock = bob.features["resources"].dock

    async def story() -> None:
        await until(lambda: dock.view.model().rowCount() == 1)
        dock.view.doubleClicked.emit(dock.view.model().index(0, 0))
        await until(lambda: dock.preview_dialog is not None, what="preview shown")
        assert dock.preview_dialog.windowTitle() == "chart.png"
        shown = dock.preview_dialog.label.pixmap().toImage()
        assert shown.pixelColor(shown.width() // 2, shown.height() // 2) == QColor("#3366cc")
        dock.preview_dialog.close()

    aloop.run(story())


def test_preferences_change_the_download_folder_and_refuse_a_file(
    aloop: Loop, meeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    win = windows(meeting, meeting.host)
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")

    async def story() -> None:
        win.show_preferences()
        dialog = win.preferences_dialog
        assert dialog is not None and dialog.isVisible()
        dialog.folder_edit.setText(str(a_file))
        dialog.save()
        assert dialog.isVisible() and "is a file" in dialog.error.text()
        dialog.name_edit.setText("Annie")
        dialog.folder_edit.setText(str(tmp_path / "inbox"))
        dialog.toasts_box.setChecked(False)
        dialog.save()
        assert not dialog.isVisible()
        assert win.settings.display_name() == "Annie"
        assert win.features["resources"].controller.download_dir == tmp_path / "inbox"
        assert not win.settings.toasts_enabled()
        assert not win.toasts.isEnabled()

    aloop.run(story())


def test_a_burst_of_shared_files_is_announced_in_one_toast(
    aloop: Loop, meeting: Meeting, windows: Any
) -> None:
    bob = windows(meeting, meeting.join("Bob"))
    toasts = bob.toasts

    async def story() -> None:
        await until(lambda: bob.socket.is_ready)
        events = []
        for i in range(3):  # three uploads whose events arrive together
            answer = meeting.upload(meeting.host, f"part-{i}.txt", b"x")
            events.append(ResourceUploaded.from_wire(answer))
        for ev in events:
            bob.socket.resource_uploaded.emit(ev)
        await until(lambda: bob.features["resources"].model.rowCount() == 3)
        await until(lambda: any("shared" in t.text() for t in toasts.toasts()))
        await asyncio.sleep(0.4)  # past the collection window: nothing more comes
        texts = [t.text() for t in toasts.toasts() if "shared" in t.text()]
        assert texts == ["Ann shared 3 files"], texts

    aloop.run(story())
