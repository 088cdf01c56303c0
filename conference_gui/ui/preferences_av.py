"""Preferences → Audio & Video: try and choose your camera, microphone and speaker.

Given the window's :class:`MediaDevices` (the call's own devices, never a
second set), the page shows the camera as you will be seen, the
microphone's live level, and plays a test sound; choosing a device takes
effect in the running call at once and is remembered
(``MediaDevices.set_camera`` and its siblings). Cancel puts back the
devices that were in use when the dialog opened.

Without devices (no call in this window) it edits only the remembered
choices, listed from a catalog if one is given, written on OK.

The pickers list the system default first ("System default (<name>)") and
follow plug and unplug live through the catalog's ``changed`` signal: a
device plugged in appears, one unplugged goes, and the selection stays on
the person's choice (shown "(not connected)" while it is away).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from conference_gui.domain.stage import CAMERA, Tile
from conference_gui.models.device_choices import DeviceChoiceModel
from conference_gui.services.media.catalog import DeviceCatalog, DeviceKind
from conference_gui.services.media.media_devices import MediaDevices
from conference_gui.services.settings import AppSettings
from conference_gui.ui.media_preview import CameraPreview, LevelBar

_KINDS = (DeviceKind.CAMERA, DeviceKind.MICROPHONE, DeviceKind.SPEAKER)


class DevicePicker(QComboBox):
    """A combo box over a :class:`DeviceChoiceModel` that keeps its selection on the choice.

    Only the person's own choosing is reported (``QComboBox.activated``): a list
    that changes underneath never reads as a choice.
    """

    def __init__(self, model: DeviceChoiceModel, chosen: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice_model = model
        self._chosen = chosen
        self.setModel(model)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(24)
        model.choices_changed.connect(self._show_choice)
        self.activated.connect(self._on_activated)
        self._show_choice()

    @property
    def chosen(self) -> str | None:
        """The chosen device's id (``None``: the system default)."""
        return self._chosen

    def set_chosen(self, device_id: str | None) -> None:
        self._chosen = device_id
        self.choice_model.set_wanted(device_id)
        self._show_choice()

    def _show_choice(self) -> None:
        row = self.choice_model.row_of(self._chosen)
        if self.currentIndex() != row:
            self.setCurrentIndex(row)

    def _on_activated(self, row: int) -> None:
        self._chosen = self.choice_model.device_id_at(row)
        self.choice_model.set_wanted(self._chosen)
        self._show_choice()


