"""The call: audio and video for everyone in the meeting.

Installs the stage (``videoGrid``) in the centre of the window, the
microphone and camera toggles in the control bar (Ctrl+D / Ctrl+E, as in
Meet), and tells the person about their devices (none found, unplugged,
fell back to the default). The media run off the GUI thread: devices on
their own thread, the WebRTC engine on its own loop and thread; signaling
goes over the session's one socket.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolButton

from conference_gui.domain.call import MediaState
from conference_gui.domain.stage import CAMERA, Tile
from conference_gui.media.exchange import FrameSlot
from conference_gui.models.call_model import CallController
from conference_gui.services.call_service import CallService
from conference_gui.services.media.catalog import DeviceKind
from conference_gui.services.media.media_devices import MediaDevices
from conference_gui.session import MeetingSession
from conference_gui.ui.icons import icon
from conference_gui.ui.main_window import MainWindow
from conference_gui.ui.video_grid import VideoGrid
from conference_gui.ui.video_tile import white_icons

#: Device problems a person must see on the stage (not only in the status bar).
_KIND_WORDS = {
    DeviceKind.MICROPHONE.value: "microphone",
    DeviceKind.CAMERA.value: "camera",
    DeviceKind.SPEAKER.value: "speaker",
}


class CallFeature(QObject):
    """Installs the call into a meeting window.

    Parts: ``devices``, ``service``, ``controller``, ``grid``, ``mic_action``,
    ``camera_action``, ``mic_button``, ``camera_button``.
    """

    name = "call"

    def __init__(self, session: MeetingSession, window: MainWindow) -> None:
        super().__init__(window)
        self._session = session
        self._window = window
        settings = session.settings
        self.devices = MediaDevices(
            settings,
            fake=session.media.fake,
            name=session.info.name or settings.display_name(),
            parent=self,
        )
        window.set_media_devices(self.devices)  # Preferences → Audio & Video uses them
        self.service = CallService(session.socket, parent=self)
        want = MediaState(
            audio=settings.mic_on_at_join(),
            video=settings.camera_on_at_join(),
            screen=False,
        )
        self.controller = CallController(
            session.socket, session.roster, session.me, self.service, self.devices,
            want=want, parent=self,
        )
        self.grid = VideoGrid(self.controller.model, self._slot_for, window)
        window.set_stage(self.grid)

        self.mic_action = self._toggle("micAction", "Ctrl+D", want.audio)
        self.mic_action.toggled.connect(self.controller.set_microphone)
        self.mic_button = self._button("micButton", self.mic_action)
        self.camera_action = self._toggle("cameraAction", "Ctrl+E", want.video)
        self.camera_action.toggled.connect(self.controller.set_camera)
        self.camera_button = self._button("cameraButton", self.camera_action)
        self._show_sending(want)

        self.controller.sending_changed.connect(self._show_sending)
        self.controller.levels_changed.connect(self._show_levels)
        self.controller.mode_changed.connect(self.grid.set_call_mode)
        self.controller.active_changed.connect(self._show_active)
        self.controller.error_message.connect(window.show_error)
        self.devices.device_problem.connect(self._show_device_problem)
        self.devices.device_fell_back.connect(self._tell_fell_back)
        self.service.problem.connect(self._show_call_problem)
        session.on_shutdown(self.name, self.shutdown)
        self.controller.start()

    # -- building ---------------------------------------------------------------------
    def _toggle(self, name: str, shortcut: str, on: bool) -> QAction:
        action = QAction(self._window)
        action.setObjectName(name)
        action.setCheckable(True)
        action.setChecked(on)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self._window.addAction(action)
        return action

    def _button(self, name: str, action: QAction) -> QToolButton:
        button = QToolButton(self._window.control_bar)
        button.setObjectName(name)
        # Off is the state to notice (as in Meet): red, white icon; on looks like any button.
        button.setStyleSheet(
            f"QToolButton#{name}:!checked {{ background: #d93025; color: white;"
            " border-radius: 6px; }"
            f"QToolButton#{name}:checked {{ background: transparent; border: none;"
            " color: palette(window-text); }"
        )
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        button.setDefaultAction(action)
        self._window.control_bar.add_tool_button(button)
        return button

    def _slot_for(self, tile: Tile) -> FrameSlot | None:
        if tile.is_self:
            return self.devices.camera_frames if tile.source == CAMERA else None
        return self.controller.remote_slot(tile.participant_id, tile.source)

    # -- showing state -----------------------------------------------------------------
    def _show_sending(self, media: MediaState) -> None:
        for action, on, on_text, off_text, on_icon, off_icon, key in (
            (self.mic_action, media.audio, self.tr("Mute"), self.tr("Unmute"), "mic",
             "mic-off", "Ctrl+D"),
            (self.camera_action, media.video, self.tr("Stop video"), self.tr("Start video"),
             "camera", "camera-off", "Ctrl+E"),
        ):
            if action.isChecked() != on:
                action.setChecked(on)
            action.setText(on_text if on else off_text)
            action.setIcon(icon(on_icon) if on else icon(off_icon, white_icons()))
            action.setToolTip(f"{on_text if on else off_text} ({key})")
        self.mic_button.setAccessibleName(
            self.tr("Microphone on") if media.audio else self.tr("Microphone off")
        )
        self.camera_button.setAccessibleName(
            self.tr("Camera on") if media.video else self.tr("Camera off")
        )
        self._session.settings.set_mic_on_at_join(media.audio)
        self._session.settings.set_camera_on_at_join(media.video)

    def _show_levels(self) -> None:
        self.grid.set_levels(self.controller.level, self.controller.speaking)

    def _show_active(self, active: bool) -> None:
        self.grid.show_notice(
            "" if active else self.tr("You are in this call in another window.")
        )

    def _show_device_problem(self, kind: str, state: str, message: str) -> None:
        if message:
            self._window.show_error(message)
        if kind == DeviceKind.CAMERA.value and message:
            self.grid.show_notice(message)
        elif kind == DeviceKind.CAMERA.value and self.controller.active:
            self.grid.show_notice("")

    def _tell_fell_back(self, kind: str, old: str, new: str) -> None:
        what = _KIND_WORDS.get(kind, kind)
        self._window.notify(
            self.tr("Your %s “%s” is gone; now using “%s”.") % (what, old, new), "warning",
            important=True,
        )

    def _show_call_problem(self, participant_id: str, message: str) -> None:
        who = self._session.name_of(participant_id) if participant_id else None
        self._window.show_error(f"{who}: {message}" if who else message)

    async def shutdown(self) -> None:
        self.grid.detach()
        await self.controller.shutdown()
