"""After a meeting: "You left <meeting>" with Rejoin and Close, as meeting apps do.

Shown when the person pressed Leave, when the connection ended for good (a
refused sign-in, a deleted meeting), or when the host ended the meeting —
instead of the app simply disappearing.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class LeftBecause(enum.StrEnum):
    LEFT = "left"  # the person pressed Leave
    DISCONNECTED = "disconnected"  # the server refused us for good
    ENDED = "ended"  # the host ended the meeting for everyone


class LeftScreen(QDialog):
    """Accepted = Rejoin, rejected = Close."""

    def __init__(
        self, meeting_title: str, because: LeftBecause, detail: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("leftScreen")
        self.setWindowTitle(self.tr("Conference"))
        title = meeting_title or self.tr("the meeting")
        headline = {
            LeftBecause.LEFT: self.tr("You left “%s”") % title,
            LeftBecause.DISCONNECTED: self.tr("You were disconnected from “%s”") % title,
            LeftBecause.ENDED: self.tr("The host ended “%s”") % title,
        }[because]
        self.headline = QLabel(headline, self)
        self.headline.setObjectName("leftHeadline")
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.headline.setStyleSheet("font-size: 18px; font-weight: 600;")
        self.headline.setWordWrap(True)
        self.detail = QLabel(detail, self)
        self.detail.setObjectName("leftDetail")
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.detail.setVisible(bool(detail))
        self.rejoin_button = QPushButton(self.tr("Rejoin"), self)
        self.rejoin_button.setObjectName("rejoinButton")
        self.rejoin_button.clicked.connect(self.accept)
        # A meeting that was ended cannot be joined again.
        self.rejoin_button.setVisible(because is not LeftBecause.ENDED)
        self.close_button = QPushButton(self.tr("Close"), self)
        self.close_button.setObjectName("closeButton")
        self.close_button.clicked.connect(self.reject)
        default = self.close_button if because is LeftBecause.ENDED else self.rejoin_button
        default.setDefault(True)
        default.setFocus()

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.rejoin_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 24, 28, 20)
        lay.setSpacing(12)
        lay.addWidget(self.headline)
        lay.addWidget(self.detail)
        lay.addStretch(1)
        lay.addLayout(buttons)
        self.resize(420, 180)
