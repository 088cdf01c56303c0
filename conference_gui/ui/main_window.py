"""The meeting window: creates the one socket and hands it to every part."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QToolButton, QWidget

from conference_gui.domain.invite import InviteLink
from conference_gui.models.resource_model import ResourceListModel
from conference_gui.models.resources_controller import ResourceController
from conference_gui.services.http_client import ApiClient
from conference_gui.services.socket_service import SocketService
from conference_gui.ui.connection_status import ConnectionStatusLabel
from conference_gui.ui.control_bar import ControlBar
from conference_gui.ui.icons import icon
from conference_gui.ui.meeting_docks import MeetingDocks
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
        download_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("videoConferenceWindow")
        self.meeting = meeting
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
            download_dir=download_dir,
        )
        self._closing = False
        self._closed = False

        self._create_center()
        self.resources_dock = ResourcesDock(self.socket, self.resource_model, self.resources, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.resources_dock)
        self.control_bar = ControlBar(
            self.socket, self.resource_model, self.resources_dock.toggleViewAction(), self
        )
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.control_bar)
        self.control_bar.leave_requested.connect(self.close)
        self.meeting_docks = MeetingDocks(self, self.socket, self.control_bar)
        self._create_status_bar()
        self.resources.error_message.connect(self.show_error)

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
        await self.resources.shutdown()
        await self.meeting_docks.shutdown()
        await self.socket.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)

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
