"""The meeting window: the shell that features install themselves into.

The window renders and forwards intent. The one socket, the API client and
the shared models belong to the :class:`MeetingSession` it is given; each
feature (resources, participants, chat, polls, the call) adds its dock or
stage, its control-bar buttons and its menu entries through the small API
below, so adding a feature never means editing this constructor.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from typing import Any

from PySide6.QtCore import QProcess, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolButton,
    QWidget,
)

from conference_gui import __version__
from conference_gui.domain.meeting import MeetingEnded
from conference_gui.services.media.media_devices import MediaDevices
from conference_gui.services.settings import RecentMeeting
from conference_gui.services.socket_service import RequestError, SocketService
from conference_gui.session import MeetingInfo, MeetingSession
from conference_gui.ui.connection_status import ConnectionStatusLabel
from conference_gui.ui.control_bar import ControlBar
from conference_gui.ui.icons import icon
from conference_gui.ui.left_screen import LeftBecause
from conference_gui.ui.notifier import Notifier
from conference_gui.ui.preferences_dialog import PreferencesDialog
from conference_gui.ui.toast import ToastHost

log = logging.getLogger(__name__)

#: Width the side docks start with (they share the right area as tabs).
SIDE_DOCK_WIDTH = 340

_TOAST_SETTING = "notifications/toasts"

__all__ = ["MainWindow", "MeetingInfo"]


class MainWindow(QMainWindow):
    """One meeting, one window, one socket (the session's).

    Signals:
        preferences_applied(): the person saved the Preferences dialog.
        closed(): the window closed for good (after the meeting was left cleanly);
            :attr:`left_because` says why (``None``: the window was just closed).
    """

    preferences_applied = Signal()
    closed = Signal()

    def __init__(self, session: MeetingSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoConferenceWindow")
        self.session = session
        self.meeting = session.info
        self.settings = session.settings
        self._update_title()
        session.me.changed.connect(self._update_title)
        self.resize(1000, 640)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self._closing = False
        self._closed = False
        self._closed_told = False
        self._side_docks: list[QDockWidget] = []
        #: The installed features by name (conference_gui.features), for tests and tools.
        self.features: dict[str, Any] = {}
        self.leave_box: QMessageBox | None = None
        self.end_box: QMessageBox | None = None
        self.about_box: QMessageBox | None = None
        self.preferences_dialog: PreferencesDialog | None = None
        self._media_devices: MediaDevices | None = None
        #: Why the person is no longer in the meeting (the app then offers to rejoin).
        self.left_because: LeftBecause | None = None
        self.left_detail = ""

        self._create_stage_placeholder()
        self.control_bar = ControlBar(self)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.control_bar)
        self.control_bar.leave_requested.connect(self.request_leave)
        self.toasts = ToastHost(self)
        self.toasts.setEnabled(self.settings.toasts_enabled())
        self.settings.changed.connect(self._on_setting_changed)
        self.notifier = Notifier(self, self.toasts, self.settings)
        self._create_status_bar()
        self._create_menus()
        if self.meeting.invite is not None:
            self.settings.add_recent_meeting(
                RecentMeeting(self.meeting.title, str(self.meeting.invite))
            )

    @property
    def socket(self) -> SocketService:
        """The session's one socket (the window opens none of its own)."""
        return self.session.socket

    def _update_title(self, *_: object) -> None:
        """Which meeting, and who I am in it: two windows side by side must differ."""
        meeting = self.meeting.title or self.tr("Meeting")
        name = self.session.me.name or self.meeting.name
        self.setWindowTitle(
            self.tr("%1 — %2 — Conference").replace("%1", meeting).replace("%2", name)
            if name
            else self.tr("%s — Conference") % meeting
        )

    # -- what features use ------------------------------------------------------
    def set_stage(self, widget: QWidget) -> None:
        """The centre of the window (the call's video grid)."""
        self.setCentralWidget(widget)

    def add_dock(self, dock: QDockWidget, *, shortcut: str = "", visible: bool = False) -> None:
        """A side dock: right area, sharing it as tabs, toggled from the View menu."""
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        if self._side_docks:
            self.tabifyDockWidget(self._side_docks[0], dock)
        else:
            self.resizeDocks([dock], [SIDE_DOCK_WIDTH], Qt.Orientation.Horizontal)
        self._side_docks.append(dock)
        dock.setVisible(visible)
        action = dock.toggleViewAction()
        if shortcut and action.shortcut().isEmpty():
            action.setShortcut(QKeySequence(shortcut))
        self.view_menu.insertAction(self._view_docks_end, action)

    def add_view_action(self, action: QAction) -> None:
        """An entry in the View menu, after the docks (e.g. Speaker view)."""
        self.view_menu.insertAction(self._view_docks_end, action)
        self.addAction(action)  # its shortcut works while the menu is closed

    def add_meeting_action(self, action: QAction) -> None:
        """An entry at the top of the Meeting menu (e.g. Upload)."""
        self.meeting_menu.insertAction(self._meeting_top_end, action)

    def notify(self, text: str, icon_name: str, *, important: bool = False) -> None:
        """Tell the person about someone else's action (toast, or tray when away)."""
        self.notifier.notify(self.windowTitle(), text, icon_name, important=important)

    def show_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    # -- building ------------------------------------------------------------------
    def _create_stage_placeholder(self) -> None:
        center = QLabel(self.tr("Joining the meeting…"), self)
        center.setObjectName("stage")
        center.setAlignment(Qt.AlignmentFlag.AlignCenter)
        center.setStyleSheet("QLabel#stage { color: palette(mid); font-size: 16px; }")
        self.setCentralWidget(center)

    def _create_status_bar(self) -> None:
        bar = self.statusBar()
        self.connection_status = ConnectionStatusLabel(bar)
        self.socket.state_changed.connect(self.connection_status.show_state)
        self.socket.state_changed.connect(self._on_socket_state)
        self.socket.meeting_ended.connect(self._on_meeting_ended)
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

    def _create_menus(self) -> None:
        menu = self.menuBar()
        meeting = menu.addMenu(self.tr("&Meeting"))
        self.meeting_menu: QMenu = meeting
        self._meeting_top_end = meeting.addSeparator()
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
        self.view_menu: QMenu = view
        self._view_docks_end = view.addSeparator()
        self.toasts_action = view.addAction(self.tr("Show notifications"))
        self.toasts_action.setCheckable(True)
        self.toasts_action.setChecked(self.settings.toasts_enabled())
        self.toasts_action.toggled.connect(self.settings.set_toasts_enabled)

        help_menu = menu.addMenu(self.tr("&Help"))
        help_menu.addAction(self.tr("About Conference"), self.show_about)

    def _on_setting_changed(self, key: str) -> None:
        if key == _TOAST_SETTING:
            enabled = self.settings.toasts_enabled()
            self.toasts.setEnabled(enabled)
            self.toasts_action.setChecked(enabled)

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

    def restore_layout(self) -> None:
        """Geometry and dock layout as the person left them (after features installed docks)."""
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def set_media_devices(self, devices: MediaDevices | None) -> None:
        """The call's devices, for Preferences → Audio & Video (the call feature gives them)."""
        self._media_devices = devices

    def show_preferences(self) -> None:
        if self.preferences_dialog is not None:
            self.preferences_dialog.raise_()  # one at a time: two would fight over devices
            return
        dialog = PreferencesDialog(self.settings, self, devices=self._media_devices)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self.preferences_applied)
        dialog.finished.connect(self._forget_preferences)
        self.preferences_dialog = dialog
        dialog.open()

    def show_device_preferences(self) -> None:
        """Preferences, open on the Audio & Video page."""
        self.show_preferences()
        if self.preferences_dialog is not None:
            self.preferences_dialog.show_audio_video()

    def _forget_preferences(self) -> None:
        self.preferences_dialog = None

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
        box.accepted.connect(lambda: self.leave(LeftBecause.LEFT))
        if self.session.me.is_host:
            # As in meeting apps: the host may end it for everyone instead (asked again,
            # since it cannot be undone and the shared files go with it).
            end = box.addButton(self.tr("End for everyone…"), QMessageBox.ButtonRole.ActionRole)
            end.setObjectName("endMeetingButton")
            end.clicked.connect(self.request_end_meeting)
        box.finished.connect(lambda _: setattr(self, "leave_box", None))
        self.leave_box = box
        box.open()

    def request_end_meeting(self) -> None:
        """Host: end the meeting for everyone, after a confirmation that says what goes."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("End the meeting"),
            self.tr(
                "End “%s” for everyone? Everyone leaves at once and the files shared in "
                "it are deleted from the server. This cannot be undone."
            ) % (self.meeting.title or self.tr("the meeting")),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("confirmEndMeeting")
        box.setTextFormat(Qt.TextFormat.PlainText)
        end = box.addButton(self.tr("End meeting"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        end.clicked.connect(self._end_meeting)
        self.end_box = box
        box.open()

    def _end_meeting(self) -> None:
        self._end_task = asyncio.get_running_loop().create_task(self._send_end_meeting())

    async def _send_end_meeting(self) -> None:
        try:
            await self.socket.end_meeting()
        except RequestError as exc:
            self.show_error(self.tr("Could not end the meeting: %s") % exc.message)

    def _on_meeting_ended(self, ended: MeetingEnded) -> None:
        who = self.tr("you") if ended.ended_by.id == self.meeting.user_id else ended.ended_by.name
        self.leave(LeftBecause.ENDED, self.tr("Ended by %s.") % who)

    def leave(self, because: LeftBecause, detail: str = "") -> None:
        """Leave the meeting and close the window, remembering why."""
        if self.left_because is None:
            self.left_because, self.left_detail = because, detail
        self.close()

    def _on_socket_state(self, state: str, detail: str) -> None:
        # "error" is final: the server refused us (sign-in, meeting gone); the
        # socket stops retrying, and the window says so instead of hanging on.
        if state == "error" and not self._closing and self.left_because is None:
            self.leave(LeftBecause.DISCONNECTED, detail)

    # -- behaviour ----------------------------------------------------------------
    def start(self) -> None:
        """Connect on the running loop (after the window is shown)."""
        self.session.start()

    def copy_invite(self) -> None:
        if self.meeting.invite is not None:
            QGuiApplication.clipboard().setText(str(self.meeting.invite))
            self.statusBar().showMessage(self.tr("Invite link copied."), 3000)

    async def shutdown(self) -> None:
        """Leave the meeting cleanly: every feature stopped, socket disconnected."""
        if self._closed:
            return
        self._closed = True
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        await self.session.shutdown()
        self.toasts.clear()
        self.notifier.hide()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed:
            event.accept()
            self._emit_closed()
            return
        # Disconnecting is async: close for real once it is done.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop running: nothing can be awaited, drop the socket
            self._closed = True
            event.accept()
            self._emit_closed()
            return
        event.ignore()
        if not self._closing:
            self._closing = True
            self._close_task = loop.create_task(self._close_after_shutdown())

    def _emit_closed(self) -> None:
        if not self._closed_told:
            self._closed_told = True
            self.closed.emit()

    async def _close_after_shutdown(self) -> None:
        try:
            await self.shutdown()
        finally:
            self.close()
