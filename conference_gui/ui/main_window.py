"""The meeting window: creates the one socket and hands it to every part."""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QProcess, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolButton,
    QWidget,
)

from conference_gui import __version__
from conference_gui.domain.invite import InviteLink
from conference_gui.domain.wording import plural
from conference_gui.models.preview import PreviewLoader
from conference_gui.models.resource_filter import UnseenResources
from conference_gui.models.resource_model import ResourceListModel
from conference_gui.models.resources_controller import ResourceController
from conference_gui.services.http_client import ApiClient
from conference_gui.services.settings import AppSettings, RecentMeeting
from conference_gui.services.socket_service import SocketService
from conference_gui.ui.connection_status import ConnectionStatusLabel
from conference_gui.ui.control_bar import ControlBar
from conference_gui.ui.icons import icon
from conference_gui.ui.meeting_docks import MeetingDocks
from conference_gui.ui.preferences_dialog import PreferencesDialog
from conference_gui.ui.resources_dock import ResourcesDock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MeetingInfo:
    """Everything a window needs to take part in one meeting."""

    server_url: str
    session_id: str
    user_id: str
    token: str
    title: str = ""
    invite: InviteLink | None = None


class MainWindow(QMainWindow):
    """One meeting, one window, one socket.

    The window creates the :class:`SocketService`, the :class:`ApiClient` and
    the resource model, then passes them by constructor to the control bar,
    the Resources dock and the other parts. No part creates a client.
    """

    def __init__(
        self,
        meeting: MeetingInfo,
        parent: QWidget | None = None,
        *,
        settings: AppSettings | None = None,
        download_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("videoConferenceWindow")
        self.meeting = meeting
        self.settings = settings if settings is not None else AppSettings(parent=self)
        self.setWindowTitle(
            self.tr("%s — Conference") % meeting.title if meeting.title else self.tr("Conference")
        )
        self.resize(1000, 640)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )

        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="http")
        self.socket = SocketService(
            meeting.server_url, meeting.session_id, meeting.user_id, meeting.token, self
        )
        self.api = ApiClient(meeting.server_url, meeting.token, self._executor)
        self.resource_model = ResourceListModel(self)
        self.resources = ResourceController(
            self.socket,
            self.api,
            self.resource_model,
            meeting.session_id,
            self,
            download_dir=download_dir or self.settings.download_dir(),
        )
        self._closing = False
        self._closed = False

        self._create_center()
        self.preview = PreviewLoader(self.api, meeting.session_id, self)
        self.resources_dock = ResourcesDock(
            self.socket, self.resource_model, self.resources, self, preview=self.preview
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.resources_dock)
        self.control_bar = ControlBar(
            self.socket, self.resource_model, self.resources_dock.toggleViewAction(), self
        )
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.control_bar)
        self.control_bar.leave_requested.connect(self.request_leave)
        self.meeting_docks = MeetingDocks(self, self.socket, self.control_bar)
        self._create_status_bar()
        self._create_unseen_badge()
        self._create_menus()
        self.resources.error_message.connect(self.show_error)
        self.leave_box: QMessageBox | None = None
        self.about_box: QMessageBox | None = None
        self.preferences_dialog: PreferencesDialog | None = None
        self._restore_layout()
        if meeting.invite is not None:
            self.settings.add_recent_meeting(RecentMeeting(meeting.title, str(meeting.invite)))

    # -- building -----------------------------------------------------------------
    def _create_center(self) -> None:
        center = QLabel(self.tr("Video will appear here."), self)
        center.setObjectName("stage")
        center.setAlignment(Qt.AlignmentFlag.AlignCenter)
        center.setStyleSheet("QLabel#stage { color: palette(mid); font-size: 16px; }")
        self.setCentralWidget(center)

    def _create_status_bar(self) -> None:
        bar = self.statusBar()
        self.connection_status = ConnectionStatusLabel(bar)
        self.socket.state_changed.connect(self.connection_status.show_state)
        self.connection_status.show_state(self.socket.state.value, "")
        bar.addPermanentWidget(self.connection_status)
        if self.meeting.invite is not None:
            link = str(self.meeting.invite)
            box = QWidget(bar)
            lay = QHBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            self.invite_label = QLabel(link, box)
            self.invite_label.setObjectName("inviteLink")
            self.invite_label.setTextFormat(Qt.TextFormat.PlainText)
            self.invite_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            copy = QToolButton(box)
            copy.setObjectName("copyInviteButton")
            copy.setIcon(icon("copy"))
            copy.setToolTip(self.tr("Copy the invite link"))
            copy.setAccessibleName(self.tr("Copy invite link"))
            copy.clicked.connect(self.copy_invite)
            lay.addWidget(QLabel(self.tr("Invite:"), box))
            lay.addWidget(self.invite_label)
            lay.addWidget(copy)
            bar.addPermanentWidget(box)

    def _create_unseen_badge(self) -> None:
        """The badge's accent and "N new" until the Resources dock has been seen."""
        self.unseen = UnseenResources(self.resource_model, self)
        self.socket.joined.connect(lambda ack: self.unseen.set_me(ack.me.id))
        dock, button = self.resources_dock, self.control_bar.resources_button
        dock.visibilityChanged.connect(self.unseen.set_watching)
        self.unseen.set_watching(dock.isVisible())

        def describe(*_: object) -> None:
            count, new = self.resource_model.rowCount(), self.unseen.count
            button.setBadgeAccent(new > 0)
            files = plural(count, self.tr("%n file"), self.tr("%n files"))
            text = self.tr("Resources, %s") % files
            if new:
                text += ", " + plural(new, self.tr("%n new"), self.tr("%n new"))
            button.setAccessibleName(text)
            button.setToolTip(text)

        self.unseen.changed.connect(describe)
        button.badgeCountChanged.connect(describe)
        describe()

    def _create_menus(self) -> None:
        menu = self.menuBar()
        meeting = menu.addMenu(self.tr("&Meeting"))
        meeting.addAction(self.resources_dock.upload_action)
        copy = meeting.addAction(icon("copy"), self.tr("Copy invite link"), self.copy_invite)
        copy.setEnabled(self.meeting.invite is not None)
        self.recent_menu = meeting.addMenu(self.tr("Recent meetings"))
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        prefs = meeting.addAction(self.tr("Preferences…"), self.show_preferences)
        prefs.setShortcut(QKeySequence(QKeySequence.StandardKey.Preferences))
        if prefs.shortcut().isEmpty():
            prefs.setShortcut(QKeySequence("Ctrl+,"))
        meeting.addSeparator()
        meeting.addAction(self.control_bar.leave_action)

        view = menu.addMenu(self.tr("&View"))
        self.view_menu = view
        shortcuts = iter(("Ctrl+Shift+R", "Ctrl+Shift+P", "Ctrl+Shift+C", "Ctrl+Shift+O"))
        for dock in self.findChildren(QDockWidget):
            action = dock.toggleViewAction()
            if action.shortcut().isEmpty():
                action.setShortcut(QKeySequence(next(shortcuts, "")))
            view.addAction(action)
        self.toasts_action = view.addAction(self.tr("Show notifications"))
        self.toasts_action.setCheckable(True)
        self.toasts_action.setChecked(self.settings.toasts_enabled())
        self.toasts_action.toggled.connect(self.settings.set_toasts_enabled)

        help_menu = menu.addMenu(self.tr("&Help"))
        help_menu.addAction(self.tr("About Conference"), self.show_about)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = [m for m in self.settings.recent_meetings() if m.link != str(self.meeting.invite)]
        if not recent:
            self.recent_menu.addAction(self.tr("(none yet)")).setEnabled(False)
        for item in recent:
            label = item.title or item.link
            self.recent_menu.addAction(label, functools.partial(self.join_again, item.link))

    def join_again(self, link: str) -> bool:
        """Open another meeting in a new process (one meeting per process and window)."""
        if getattr(sys, "frozen", False):
            program, args = sys.executable, ["--join", link]
        else:
            program, args = sys.executable, ["-m", "conference_gui", "--join", link]
        return bool(QProcess.startDetached(program, args))

    def _restore_layout(self) -> None:
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def show_preferences(self) -> None:
        dialog = PreferencesDialog(self.settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._apply_settings)
        self.preferences_dialog = dialog
        dialog.open()

    def _apply_settings(self) -> None:
        self.resources.download_dir = self.settings.download_dir()
        self.toasts_action.setChecked(self.settings.toasts_enabled())

    def show_about(self) -> None:
        box = QMessageBox(self)
        box.setObjectName("aboutBox")
        box.setWindowTitle(self.tr("About Conference"))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(
            self.tr("Conference %s\nServer: %s\nSettings: %s")
            % (__version__, self.meeting.server_url, self.settings.file_name)
        )
        box.open()
        self.about_box = box

    def request_leave(self) -> None:
        """Ask before leaving: one stray click must not drop someone from a meeting."""
        if self.leave_box is not None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Leave meeting"),
            self.tr("Leave “%s”?") % (self.meeting.title or self.tr("the meeting")),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("confirmLeave")
        box.setTextFormat(Qt.TextFormat.PlainText)
        leave = box.addButton(self.tr("Leave"), QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(leave)
        box.accepted.connect(self.close)
        box.finished.connect(lambda _: setattr(self, "leave_box", None))
        self.leave_box = box
        box.open()

    # -- behaviour ----------------------------------------------------------------
    def start(self) -> None:
        """Connect on the running loop (after the window is shown)."""
        self.socket.start()

    def copy_invite(self) -> None:
        if self.meeting.invite is not None:
            QGuiApplication.clipboard().setText(str(self.meeting.invite))
            self.statusBar().showMessage(self.tr("Invite link copied."), 3000)

    def show_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    async def shutdown(self) -> None:
        """Leave the meeting cleanly: transfers cancelled, socket disconnected."""
        if self._closed:
            return
        self._closed = True
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        await self.resources_dock.shutdown()
        await self.resources.shutdown()
        await self.meeting_docks.shutdown()
        await self.socket.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.preview.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed:
            event.accept()
            return
        # Disconnecting is async: close for real once it is done.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop running: nothing can be awaited, drop the socket
            self._closed = True
            event.accept()
            return
        event.ignore()
        if not self._closing:
            self._closing = True
            self._close_task = loop.create_task(self._close_after_shutdown())

    async def _close_after_shutdown(self) -> None:
        try:
            await self.shutdown()
        finally:
            self.close()
