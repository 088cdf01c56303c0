"""What every device (microphone, speaker, camera) does the same way.

A device has two halves. The *handle* (:class:`DeviceHandle`) lives on the
GUI thread: it decides which device to use (the chosen one while it is
plugged in, else the system default), keeps the state the window shows, and
emits every public signal, so receivers on the GUI thread are always called
on the GUI thread. The *worker* (:class:`StreamWorker`) lives on the device
thread: it opens the device and moves the media. They talk only through
queued signals, so neither ever waits for the other.

Following plug and unplug is one rule, applied whenever the catalog's list
for this kind changes: resolve again. If the device in use vanished, the
handle opens the new choice and says so with ``fell_back(old, new)``; if none
is left it says "No microphone found" (or camera, speaker) and recovers by
itself when one is plugged in. A chosen device that comes back is used again.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from PySide6.QtCore import (
    QCameraPermission,
    QCoreApplication,
    QMicrophonePermission,
    QObject,
    Qt,
    Signal,
    Slot,
)

from conference_gui.services.media.catalog import (
    NO_DEVICE_MESSAGE,
    DeviceCatalog,
    DeviceInfo,
    DeviceKind,
)
from conference_gui.services.media.device_thread import DeviceThread, DeviceWorker

log = logging.getLogger(__name__)


class DeviceState(enum.StrEnum):
    OFF = "off"  # not started (or switched off, like a camera that is off)
    STARTING = "starting"
    ACTIVE = "active"
    NO_DEVICE = "no-device"
    BUSY = "busy"  # another program holds it (cameras)
    DENIED = "denied"  # the system or the person refused permission
    FAILED = "failed"


def denied_message(kind: DeviceKind) -> str:
    return f"Permission to use the {kind.value} was denied"


BUSY_MESSAGE = "The camera is in use by another program"


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """What a worker needs to open a device: the catalog's entry and Qt's handle."""

    info: DeviceInfo
    qt_device: object  # QAudioDevice | QCameraDevice | None (fake devices)


class StreamWorker(DeviceWorker):
    """The device-thread half: opens one device at a time and streams it.

    Signals (emitted on the device thread, received queued by the handle):
        opened(str device id): the device runs.
        failed(str device id, str state, str message): it could not start or stopped.
    """

    opened = Signal(str)
    failed = Signal(str, str, str)

    # Subclasses implement open_stream, not the slot: PySide 6.11 calls a slot
    # that a subclass overrides *directly* from the emitting thread instead of
    # queueing it to this one (tests/devices checks where workers run).
    @Slot(object)
    def open_device(self, request: OpenRequest) -> None:
        self.open_stream(request)

    def open_stream(self, request: OpenRequest) -> None:
        """Open ``request``'s device (closing the one before) and report opened/failed."""
        raise NotImplementedError

    @Slot()
    def close_device(self) -> None:
        self.close_devices()


