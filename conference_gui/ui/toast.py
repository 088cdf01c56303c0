"""In-window toast notifications in the bottom-right corner of a window.

The host is a QObject child of the window; each toast is a small overlay
child widget of the window with its own parented single-shot QTimer, so
closing the window (or dismissing a toast) leaves nothing running.
"""

from __future__ import annotations

from PySide6.QtCore import Property as _QtProperty
from PySide6.QtCore import QEvent, QObject, QPoint, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAccessible,
    QAccessibleEvent,
    QColor,
    QEnterEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMainWindow, QStatusBar, QWidget

from conference_gui.ui.icons import icon

__all__ = ["Toast", "ToastHost"]

_MARGIN = 16
_SPACING = 8
_ICON_SIZE = 20
_MAX_WIDTH = 360
_RADIUS = 8.0
# After the pointer leaves a toast it stays at least this long.
_MIN_REMAINING_MSEC = 1500


class Toast(QFrame):
    """One notification: optional icon and plain text on a rounded background.

    Colours are the palette inverted (dark toast on a light window and the
    other way round), like a snackbar. Clicking dismisses it; hovering pauses
    its timer.

    Signals:
        dismissed(): the toast went away (timeout or click); it deletes itself later.
    """

    dismissed = Signal()

    def __init__(self, text: str, icon_name: str | None, msec: int, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMaximumWidth(_MAX_WIDTH)

        window = parent.palette()
        background = QColor(window.color(QPalette.ColorRole.WindowText))
        background.setAlpha(235)
        foreground = window.color(QPalette.ColorRole.Window)
        palette = QPalette(self.palette())
        palette.setColor(QPalette.ColorRole.Window, background)
        palette.setColor(QPalette.ColorRole.WindowText, foreground)
        self.setPalette(palette)

        layout = self._layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 10, 14, 10)
        layout.setSpacing(10)
        self._icon_label: QLabel | None = None
        if icon_name is not None:
            icon_label = self._icon_label = QLabel(self)
            icon_label.setObjectName("toastIcon")
            icon_label.setPixmap(icon(icon_name, palette).pixmap(_ICON_SIZE, _ICON_SIZE))
            icon_label.setAlignment(Qt.AlignmentFlag.AlignTop)
            icon_label.setAccessibleName(icon_name)
            layout.addWidget(icon_label)
        self._label = QLabel(self)
        self._label.setObjectName("toastText")
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        self._label.setWordWrap(True)
        self._label.setText(text)
        layout.addWidget(self._label, 1)
        self.setAccessibleName(text)
        self.setToolTip(self.tr("Click to dismiss"))

        self._msec = msec
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self._remaining = msec
        self._closing = False

    def text(self) -> str:
        return self._label.text()

    def preferred_width(self, available: int) -> int:
        """One line of text when it fits, wrapped at ``min(available, 360)`` otherwise.

        (A word-wrapped QLabel's own size hint picks a narrow, tall shape.)
        """
        layout = self._layout
        margins = layout.contentsMargins()
        chrome = margins.left() + margins.right()
        if self._icon_label is not None:
            chrome += _ICON_SIZE + layout.spacing()
        text = self._label.fontMetrics().horizontalAdvance(self._label.text()) + 2
        return max(1, min(chrome + text, _MAX_WIDTH, available))

    def start(self) -> None:
        """Start the dismiss timer and announce the toast to assistive technology."""
        self._timer.start(self._msec)
        QAccessible.updateAccessibility(QAccessibleEvent(self, QAccessible.Event.Alert))

    @Slot()
    def dismiss(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._timer.stop()
        self.hide()
        self.dismissed.emit()
        self.deleteLater()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.dismiss()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def enterEvent(self, event: QEnterEvent) -> None:
        if self._timer.isActive():
            self._remaining = self._timer.remainingTime()
            self._timer.stop()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if not self._closing and not self._timer.isActive():
            self._timer.start(max(self._remaining, _MIN_REMAINING_MSEC))
        super().leaveEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            path = QPainterPath()
            path.addRoundedRect(QRectF(self.rect()), _RADIUS, _RADIUS)
            painter.fillPath(path, self.palette().color(QPalette.ColorRole.Window))
        finally:
            painter.end()


class ToastHost(QObject):
    """Shows toasts stacked upwards from a window's bottom-right corner.

    At most :attr:`max_visible` toasts are shown; a new one drops the oldest.
    Text is always plain text, never interpreted as HTML.

    Signals:
        enabledChanged(bool): toasts were turned on or off.
    """

    enabledChanged = Signal(bool)
    max_visible = 3

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._toasts: list[Toast] = []
        self._enabled = True
        window.installEventFilter(self)

    # -- enabled ---------------------------------------------------------------
    def isEnabled(self) -> bool:
        return self._enabled

    def setEnabled(self, enabled: bool) -> None:
        """Turn toasts on or off; turning them off dismisses the visible ones."""
        enabled = bool(enabled)
        if enabled == self._enabled:
            return
        self._enabled = enabled
        if not enabled:
            self.clear()
        self.enabledChanged.emit(enabled)

    enabled = _QtProperty(bool, isEnabled, setEnabled, notify=enabledChanged)

    # -- toasts ------------------------------------------------------------------
    def toasts(self) -> list[Toast]:
        """The visible toasts, oldest first."""
        return list(self._toasts)

    def show_toast(self, text: str, icon_name: str | None = None, msec: int = 4000) -> Toast | None:
        """Show ``text`` (plain text) for ``msec`` ms; returns the toast, or None when disabled."""
        if not self._enabled:
            return None
        toast = Toast(text, icon_name, msec, self._window)
        toast.dismissed.connect(lambda: self._forget(toast))
        self._toasts.append(toast)
        while len(self._toasts) > self.max_visible:
            self._toasts[0].dismiss()
        toast.adjustSize()
        toast.show()
        toast.raise_()
        toast.start()
        self._relayout()
        return toast

    @Slot()
    def clear(self) -> None:
        """Dismiss every visible toast."""
        for toast in list(self._toasts):
            toast.dismiss()

    def _forget(self, toast: Toast) -> None:
        if toast in self._toasts:
            self._toasts.remove(toast)
            self._relayout()

    def _bottom_right(self) -> QPoint:
        """Over a main window's central area (never over its control bar or
        docks); elsewhere, above the status bar."""
        rect = self._window.rect()
        bottom = rect.bottom() - _MARGIN
        if isinstance(self._window, QMainWindow):
            center = self._window.centralWidget()
            if center is not None and center.isVisibleTo(self._window):
                area = center.geometry()
                return QPoint(area.right() - _MARGIN, area.bottom() - _MARGIN)
            # Not statusBar(): that would create one. A replaced status bar can
            # linger (hidden) until its deleteLater, so look for the visible one.
            for status in self._window.findChildren(
                QStatusBar, options=Qt.FindChildOption.FindDirectChildrenOnly
            ):
                if status.isVisibleTo(self._window):
                    bottom = min(bottom, status.geometry().top() - _MARGIN)
        return QPoint(rect.right() - _MARGIN, bottom)

    def _relayout(self) -> None:
        corner = self._bottom_right()
        bottom = corner.y()
        for toast in reversed(self._toasts):  # newest at the bottom
            width = toast.preferred_width(self._window.width() - 2 * _MARGIN)
            height = max(toast.heightForWidth(width), toast.minimumSizeHint().height())
            toast.setGeometry(corner.x() - width + 1, bottom - height + 1, width, height)
            toast.raise_()
            bottom -= height + _SPACING

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # While a window is destroyed its children's Python halves may already be
        # gone when the last events arrive: no attributes then, nothing to lay out.
        if watched is getattr(self, "_window", None) and event.type() in (
            QEvent.Type.Resize,
            QEvent.Type.LayoutRequest,
        ):
            self._relayout()
        return super().eventFilter(watched, event)
