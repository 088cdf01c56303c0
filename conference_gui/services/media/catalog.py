"""Which cameras, microphones and speakers this machine has, kept live.

Qt Multimedia's ``QMediaDevices`` knows the devices with their real names and
tells when the lists change (plug, unplug, another system default). The
catalog turns that into plain :class:`DeviceInfo` values, the system default
first, and one :attr:`DeviceCatalog.changed` signal per list that really
changed. Capture and playback objects ask it which device to open; the
Preferences pickers list from it.

With fake devices (``--fake-media``) a faked kind lists exactly one device,
present and default, so the rest of the app behaves as with real hardware;
a catalog that fakes every kind never touches the platform's devices at all
(no sound server needed, which is what tests and demos on bare machines want).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtMultimedia import QAudioDevice, QCameraDevice, QMediaDevices


class DeviceKind(enum.StrEnum):
    CAMERA = "camera"
    MICROPHONE = "microphone"
    SPEAKER = "speaker"


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One device as the person sees it: a name to show, an id to remember."""

    kind: DeviceKind
    id: str
    name: str
    is_default: bool
    fake: bool = False


#: What the window says when a kind has no device at all.
NO_DEVICE_MESSAGE = {
    DeviceKind.CAMERA: "No camera found",
    DeviceKind.MICROPHONE: "No microphone found",
    DeviceKind.SPEAKER: "No speaker found",
}

FAKE_DEVICES = {
    DeviceKind.CAMERA: DeviceInfo(DeviceKind.CAMERA, "fake:camera", "Fake camera", True, True),
    DeviceKind.MICROPHONE: DeviceInfo(
        DeviceKind.MICROPHONE, "fake:microphone", "Fake microphone (tone)", True, True
    ),
    DeviceKind.SPEAKER: DeviceInfo(
        DeviceKind.SPEAKER, "fake:speaker", "Fake speaker (silent)", True, True
    ),
}


def _text_id(raw: object) -> str:
    # QAudioDevice/QCameraDevice ids are QByteArrays: PulseAudio and V4L2 use
    # names and paths, Windows and macOS ASCII ids. Kept as text for settings.
    data = bytes(raw)  # type: ignore[call-overload]
    return data.decode("utf-8", errors="backslashreplace")


class DeviceCatalog(QObject):
    """The devices of each kind, system default first, updated live.

    Lives on (and signals from) the thread that creates it: the GUI thread.
    Reading it never blocks: ``QMediaDevices`` keeps its lists up to date on
    its own.

    Signals:
        changed(str kind): the devices of that :class:`DeviceKind` changed (one
            came or went, was renamed, or another became the default). Also sent
            when Qt reports a change that leaves the list looking the same (a
            device that went and came back): devices in trouble try again then.
    """

    changed = Signal(str)

    def __init__(self, *, fake: Iterable[DeviceKind] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fake = frozenset(fake)
        self._lists: dict[DeviceKind, list[DeviceInfo]] = {}
        self._audio: dict[tuple[DeviceKind, str], QAudioDevice] = {}
        self._cameras: dict[str, QCameraDevice] = {}
        self._qt: QMediaDevices | None = None
        if len(self._fake) < len(DeviceKind):
            self._qt = QMediaDevices(self)
            self._qt.audioInputsChanged.connect(self._on_audio_inputs_changed)
            self._qt.audioOutputsChanged.connect(self._on_audio_outputs_changed)
            self._qt.videoInputsChanged.connect(self._on_video_inputs_changed)
        for kind in DeviceKind:
            self._lists[kind] = self._read(kind)

    # -- reading -------------------------------------------------------------------
    def is_fake(self, kind: DeviceKind) -> bool:
        return kind in self._fake

    def devices(self, kind: DeviceKind) -> list[DeviceInfo]:
        """The devices of ``kind``: the system default first, then in the system's order."""
        return list(self._lists[kind])

    def cameras(self) -> list[DeviceInfo]:
        return self.devices(DeviceKind.CAMERA)

    def microphones(self) -> list[DeviceInfo]:
        return self.devices(DeviceKind.MICROPHONE)

    def speakers(self) -> list[DeviceInfo]:
        return self.devices(DeviceKind.SPEAKER)

    def find(self, kind: DeviceKind, device_id: str) -> DeviceInfo | None:
        return next((d for d in self._lists[kind] if d.id == device_id), None)

    def default(self, kind: DeviceKind) -> DeviceInfo | None:
        listed = self._lists[kind]
        return listed[0] if listed else None

    def resolve(self, kind: DeviceKind, wanted: str | None) -> DeviceInfo | None:
        """The device to use: the wanted one while it is present, else the system default."""
        found = self.find(kind, wanted) if wanted else None
        return found if found is not None else self.default(kind)

    def audio_device(self, info: DeviceInfo) -> QAudioDevice | None:
        """Qt's handle for a listed microphone or speaker (for the device thread to open)."""
        return self._audio.get((info.kind, info.id))

    def camera_device(self, info: DeviceInfo) -> QCameraDevice | None:
        """Qt's handle for a listed camera (for the device thread to open)."""
        return self._cameras.get(info.id)

    # -- keeping up ----------------------------------------------------------------
    def _read(self, kind: DeviceKind) -> list[DeviceInfo]:
        if kind in self._fake:
            return [FAKE_DEVICES[kind]]
        if kind is DeviceKind.CAMERA:
            cams = QMediaDevices.videoInputs()
            self._cameras = {_text_id(c.id()): c for c in cams}
            found = [
                DeviceInfo(kind, _text_id(c.id()), c.description(), c.isDefault()) for c in cams
            ]
        else:
            audio = (
                QMediaDevices.audioInputs()
                if kind is DeviceKind.MICROPHONE
                else QMediaDevices.audioOutputs()
            )
            for key in [k for k in self._audio if k[0] is kind]:
                del self._audio[key]
            found = []
            for dev in audio:
                info = DeviceInfo(kind, _text_id(dev.id()), dev.description(), dev.isDefault())
                self._audio[(kind, info.id)] = dev
                found.append(info)
        return _default_first(found)

    def _refresh(self, kind: DeviceKind) -> None:
        if kind in self._fake:
            return
        self._lists[kind] = self._read(kind)
        self.changed.emit(kind.value)

    def _on_audio_inputs_changed(self) -> None:
        self._refresh(DeviceKind.MICROPHONE)

    def _on_audio_outputs_changed(self) -> None:
        self._refresh(DeviceKind.SPEAKER)

    def _on_video_inputs_changed(self) -> None:
        self._refresh(DeviceKind.CAMERA)


def _default_first(found: list[DeviceInfo]) -> list[DeviceInfo]:
    if not found:
        return []
    index = next((i for i, d in enumerate(found) if d.is_default), 0)
    # Exactly one default, even if the platform marks none (then the first is used).
    first = found[index]
    if not first.is_default:
        first = DeviceInfo(first.kind, first.id, first.name, True, first.fake)
    rest = [d for i, d in enumerate(found) if i != index]
    return [first, *rest]