class AudioVideoPage(QWidget):
    """The Audio & Video page (objectName ``audioVideoPage``).

    Object names: ``cameraPicker``, ``avCameraPreview``, ``microphonePicker``,
    ``avMicLevel``, ``speakerPicker``, ``playTestSoundButton``,
    ``avSpeakerLevel``, ``micOnAtJoin``, ``cameraOnAtJoin``, and
    ``cameraStatus`` / ``microphoneStatus`` / ``speakerStatus`` (the device's
    problem, if any: "No camera found", ...).
    """

    def __init__(
        self,
        settings: AppSettings,
        devices: MediaDevices | None = None,
        *,
        catalog: DeviceCatalog | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("audioVideoPage")
        self._settings = settings
        self._devices = devices
        catalog = devices.catalog if devices is not None else catalog
        self._original = {kind: self._wanted(kind) for kind in _KINDS}
        self._closed = False

        self.pickers: dict[DeviceKind, DevicePicker] = {}
        self.status: dict[DeviceKind, QLabel] = {}
        for kind in _KINDS:
            model = DeviceChoiceModel(kind, catalog, self._original[kind], self)
            picker = DevicePicker(model, self._original[kind], self)
            picker.setObjectName(f"{kind.value}Picker")
            picker.activated.connect(lambda _row, k=kind: self._on_chosen(k))
            self.pickers[kind] = picker
            label = QLabel(self)
            label.setObjectName(f"{kind.value}Status")
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.setStyleSheet("color: #b3261e;")
            label.hide()
            self.status[kind] = label
        self.camera_picker = self.pickers[DeviceKind.CAMERA]
        self.microphone_picker = self.pickers[DeviceKind.MICROPHONE]
        self.speaker_picker = self.pickers[DeviceKind.SPEAKER]
        self.camera_picker.setAccessibleName(self.tr("Camera"))
        self.microphone_picker.setAccessibleName(self.tr("Microphone"))
        self.speaker_picker.setAccessibleName(self.tr("Speaker"))

        name = settings.display_name() or self.tr("You")
        self.preview = CameraPreview(
            Tile("me", CAMERA, name, True, True, True, False),
            devices.camera_frames if devices is not None else None, self,
        )
        self.preview.setObjectName("avCameraPreview")
        # A tile ignores size hints (the grid sizes it); here it has a size of its own.
        self.preview.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.preview.setFixedSize(320, 180)
        self.mic_meter = LevelBar(devices.mic_level if devices is not None else None, self)
        self.mic_meter.setObjectName("avMicLevel")
        self.mic_meter.setAccessibleName(self.tr("Microphone level"))
        self.test_sound_button = QPushButton(self.tr("Play test sound"), self)
        self.test_sound_button.setObjectName("playTestSoundButton")
        self.test_sound_button.setAutoDefault(False)
        self.test_sound_button.clicked.connect(self._play_test_sound)
        self.speaker_meter = LevelBar(devices.speaker_level if devices is not None else None,
                                      self)
        self.speaker_meter.setObjectName("avSpeakerLevel")
        self.speaker_meter.setAccessibleName(self.tr("Speaker level"))

        self.mic_on_box = QCheckBox(self.tr("Microphone on when I join"), self)
        self.mic_on_box.setObjectName("micOnAtJoin")
        self.mic_on_box.setChecked(settings.mic_on_at_join())
        self.camera_on_box = QCheckBox(self.tr("Camera on when I join"), self)
        self.camera_on_box.setObjectName("cameraOnAtJoin")
        self.camera_on_box.setChecked(settings.camera_on_at_join())

        self.note = QLabel(self)
        self.note.setObjectName("audioVideoNote")
        self.note.setWordWrap(True)
        if devices is None:
            self.note.setText(self.tr(
                "Your devices can be tried during a call. The choices here are used "
                "the next time you join one."))
            for widget in (self.preview, self.mic_meter, self.speaker_meter,
                           self.test_sound_button):
                widget.setEnabled(False)
        else:
            self.note.hide()

        speaker_row = QHBoxLayout()
        speaker_row.addWidget(self.speaker_picker, 1)
        speaker_row.addWidget(self.test_sound_button)
        form = QFormLayout()
        form.addRow(self.tr("Camera:"), self.camera_picker)
        form.addRow("", self.status[DeviceKind.CAMERA])
        form.addRow("", self.preview)
        form.addRow(self.tr("Microphone:"), self.microphone_picker)
        form.addRow("", self.status[DeviceKind.MICROPHONE])
        form.addRow(self.tr("Level:"), self.mic_meter)
        form.addRow(self.tr("Speaker:"), speaker_row)
        form.addRow("", self.status[DeviceKind.SPEAKER])
        form.addRow(self.tr("Playing:"), self.speaker_meter)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.mic_on_box)
        lay.addWidget(self.camera_on_box)
        lay.addWidget(self.note)
        lay.addStretch(1)

        if devices is not None:
            for handle in devices.handles():
                self._show_problem(handle.kind.value, handle.state.value, handle.message)
            devices.device_problem.connect(self._show_problem)

    # -- choosing ---------------------------------------------------------------------------
    def _wanted(self, kind: DeviceKind) -> str | None:
        if self._devices is not None:
            handle = {
                DeviceKind.CAMERA: self._devices.camera,
                DeviceKind.MICROPHONE: self._devices.microphone,
                DeviceKind.SPEAKER: self._devices.speaker,
            }[kind]
            return handle.wanted_device_id
        return {
            DeviceKind.CAMERA: self._settings.camera_id,
            DeviceKind.MICROPHONE: self._settings.microphone_id,
            DeviceKind.SPEAKER: self._settings.speaker_id,
        }[kind]()

    def _on_chosen(self, kind: DeviceKind) -> None:
        device_id = self.pickers[kind].chosen
        if self._devices is not None:
            self._apply(kind, device_id)

    def _apply(self, kind: DeviceKind, device_id: str | None) -> None:
        assert self._devices is not None
        if kind is DeviceKind.CAMERA:
            self._devices.set_camera(device_id)
        elif kind is DeviceKind.MICROPHONE:
            self._devices.set_microphone(device_id)
        else:
            self._devices.set_speaker(device_id)

    def _play_test_sound(self) -> None:
        if self._devices is not None:
            self._devices.play_test_sound()

    def _show_problem(self, kind: str, state: str, message: str) -> None:
        label = next((v for k, v in self.status.items() if k.value == kind), None)
        if label is not None:
            label.setText(message)
            label.setVisible(bool(message))

    # -- the dialog's buttons -------------------------------------------------------------
    def save(self) -> None:
        """OK: remember mic/camera at join; without devices, the chosen devices too."""
        self._settings.set_mic_on_at_join(self.mic_on_box.isChecked())
        self._settings.set_camera_on_at_join(self.camera_on_box.isChecked())
        if self._devices is None:
            self._settings.set_camera_id(self.camera_picker.chosen)
            self._settings.set_microphone_id(self.microphone_picker.chosen)
            self._settings.set_speaker_id(self.speaker_picker.chosen)

    def revert(self) -> None:
        """Cancel: the devices in use when the dialog opened come back."""
        if self._devices is None:
            return
        for kind, original in self._original.items():
            if self.pickers[kind].chosen != original:
                self._apply(kind, original)
                self.pickers[kind].set_chosen(original)

    def close_page(self) -> None:
        """The dialog closes: stop the preview, the meters and listening to the devices."""
        if self._closed:
            return
        self._closed = True
        self.mic_meter.stop()
        self.speaker_meter.stop()
        self.preview.detach()
        if self._devices is not None:
            self._devices.device_problem.disconnect(self._show_problem)
            self._devices.set_camera_preview(False)

    # -- the camera runs for the preview only while the page is seen -----------------------
    # (Deleted without close_page(), with a window deleted under it, a shown page is
    # hidden first: hideEvent lets the camera go then too.)
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._devices is not None and not self._closed:
            self._devices.set_camera_preview(True)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        if self._devices is not None and not self._closed:
            self._devices.set_camera_preview(False)
