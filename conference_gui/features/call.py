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
from PySide6.QtWidgets import QMenu, QToolButton

from conference_gui.domain.call import MediaState
from conference_gui.domain.meeting import REACTION_EMOJI, Reaction
from conference_gui.domain.stage import CAMERA, SCREEN, Tile
from conference_gui.media.exchange import FrameSlot
from conference_gui.models.call_extras import CallQuality, MutedTalk, Spotlight
from conference_gui.models.call_model import CallController
from conference_gui.services.call_service import CallService
from conference_gui.services.media.catalog import DeviceKind
from conference_gui.services.media.media_devices import MediaDevices
from conference_gui.services.socket_service import RequestError
from conference_gui.session import MeetingSession
from conference_gui.tasks import TaskKeeper
from conference_gui.ui.icons import icon
from conference_gui.ui.main_window import MainWindow
from conference_gui.ui.push_to_talk import PushToTalkKey
from conference_gui.ui.screen_picker import ScreenPicker
from conference_gui.ui.video_grid import GRID, SPEAKER, VideoGrid
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
        self.spotlight = Spotlight(self.controller, session.me.id, self)
        self.muted_talk = MutedTalk(self.controller, self)
        self.quality = CallQuality(self.controller, self)

        self.mic_action = self._toggle("micAction", "Ctrl+D", want.audio)
        self.mic_action.toggled.connect(self.controller.set_microphone)
        self.mic_button = self._button("micButton", self.mic_action)
        self.camera_action = self._toggle("cameraAction", "Ctrl+E", want.video)
        self.camera_action.toggled.connect(self.controller.set_camera)
        self.camera_button = self._button("cameraButton", self.camera_action)
        self.screen_action = self._toggle("screenShareAction", "Ctrl+Alt+D", False)
        self.screen_action.toggled.connect(self._screen_toggled)
        self.screen_button = self._button("screenShareButton", self.screen_action,
                                          styled=False)
        self._set_screen_checked(False)  # its words, icon and tooltip from the start
        self.screen_picker: ScreenPicker | None = None
        self._layout_before_share: bool | None = None
        self.service.set_screen(self.devices.screen_frames)
        self.devices.screen.ended.connect(self._screen_ended)
        self._show_sending(want)

        self.speaker_view_action = QAction(self.tr("Speaker view"), window)
        self.speaker_view_action.setObjectName("speakerViewAction")
        self.speaker_view_action.setCheckable(True)
        self.speaker_view_action.setShortcut(QKeySequence("Ctrl+Alt+S"))
        self.speaker_view_action.setToolTip(
            self.tr("The one speaking large, the others in a strip (Ctrl+Alt+S)")
        )
        self.speaker_view_action.toggled.connect(self._show_layout)
        window.add_view_action(self.speaker_view_action)
        self.layout_button = self._button("layoutButton", self.speaker_view_action,
                                          styled=False)
        self._show_layout(False)
        self.push_to_talk = PushToTalkKey(window, self.muted_talk.press, self.muted_talk.release)
        self.react_button = self._reactions_button()
        session.socket.reaction_received.connect(self._show_reaction)

        self.controller.sending_changed.connect(self._show_sending)
        self.controller.levels_changed.connect(self._show_levels)
        self.controller.mode_changed.connect(self.grid.set_call_mode)
        self.controller.call_notice.connect(self.grid.set_notice)
        self.controller.active_changed.connect(self._show_active)
        self.spotlight.focus_changed.connect(self._show_focus)
        self.grid.pin_requested.connect(self._pin)
        self.grid.notice_button.clicked.connect(self._claim_call)
        self.grid.sharing_stop_button.clicked.connect(self.stop_sharing)
        for signal in (self.controller.model.rowsInserted, self.controller.model.rowsRemoved,
                       self.controller.model.modelReset):
            signal.connect(self._follow_shared_screens)
        self.muted_talk.hint_changed.connect(self._show_muted_hint)
        self.muted_talk.push_to_talk_changed.connect(self._show_push_to_talk)
        self.quality.changed.connect(self._show_quality)
        self.quality.uplink_changed.connect(self._show_uplink)
        self.controller.error_message.connect(window.show_error)
        self.devices.device_problem.connect(self._show_device_problem)
        self.devices.devices_changed.connect(self._offer_camera)
        self.devices.device_fell_back.connect(self._tell_fell_back)
        self.service.problem.connect(self._show_call_problem)
        session.on_shutdown(self.name, self.shutdown)
        self.controller.start()
        self.quality.start()
        self._offer_camera()

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

    def _button(self, name: str, action: QAction, *, styled: bool = True) -> QToolButton:
        button = QToolButton(self._window.control_bar)
        button.setObjectName(name)
        if styled:
            # Off is the state to notice (as in Meet): red, white icon; on looks plain.
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

    def _reactions_button(self) -> QToolButton:
        """Thumbs up, clap, laugh, …: shown briefly over your tile in every window."""
        button = QToolButton(self._window.control_bar)
        button.setObjectName("reactButton")
        button.setText(self.tr("React"))
        button.setIcon(icon("reaction"))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setToolTip(self.tr("Send a reaction"))
        menu = QMenu(button)
        menu.setObjectName("reactionsMenu")
        for name, emoji in REACTION_EMOJI.items():
            action = menu.addAction(emoji)
            action.setObjectName(f"react-{name}")
            action.setToolTip(name.replace("-", " "))
            action.triggered.connect(lambda _=False, n=name: self._react(n))
        button.setMenu(menu)
        self._window.control_bar.add_tool_button(button)
        self._reaction_tasks = TaskKeeper("reactions")
        return button

    def _react(self, reaction: str) -> None:
        self._reaction_tasks.spawn(self._send_reaction(reaction))

    async def _send_reaction(self, reaction: str) -> None:
        try:
            await self._session.socket.send_reaction(reaction)
        except RequestError as exc:
            self._window.show_error(self.tr("Reaction not sent: %s") % exc.message)

    def _show_reaction(self, reaction: Reaction) -> None:
        tile = self.grid.tile(reaction.participant_id)
        if tile is not None and reaction.emoji:
            tile.show_reaction(reaction.emoji)

    def _slot_for(self, tile: Tile) -> FrameSlot | None:
        if tile.is_self:
            # Your own screen: a copy scaled to the tile on the device thread.
            return self.devices.camera_frames if tile.source == CAMERA else (
                self.devices.screen.preview
            )
        return self.controller.remote_slot(tile.participant_id, tile.source)

    # -- screen sharing -------------------------------------------------------------
    def _screen_toggled(self, on: bool) -> None:
        """On: pick a screen or window first (the picker shares); off: stop sharing."""
        sharing = self.devices.screen.running
        if on and not sharing:
            self._set_screen_checked(False)  # checked only once something is shared
            self.open_screen_picker()
        elif not on and sharing:
            self.stop_sharing()

    def open_screen_picker(self) -> None:
        if self.screen_picker is not None:
            self.screen_picker.raise_()
            return
        picker = ScreenPicker(self.devices.screen, self._window)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        picker.source_chosen.connect(self.share)
        picker.finished.connect(lambda _: setattr(self, "screen_picker", None))
        self.screen_picker = picker
        picker.open()

    def share(self, source: object) -> None:
        """Share ``source`` (a ScreenSource from the picker) on the offer's third section."""
        self.devices.screen.start(source)  # type: ignore[arg-type]
        self.controller.set_screen_sharing(True)
        self._set_screen_checked(True)
        self.grid.set_sharing_bar(self.tr("You are sharing your screen"))

    def stop_sharing(self) -> None:
        self.devices.screen.stop()
        self.controller.set_screen_sharing(False)
        self._set_screen_checked(False)
        self.grid.set_sharing_bar("")

    def _screen_ended(self, message: str) -> None:
        self.stop_sharing()
        if message:
            self._window.show_error(message)
            self._window.notify(message, "screen-share")

    def _set_screen_checked(self, on: bool) -> None:
        blocked = self.screen_action.blockSignals(True)
        self.screen_action.setChecked(on)
        self.screen_action.blockSignals(blocked)
        text = self.tr("Stop sharing") if on else self.tr("Share screen")
        self.screen_action.setText(text)
        self.screen_action.setIcon(icon("screen-share"))
        self.screen_action.setToolTip(f"{text} (Ctrl+Alt+D)")
        self.screen_button.setAccessibleName(
            self.tr("Sharing your screen") if on else self.tr("Share your screen")
        )

    def _follow_shared_screens(self, *_: object) -> None:
        """Someone else shares: show it large (speaker view), and back when it ends."""
        shared = any(t.source == SCREEN and not t.is_self for t in self.controller.stage)
        if shared and self._layout_before_share is None:
            self._layout_before_share = self.speaker_view_action.isChecked()
            self.speaker_view_action.setChecked(True)
        elif not shared and self._layout_before_share is not None:
            self.speaker_view_action.setChecked(self._layout_before_share)
            self._layout_before_share = None

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

    def _show_layout(self, speaker: bool) -> None:
        self.grid.set_layout_mode(SPEAKER if speaker else GRID)
        self.speaker_view_action.setText(self.tr("Grid view") if speaker
                                         else self.tr("Speaker view"))
        self.speaker_view_action.setIcon(icon("grid-view" if speaker else "speaker-view"))

    def _show_focus(self, participant_id: str) -> None:
        self.grid.set_focus_participant(participant_id or None)

    def _pin(self, participant_id: str) -> None:
        """Double-click: pin that participant for yourself (and show the speaker view)."""
        self.spotlight.pin(participant_id)
        if self.spotlight.pinned:
            self.speaker_view_action.setChecked(True)

    def _show_muted_hint(self, on: bool) -> None:
        self.grid.set_hint(
            self.tr("You're talking while muted — hold Space to talk, Ctrl+D to unmute")
            if on else ""
        )

    def _show_push_to_talk(self, talking: bool) -> None:
        if talking:
            self.grid.set_hint(self.tr("Talking — release Space to mute again"))
        else:
            self.grid.set_hint("")

    def _show_quality(self) -> None:
        for tile in self.grid.tiles():
            if not tile.tile.is_self:
                tile.set_quality(*self.quality.of(tile.tile.participant_id))

    def _show_uplink(self, poor: bool) -> None:
        # A shared screen keeps its resolution (text stays sharp): its frame rate gives way.
        self.devices.screen.set_frame_rate(5 if poor else 10)
        self.grid.set_notice(
            "uplink",
            self.tr("Your connection is unstable: the others may not see or hear you well.")
            if poor else "",
        )

    def _show_active(self, active: bool) -> None:
        self.grid.set_notice(
            "elsewhere", "" if active else self.tr("You are in this call in another window.")
        )
        self.grid.set_notice_button("" if active else self.tr("Use this window"))

    def _claim_call(self) -> None:
        """"Use this window": the call moves here from the person's other window."""
        self._reaction_tasks.spawn(self._send_claim())

    async def _send_claim(self) -> None:
        try:
            call = await self._session.socket.claim_call()
        except RequestError as exc:
            self._window.show_error(self.tr("Could not move the call here: %s") % exc.message)
            return
        self.controller.call_moved_here(call)

    def _show_device_problem(self, kind: str, state: str, message: str) -> None:
        if message:
            self._window.show_error(message)
        if kind == DeviceKind.CAMERA.value:
            self.grid.set_notice("camera", message)
            self._offer_camera()

    def _offer_camera(self, *_: object) -> None:
        """No camera at all: the camera is off and its button says why (the call goes on)."""
        has_camera = bool(self.devices.catalog.cameras())
        self.camera_action.setEnabled(has_camera)
        if not has_camera:
            if self.controller.sending.video:
                self.controller.set_camera(False)
            self.camera_button.setToolTip(self.tr("No camera found"))
            self.grid.set_notice("camera", self.tr("No camera found"))

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
        if self.screen_picker is not None:
            self.screen_picker.reject()
        await self._reaction_tasks.shutdown()
        self.push_to_talk.detach()
        self.quality.stop()
        self.grid.detach()
        await self.controller.shutdown()