class DeviceHandle(QObject):
    """The GUI-thread half: which device, in what state, and telling the window.

    Signals (all emitted on the GUI thread):
        state_changed(str state, str message): a :class:`DeviceState` value and
            the sentence to show ("" when there is nothing to say).
        device_changed(str device id, str name): the device now in use
            ("", "" when none).
        fell_back(str old name, str new name): the device in use went away
            and another one took over.
    """

    state_changed = Signal(str, str)
    device_changed = Signal(str, str)
    fell_back = Signal(str, str)

    _open_requested = Signal(object)
    _close_requested = Signal()

    def __init__(
        self,
        kind: DeviceKind,
        catalog: DeviceCatalog,
        thread: DeviceThread,
        worker: StreamWorker,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self._catalog = catalog
        self._worker = worker
        self._running = False
        self._wanted: str | None = None
        self._current: DeviceInfo | None = None
        self._state = DeviceState.OFF
        self._message = ""
        thread.adopt(worker)
        self._open_requested.connect(worker.open_device)
        self._close_requested.connect(worker.close_device)
        worker.opened.connect(self._on_worker_opened)
        worker.failed.connect(self._on_worker_failed)
        catalog.changed.connect(self._on_catalog_changed)

    # -- what the window reads ---------------------------------------------------------
    @property
    def state(self) -> DeviceState:
        return self._state

    @property
    def message(self) -> str:
        return self._message

    @property
    def device(self) -> DeviceInfo | None:
        """The device in use (or being opened); ``None`` when there is none."""
        return self._current

    @property
    def wanted_device_id(self) -> str | None:
        """The chosen device's id; ``None`` means the system default."""
        return self._wanted

    @property
    def running(self) -> bool:
        return self._running

    # -- what the window does ------------------------------------------------------------
    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._with_permission()

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        if self._current is not None:
            self._current = None
            self._close_requested.emit()
            self.device_changed.emit("", "")
        self._set_state(DeviceState.OFF, "")

    def set_device(self, device_id: str | None) -> None:
        """Use this device (``None``: the system default, following it when it changes)."""
        self._wanted = device_id or None
        if self._running and self._state is not DeviceState.DENIED:
            self._reconcile(retry=True)

    def retry(self) -> None:
        """Try the device again (after "in use" or a failure: the other program may be gone)."""
        if self._running:
            self._with_permission()

    # -- deciding ---------------------------------------------------------------------
    def _with_permission(self) -> None:
        permission = self._permission()
        app = QCoreApplication.instance()
        if permission is None or app is None:
            self._reconcile(retry=True)
            return
        status = app.checkPermission(permission)
        if status == Qt.PermissionStatus.Granted:
            self._reconcile(retry=True)
        elif status == Qt.PermissionStatus.Denied:
            self._deny()
        else:  # undetermined: the system asks the person (macOS); answer arrives later
            app.requestPermission(permission, self, self._on_permission_answer)

    def _on_permission_answer(self, permission: object) -> None:
        app = QCoreApplication.instance()
        if not self._running or app is None:
            return
        granted = app.checkPermission(permission) == Qt.PermissionStatus.Granted  # type: ignore[call-overload]
        if granted:
            self._reconcile(retry=True)
        else:
            self._deny()

    def _permission(self) -> QCameraPermission | QMicrophonePermission | None:
        if self._catalog.is_fake(self.kind):
            return None
        if self.kind is DeviceKind.CAMERA:
            return QCameraPermission()
        if self.kind is DeviceKind.MICROPHONE:
            return QMicrophonePermission()
        return None

    def _deny(self) -> None:
        if self._current is not None:
            self._current = None
            self._close_requested.emit()
            self.device_changed.emit("", "")
        self._set_state(DeviceState.DENIED, denied_message(self.kind))

    def _reconcile(self, *, retry: bool) -> None:
        current = self._current
        gone = current is not None and self._catalog.find(self.kind, current.id) is None
        target = self._catalog.resolve(self.kind, self._wanted)
        if target is None:
            if current is not None:
                self._current = None
                self._close_requested.emit()
                self.device_changed.emit("", "")
                log.info("%s %r gone, none left", self.kind.value, current.name)
            self._set_state(DeviceState.NO_DEVICE, NO_DEVICE_MESSAGE[self.kind])
            return
        if current is not None and target.id == current.id:
            self._current = target  # the name may have changed
            troubled = self._state in (DeviceState.FAILED, DeviceState.BUSY)
            if not (retry and troubled):
                return
        self._current = target
        self._set_state(DeviceState.STARTING, "")
        self._open_requested.emit(OpenRequest(target, self._qt_device(target)))
        if current is None or current.id != target.id:
            self.device_changed.emit(target.id, target.name)
        if gone and current is not None:
            log.info("%s %r gone, falling back to %r", self.kind.value, current.name, target.name)
            self.fell_back.emit(current.name, target.name)

    def _qt_device(self, info: DeviceInfo) -> object:
        if info.fake:
            return None
        if self.kind is DeviceKind.CAMERA:
            return self._catalog.camera_device(info)
        return self._catalog.audio_device(info)

    def _set_state(self, state: DeviceState, message: str) -> None:
        if (state, message) == (self._state, self._message):
            return
        self._state, self._message = state, message
        self.state_changed.emit(state.value, message)

    # -- hearing back ----------------------------------------------------------------------
    def _on_catalog_changed(self, kind: str) -> None:
        if kind == self.kind.value and self._running and self._state is not DeviceState.DENIED:
            self._reconcile(retry=True)

    def _on_worker_opened(self, device_id: str) -> None:
        if self._running and self._current is not None and self._current.id == device_id:
            self._set_state(DeviceState.ACTIVE, "")

    def _on_worker_failed(self, device_id: str, state: str, message: str) -> None:
        if self._running and self._current is not None and self._current.id == device_id:
            log.warning("%s %r: %s", self.kind.value, self._current.name, message)
            self._set_state(DeviceState(state), message)
