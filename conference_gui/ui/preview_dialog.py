"""A window showing one shared image, scaled to fit, crisp on high-DPI screens."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget


class PreviewDialog(QDialog):
    def __init__(self, title: str, image: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewDialog")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._pixmap = QPixmap.fromImage(image)
        self.label = QLabel(self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setAccessibleName(self.tr("Preview of %s") % title)
        self.label.setMinimumSize(64, 64)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        self.resize(self._pixmap.size().boundedTo(QSize(900, 700)).expandedTo(QSize(200, 150)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        dpr = self.devicePixelRatioF()
        scaled = self._pixmap.scaled(
            self.label.size() * dpr,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        scaled.setDevicePixelRatio(dpr)
        self.label.setPixmap(scaled)
