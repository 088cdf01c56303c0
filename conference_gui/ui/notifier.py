"""Where a meeting notification goes: the system tray when the person is
looking elsewhere, an in-window toast when they are looking at the window."""

from __future__ import annotations

import re

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QSystemTrayIcon

from conference_gui.services.settings import AppSettings
from conference_gui.ui.icons import icon
from conference_gui.ui.toast import ToastHost


class Notifier(QObject):
    """One per window. ``tray`` is created only where the platform has one."""

    def __init__(
        self, window: QMainWindow, toasts: ToastHost, settings: AppSettings | None
    ) -> None:
        super().__init__(window)
        self._window = window
        self._toasts = toasts
        self._settings = settings
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            self.tray = QSystemTrayIcon(icon("resources"), self)
            self.tray.setToolTip(window.windowTitle())
            self.tray.activated.connect(lambda _reason: self._bring_to_front())
            self.tray.messageClicked.connect(self._bring_to_front)
        self.sent_to_tray = 0  # how many went to the tray (tests, diagnostics)

    def notify(self, title: str, text: str, icon_name: str, *, important: bool = False) -> None:
        """``important`` messages (a shared file, a raised hand, a mention) reach the
        tray while the window is not active; everything else is a toast."""
        use_tray = (
            important
            and self.tray is not None
            and not self._window.isActiveWindow()
            and (self._settings is None or self._settings.tray_enabled())
        )
        if use_tray and self.tray is not None:
            if not self.tray.isVisible():
                self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 6000)
            self.sent_to_tray += 1
            return
        self._toasts.show_toast(text, icon_name)

    def _bring_to_front(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()


def mentions(text: str, name: str) -> bool:
    """``text`` names the person as a whole word, ``@`` optional, any case."""
    name = name.strip()
    if not name:
        return False
    return re.search(rf"(?<!\w)@?{re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None
