"""What the app remembers between runs, over QSettings.

One typed wrapper, created by the app and injected, so tests can point it at
a temporary ini file and nothing reads QSettings behind anyone's back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QSettings, QStandardPaths, Signal

MAX_RECENT = 8


@dataclass(frozen=True, slots=True)
class RecentMeeting:
    """A meeting joined before: enough to join it again from the menu."""

    title: str
    link: str  # the invite link


class AppSettings(QObject):
    """Typed access to the app's settings.

    Signals:
        changed(str key): a setting was written.
    """

    changed = Signal(str)

    def __init__(self, settings: QSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._s = (
            settings if settings is not None else QSettings("conference-gui", "conference-gui")
        )

    @classmethod
    def at(cls, path: Path, parent: QObject | None = None) -> AppSettings:
        """Settings stored in an ini file (tests, portable installs)."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat), parent)

    @property
    def file_name(self) -> str:
        return self._s.fileName()

    def sync(self) -> None:
        self._s.sync()

    def _set(self, key: str, value: object) -> None:
        self._s.setValue(key, value)
        self.changed.emit(key)

    # -- identity ---------------------------------------------------------------
    def display_name(self) -> str:
        return str(self._s.value("user/displayName", "") or "")

    def set_display_name(self, name: str) -> None:
        self._set("user/displayName", name.strip())

    # -- recent meetings ----------------------------------------------------------
    def recent_meetings(self) -> list[RecentMeeting]:
        raw = self._s.value("meetings/recent", "[]")
        try:
            items = json.loads(str(raw))
        except ValueError:
            return []
        out = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("link"), str):
                out.append(RecentMeeting(str(item.get("title", "")), item["link"]))
        return out

    def add_recent_meeting(self, meeting: RecentMeeting) -> None:
        items = [m for m in self.recent_meetings() if m.link != meeting.link]
        items.insert(0, meeting)
        self._set("meetings/recent", json.dumps([asdict(m) for m in items[:MAX_RECENT]]))

    # -- window -------------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self._s.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self._s.setValue("window/geometry", geometry)
        self._s.setValue("window/state", state)
        self.changed.emit("window")

    # -- notifications ------------------------------------------------------------
    def toasts_enabled(self) -> bool:
        return _as_bool(self._s.value("notifications/toasts", True))

    def set_toasts_enabled(self, enabled: bool) -> None:
        self._set("notifications/toasts", enabled)

    def tray_enabled(self) -> bool:
        return _as_bool(self._s.value("notifications/tray", True))

    def set_tray_enabled(self, enabled: bool) -> None:
        self._set("notifications/tray", enabled)

    # -- downloads ----------------------------------------------------------------
    def download_dir(self) -> Path:
        stored = self._s.value("downloads/folder", "")
        if stored:
            return Path(str(stored))
        std = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
        return Path(std) if std else Path.home() / "Downloads"

    def set_download_dir(self, folder: Path) -> None:
        self._set("downloads/folder", str(folder))

    def upload_dir(self) -> Path:
        """Where the file dialog opens: the last folder files were shared from, else Documents."""
        stored = self._s.value("uploads/last_folder", "")
        if stored and Path(str(stored)).is_dir():
            return Path(str(stored))
        std = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        return Path(std) if std else Path.home()

    def set_upload_dir(self, folder: Path) -> None:
        self._set("uploads/last_folder", str(folder))

    # -- call devices -------------------------------------------------------------
    # A device is remembered by its id (what QMediaDevices reports); ``None``
    # means "the system default", which follows the system's choice as it
    # changes. An id whose device is unplugged stays remembered, so the device
    # is used again when it comes back.
    def camera_id(self) -> str | None:
        return self._device_id("devices/camera")

    def set_camera_id(self, device_id: str | None) -> None:
        self._set("devices/camera", device_id or "")

    def microphone_id(self) -> str | None:
        return self._device_id("devices/microphone")

    def set_microphone_id(self, device_id: str | None) -> None:
        self._set("devices/microphone", device_id or "")

    def speaker_id(self) -> str | None:
        return self._device_id("devices/speaker")

    def set_speaker_id(self, device_id: str | None) -> None:
        self._set("devices/speaker", device_id or "")

    def mic_on_at_join(self) -> bool:
        """Whether the microphone starts on when joining a call (the person's last choice)."""
        return _as_bool(self._s.value("call/micOnAtJoin", True))

    def set_mic_on_at_join(self, on: bool) -> None:
        self._set("call/micOnAtJoin", on)

    def camera_on_at_join(self) -> bool:
        """Whether the camera starts on when joining a call (the person's last choice)."""
        return _as_bool(self._s.value("call/cameraOnAtJoin", True))

    def set_camera_on_at_join(self, on: bool) -> None:
        self._set("call/cameraOnAtJoin", on)

    def _device_id(self, key: str) -> str | None:
        return str(self._s.value(key, "") or "") or None


def _as_bool(value: object) -> bool:
    # Ini files give strings back ("true"/"false").
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
