"""Preferences: the few things a participant sets once and expects remembered.

Two pages: General (name, download folder, notifications) and Audio & Video
(:class:`AudioVideoPage`: devices with preview, level and test sound).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from conference_gui.services.media.catalog import DeviceCatalog
from conference_gui.services.media.media_devices import MediaDevices
from conference_gui.services.settings import AppSettings
from conference_gui.ui.preferences_av import AudioVideoPage


class PreferencesDialog(QDialog):
    """Edits :class:`AppSettings`; nothing is written until OK.

    Except devices: with the window's ``devices`` (a call is running), a
    device chosen on the Audio & Video page is used at once (and remembered),
    and Cancel puts back the ones in use before. Without ``devices`` that page
    edits the remembered choices only, listed from ``catalog`` if given.
    """

    def __init__(
        self,
        settings: AppSettings,
        parent: QWidget | None = None,
        *,
        devices: MediaDevices | None = None,
        catalog: DeviceCatalog | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle(self.tr("Preferences"))
        self._settings = settings
        general = QWidget(self)
        general.setObjectName("generalPage")

        self.name_edit = QLineEdit(settings.display_name(), general)
        self.name_edit.setObjectName("displayNameEdit")
        self.name_edit.setMaxLength(64)
        self.name_edit.setPlaceholderText(self.tr("Your login name"))
        self.name_edit.setAccessibleName(self.tr("Display name"))
        name_hint = QLabel(self.tr("Used the next time you start or join a meeting."), general)
        name_hint.setWordWrap(True)

        self.folder_edit = QLineEdit(str(settings.download_dir()), general)
        self.folder_edit.setObjectName("downloadFolderEdit")
        self.folder_edit.setAccessibleName(self.tr("Download folder"))
        browse = QPushButton(self.tr("Browse…"), general)
        browse.setAutoDefault(False)
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)

        self.toasts_box = QCheckBox(self.tr("Show notifications in the window"), general)
        self.toasts_box.setChecked(settings.toasts_enabled())
        self.tray_box = QCheckBox(
            self.tr("Notify through the system tray while the window is in the background"),
            general,
        )
        self.tray_box.setChecked(settings.tray_enabled())

        self.error = QLabel(general)
        self.error.setObjectName("preferencesError")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet("color: palette(bright-text); background: #b3261e; padding: 4px;")
        self.error.hide()

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)

        form = QFormLayout(general)
        form.addRow(self.tr("Display name:"), self.name_edit)
        form.addRow("", name_hint)
        form.addRow(self.tr("Download folder:"), folder_row)
        form.addRow(self.toasts_box)
        form.addRow(self.tray_box)
        form.addRow(self.error)

        self.audio_video = AudioVideoPage(settings, devices, catalog=catalog, parent=self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("preferencesTabs")
        self.tabs.addTab(general, self.tr("General"))
        self.tabs.addTab(self.audio_video, self.tr("Audio && Video"))
        self._general = general
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs)
        lay.addWidget(buttons)

    def show_audio_video(self) -> None:
        """Open on the Audio & Video page."""
        self.tabs.setCurrentWidget(self.audio_video)

    def _browse(self) -> None:
        dialog = QFileDialog(self, self.tr("Download folder"), self.folder_edit.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.folder_edit.setText)
        dialog.open()

    def save(self) -> None:
        """Check, then write; a bad folder keeps the dialog open with a reason."""
        folder = Path(self.folder_edit.text().strip()).expanduser()
        if not folder.is_absolute():
            self._fail(self.tr("Choose a full folder path, e.g. %s") % (Path.home() / "Downloads"))
            return
        if folder.exists() and not folder.is_dir():
            self._fail(self.tr("“%s” is a file, not a folder.") % folder)
            return
        self._settings.set_display_name(self.name_edit.text())
        self._settings.set_download_dir(folder)
        self._settings.set_toasts_enabled(self.toasts_box.isChecked())
        self._settings.set_tray_enabled(self.tray_box.isChecked())
        self.audio_video.save()
        self._settings.sync()
        self.accept()

    def reject(self) -> None:
        self.audio_video.revert()
        super().reject()

    def done(self, result: int) -> None:
        self.audio_video.close_page()
        super().done(result)

    def _fail(self, message: str) -> None:
        self.tabs.setCurrentWidget(self._general)
        self.error.setText(message)
        self.error.show()
