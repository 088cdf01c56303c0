"""The pre-join screen: who you are, and whether you arrive with microphone and camera on.

Shown on a first start without a saved name (``--name`` and ``create_window``
skip it): a name field, a preview of your camera, a live level of your
microphone, and the two toggles the call will start with. Everything chosen
is remembered for the next meeting.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from conference_gui.domain.call import MediaState
from conference_gui.domain.stage import CAMERA, Tile
from conference_gui.media.exchange import FrameSlot, LevelMeter
from conference_gui.services.settings import AppSettings
from conference_gui.ui.media_preview import CameraPreview, LevelBar

#: Names longer than this are cut by the server anyway.
MAX_NAME = 64


class PreJoinDialog(QDialog):
    """Name, camera preview, microphone level, and mic/camera on or off at join.

    ``camera`` and ``mic_level`` come from the devices the call will use
    (started by the caller, stopped after this dialog closes).
    """

    def __init__(
        self,
        settings: AppSettings,
        meeting_title: str,
        *,
        camera: FrameSlot | None,
        mic_level: LevelMeter | None,
        suggested_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("preJoinDialog")
        self.setWindowTitle(self.tr("Join “%s”") % meeting_title if meeting_title
                            else self.tr("Join the meeting"))
        self._settings = settings

        self.name_edit = QLineEdit(settings.display_name() or suggested_name, self)
        self.name_edit.setObjectName("preJoinName")
        self.name_edit.setMaxLength(MAX_NAME)
        self.name_edit.setPlaceholderText(self.tr("Your name, as others will see it"))
        self.name_edit.setAccessibleName(self.tr("Your name"))
        self.mic_check = QCheckBox(self.tr("Microphone on"), self)
        self.mic_check.setObjectName("preJoinMic")
        self.mic_check.setChecked(settings.mic_on_at_join())
        self.camera_check = QCheckBox(self.tr("Camera on"), self)
        self.camera_check.setObjectName("preJoinCamera")
        self.camera_check.setChecked(settings.camera_on_at_join())
        self.meter = LevelBar(mic_level, self)
        self.meter.setObjectName("preJoinMicLevel")
        self.meter.setAccessibleName(self.tr("Microphone level"))

        self.preview = CameraPreview(self._tile(), camera, self)
        self.preview.setObjectName("preJoinPreview")
        self.preview.setMinimumSize(320, 180)

        self.buttons = QDialogButtonBox(self)
        self.join_button = self.buttons.addButton(
            self.tr("Join"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.join_button.setObjectName("preJoinJoin")
        self.join_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(self.tr("Name"), self.name_edit)
        form.addRow(self.mic_check, self.meter)
        form.addRow(self.camera_check, QLabel(self))
        lay = QVBoxLayout(self)
        lay.addWidget(self.preview, 1)
        lay.addLayout(form)
        lay.addWidget(self.buttons)

        self.name_edit.textChanged.connect(self._update)
        self.mic_check.toggled.connect(self._update)
        self.camera_check.toggled.connect(self._update)
        self._update()
        self.name_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _tile(self) -> Tile:
        name = self.name_edit.text().strip() if hasattr(self, "name_edit") else ""
        mic = self.mic_check.isChecked() if hasattr(self, "mic_check") else True
        cam = self.camera_check.isChecked() if hasattr(self, "camera_check") else True
        return Tile("me", CAMERA, name or "?", True, mic, cam, False)

    def _update(self, *_: object) -> None:
        self.preview.set_tile(self._tile())
        self.meter.set_live(self.mic_check.isChecked())
        self.join_button.setEnabled(bool(self.name_edit.text().strip()))

    @property
    def name(self) -> str:
        return self.name_edit.text().strip()

    @property
    def media(self) -> MediaState:
        return MediaState(self.mic_check.isChecked(), self.camera_check.isChecked(), False)

    def done(self, result: int) -> None:
        """Remember the choices when the person joins; stop listening in any case."""
        self.meter.stop()
        self.preview.detach()
        if result == QDialog.DialogCode.Accepted:
            self._settings.set_display_name(self.name)
            self._settings.set_mic_on_at_join(self.mic_check.isChecked())
            self._settings.set_camera_on_at_join(self.camera_check.isChecked())
        super().done(result)
