"""The Chat dock: the meeting's messages and a box to write one.

Message text is always drawn as plain text (``QTextLayout`` lines, never a
rich-text document), so ``<b>hi</b>`` shows exactly those characters. Rows
wrap long messages up to :data:`MAX_LINES` lines (the tooltip and "Copy"
have the whole text); row heights are cached per message and width, so a
10,000-message history scrolls and grows without re-measuring text.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPlainTextEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from conference_gui.domain.chat import ChatEntry, ChatInputError, SendState
from conference_gui.models.chat_model import ChatController, ChatListModel, ChatRole
from conference_gui.ui.icons import icon
from conference_gui.ui.item_views import paint_item_background, paint_placeholder

PAD = 6
MAX_LINES = 12
STATUS_ICON = 14
_FAILED_COLOR = QColor("#e03131")
_LINE_CACHE_SIZE = 4096

_Index = QModelIndex | QPersistentModelIndex


def wrap_lines(text: str, font: QFont, width: int, max_lines: int) -> tuple[list[str], bool]:
    """``text`` broken into lines of at most ``width`` pixels; ``True`` if cut after max_lines.

    Plain text only: ``QTextLayout`` never interprets markup. Line breaks in
    the text are kept.
    """
    layout = QTextLayout(text.replace("\n", "\u2028"), font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    laid = layout.text()
    lines: list[str] = []
    cut = False
    layout.beginLayout()
    try:
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            if len(lines) == max_lines:
                cut = True
                break
            line.setLineWidth(max(1, width))
            start, length = line.textStart(), line.textLength()
            lines.append(laid[start : start + length].rstrip("\u2028"))
    finally:
        layout.endLayout()
    return lines or [""], cut


class ChatDelegate(QStyledItemDelegate):
    """Paints a message: "Sender · 14:03" above its wrapped plain text, and its send state.

    Pending messages are dimmed and say "Sending…"; failed ones are marked red
    with their reason and a "Retry" link.

    Signals:
        retry_clicked(str key): the Retry link of a failed message was clicked.
    """

    retry_clicked = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lines: OrderedDict[tuple[str, str, int], tuple[list[str], bool]] = OrderedDict()
        self._heights: dict[tuple[str, SendState, str, int], int] = {}
        self._model: ChatListModel | None = None

    def set_model(self, model: ChatListModel | None) -> None:
        """Read rows straight from the chat model (sizeHint runs for every row on relayout)."""
        self._model = model

    def clear_cache(self) -> None:
        """Forget measured rows (the view's font or style changed)."""
        self._lines.clear()
        self._heights.clear()

    def _entry(self, index: _Index) -> ChatEntry | None:
        model = self._model
        if model is not None and index.model() is model:
            row = index.row()
            return model.history[row] if 0 <= row < len(model.history) else None
        e = index.data(ChatRole.ENTRY)
        return e if isinstance(e, ChatEntry) else None

    # -- measuring ------------------------------------------------------------
    @staticmethod
    def _text_width(option: QStyleOptionViewItem) -> int:
        return max(40, option.rect.width() - 2 * PAD)

    def _wrapped(self, e: ChatEntry, font: QFont, width: int) -> tuple[list[str], bool]:
        key = (e.key, e.text, width)
        hit = self._lines.get(key)
        if hit is not None:
            self._lines.move_to_end(key)
            return hit
        hit = wrap_lines(e.text, font, width, MAX_LINES)
        self._lines[key] = hit
        if len(self._lines) > _LINE_CACHE_SIZE:
            self._lines.popitem(last=False)
        return hit

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        e = self._entry(index)
        if e is None:
            return QSize(0, 0)
        width = self._text_width(option)
        hkey = (e.key, e.state, e.text, width)
        height = self._heights.get(hkey)
        if height is None:
            font = option.font
            fm = QFontMetrics(font)
            lines, _cut = wrap_lines(e.text, font, width, MAX_LINES)
            height = PAD + fm.height() + 2 + len(lines) * fm.lineSpacing() + PAD
            if e.state is SendState.FAILED:
                height += fm.height() + 2
            if len(self._heights) > 50_000:
                self._heights.clear()
            self._heights[hkey] = height
        return QSize(width, height)

    # -- painting -------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        e = self._entry(index)
        if e is None:
            return
        paint_item_background(self, painter, option, index)

        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        text_color = pal.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        dim = text_color if selected else pal.color(QPalette.ColorRole.PlaceholderText)
        font = QFont(option.font)
        fm = QFontMetrics(font)
        width = self._text_width(option)
        left = option.rect.left() + PAD
        y = option.rect.top() + PAD

        painter.save()
        # Header: sender and time (and the state of an own message).
        bold = QFont(font)
        bold.setBold(True)
        bold_fm = QFontMetrics(bold)
        sender = str(index.data(ChatRole.SENDER_NAME) or "")
        when = e.sent_at.astimezone().strftime("%H:%M")
        status = ""
        if e.state is SendState.PENDING:
            status = self.tr("Sending…")
        meta = f"  {when}" + (f"  · {status}" if status else "")
        meta_w = fm.horizontalAdvance(meta)
        name = bold_fm.elidedText(sender, Qt.TextElideMode.ElideRight, max(10, width - meta_w))
        painter.setFont(bold)
        painter.setPen(dim if e.state is SendState.PENDING else text_color)
        head = QRect(left, y, width, fm.height())
        painter.drawText(head, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        painter.setFont(font)
        painter.setPen(dim)
        meta_rect = head.adjusted(bold_fm.horizontalAdvance(name), 0, 0, 0)
        painter.drawText(
            meta_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, meta
        )
        y += fm.height() + 2

        # Body: plain text lines (never markup).
        lines, cut = self._wrapped(e, font, width)
        body_font = QFont(font)
        if e.state is SendState.PENDING:
            body_font.setItalic(True)
        painter.setFont(body_font)
        painter.setPen(dim if e.state is SendState.PENDING else text_color)
        step = fm.lineSpacing()
        for i, line in enumerate(lines):
            shown = line
            if cut and i == len(lines) - 1:
                shown = fm.elidedText(line + " …", Qt.TextElideMode.ElideRight, width)
                if not shown.endswith("…"):
                    shown = line.rstrip() + " …"
            painter.drawText(QPoint(left, y + fm.ascent()), shown)
            y += step

        if e.state is SendState.FAILED:
            self._paint_failure(
                painter, e, option, QRect(left, y + 2, width, fm.height()), selected
            )
        painter.restore()

    def _failure_texts(self, e: ChatEntry) -> tuple[str, str]:
        reason = e.error or self.tr("unknown error")
        return self.tr("Not sent: %s") % reason, self.tr("Retry")

    def _paint_failure(
        self,
        painter: QPainter,
        e: ChatEntry,
        option: QStyleOptionViewItem,
        rect: QRect,
        selected: bool,
    ) -> None:
        fm = QFontMetrics(option.font)
        warn_palette = QPalette(option.palette)
        color = (
            option.palette.color(QPalette.ColorRole.HighlightedText)
            if selected
            else (_FAILED_COLOR)
        )
        warn_palette.setColor(QPalette.ColorRole.WindowText, color)
        top = rect.top() + (rect.height() - STATUS_ICON) // 2
        icon("warning", warn_palette).paint(
            painter, QRect(rect.left(), top, STATUS_ICON, STATUS_ICON)
        )
        message, retry = self._failure_texts(e)
        link = self._retry_rect(option, e)
        x = rect.left() + STATUS_ICON + 4
        room = max(10, link.left() - x - 8)
        painter.setPen(color)
        painter.setFont(option.font)
        painter.drawText(
            QRect(x, rect.top(), room, rect.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(message, Qt.TextElideMode.ElideRight, room),
        )
        link_font = QFont(option.font)
        link_font.setBold(True)
        link_font.setUnderline(True)
        painter.setFont(link_font)
        painter.setPen(color if selected else option.palette.color(QPalette.ColorRole.Link))
        painter.drawText(link, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, retry)

    def _retry_rect(self, option: QStyleOptionViewItem, e: ChatEntry) -> QRect:
        """Where the Retry link of a failed row is drawn."""
        font = QFont(option.font)
        font.setBold(True)
        fm = QFontMetrics(font)
        _msg, retry = self._failure_texts(e)
        w = fm.horizontalAdvance(retry) + 4
        bottom = option.rect.bottom() - PAD + 1
        return QRect(option.rect.right() - PAD - w + 1, bottom - fm.height(), w, fm.height())

    def editorEvent(
        self, event: QEvent, model: object, option: QStyleOptionViewItem, index: _Index
    ) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            e = index.data(ChatRole.ENTRY)
            if (
                isinstance(e, ChatEntry)
                and e.state is SendState.FAILED
                and event.button() == Qt.MouseButton.LeftButton
                and self._retry_rect(option, e)
                .adjusted(-4, -4, 4, 4)
                .contains(event.position().toPoint())
            ):
                self.retry_clicked.emit(e.key)
                return True
        return super().editorEvent(event, model, option, index)  # type: ignore[arg-type]

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: _Index,
    ) -> bool:
        e = index.data(ChatRole.ENTRY)
        if isinstance(e, ChatEntry) and event.type() == QEvent.Type.ToolTip:
            _lines, cut = self._wrapped(e, option.font, self._text_width(option))
            if cut:  # the whole message, as plain text
                QToolTip.showText(event.globalPos(), _plain_tooltip(e.text), view)
                return True
            QToolTip.hideText()
            return True
        return super().helpEvent(event, view, option, index)


def _plain_tooltip(text: str) -> str:
    """Tooltips guess rich text; escape so it is always shown literally."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "<p style='white-space:pre-wrap'>" + escaped + "</p>"


class ChatListView(QListView):
    """The message list: follows new messages while scrolled to the bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatList")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.setWordWrap(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setAccessibleName(self.tr("Chat messages"))
        self.chat_delegate = ChatDelegate(self)
        self.setItemDelegate(self.chat_delegate)
        self._follow = True
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().rangeChanged.connect(self._on_range_changed)

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        self.chat_delegate.set_model(model if isinstance(model, ChatListModel) else None)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.chat_delegate.clear_cache()
        super().changeEvent(event)

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _on_scrolled(self, _value: int) -> None:
        self._follow = self._at_bottom()

    def _on_range_changed(self, _minimum: int, _maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def follow(self) -> None:
        """Stick to the newest message (after sending one)."""
        self._follow = True
        self.scrollToBottom()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        paint_placeholder(self, self.tr("No messages yet. Say hello!"))


class ChatInput(QPlainTextEdit):
    """Message box: Enter sends, Shift+Enter starts a new line.

    Signals:
        submitted(): the person pressed Enter.
    """

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatInput")
        self.setTabChangesFocus(True)
        # Short enough for a narrow dock; the keys are in the tooltip.
        self.setPlaceholderText(self.tr("Message everyone"))
        self.setToolTip(self.tr("Enter sends, Shift+Enter starts a new line"))
        self.setAccessibleName(self.tr("Chat message"))
        fm = QFontMetrics(self.font())
        frame = 2 * (self.frameWidth() + int(self.document().documentMargin()))
        self.setFixedHeight(fm.lineSpacing() * 3 + frame + 2)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        mods = event.modifiers()
        if enter and not (mods & Qt.KeyboardModifier.ShiftModifier):
            if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
                event.ignore()
                return
            event.accept()
            self.submitted.emit()
            return
        if enter:  # Shift+Enter: a plain new line (not a paragraph separator)
            event.accept()
            self.insertPlainText("\n")
            return
        super().keyPressEvent(event)


class ChatDock(QDockWidget):
    """Dock (objectName ``chatPanel``): message list over the chat model, and the input."""

    def __init__(
        self,
        model: ChatListModel,
        controller: ChatController,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("Chat"), parent)
        self.setObjectName("chatPanel")
        self._model = model
        self._controller = controller

        body = QWidget(self)
        # The join ack carries recent chat only; older messages come on demand.
        self.older_button = QToolButton(body)
        self.older_button.setObjectName("chatOlderButton")
        self.older_button.setText(self.tr("Show earlier messages"))
        self.older_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.older_button.setAutoRaise(True)
        self.older_button.clicked.connect(controller.request_older)
        self.older_button.setVisible(controller.has_older)
        controller.older_available_changed.connect(self.older_button.setVisible)
        self.view = ChatListView(body)
        self.view.setModel(model)
        self.view.chat_delegate.retry_clicked.connect(controller.retry)
        self.view.customContextMenuRequested.connect(self._context_menu)
        model.rowsInserted.connect(self._on_rows_inserted)

        self.input = ChatInput(body)
        self.input.submitted.connect(self.send)
        self.input.textChanged.connect(self._update)
        self.send_button = QToolButton(body)
        self.send_button.setObjectName("chatSendButton")
        self.send_button.setIcon(icon("chat"))
        self.send_button.setText(self.tr("Send"))
        self.send_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.send_button.setToolTip(self.tr("Send (Enter)"))
        self.send_button.clicked.connect(self.send)
        self.problem = QLabel(body)
        self.problem.setObjectName("chatProblem")
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #e03131;")
        self.problem.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.input, 1)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.older_button, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.problem)
        lay.addLayout(row)
        self.setWidget(body)
        self.setFocusProxy(self.input)
        self._problem_timer = QTimer(self)
        self._problem_timer.setSingleShot(True)
        self._problem_timer.timeout.connect(self.problem.hide)
        self._update()

    def _update(self) -> None:
        self.send_button.setEnabled(bool(self.input.toPlainText().strip()))
        if self.problem.isVisible() and self.input.toPlainText().strip():
            self.problem.hide()

    def send(self) -> None:
        """Send what is typed; nothing typed (or too long) explains itself and keeps the text."""
        text = self.input.toPlainText()
        try:
            self._controller.send(text)
        except ChatInputError as exc:
            if text.strip():  # say why only when there was something to send
                self.show_problem(str(exc))
            return
        self.input.clear()
        self.view.follow()

    def show_problem(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.show()
        self._problem_timer.start(6000)

    def _on_rows_inserted(self, _parent: QModelIndex, _first: int, last: int) -> None:
        e = self._model.index(last).data(ChatRole.ENTRY)
        if isinstance(e, ChatEntry) and e.own:
            self.view.follow()

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        e = index.data(ChatRole.ENTRY) if index.isValid() else None
        if not isinstance(e, ChatEntry):
            return
        menu = QMenu(self)
        menu.setObjectName("chatMenu")
        key, text = e.key, e.text
        if e.state is SendState.FAILED:
            menu.addAction(self.tr("Retry"), lambda: self._controller.retry(key))
            menu.addAction(
                icon("delete"), self.tr("Discard"), lambda: self._controller.discard(key)
            )
            menu.addSeparator()
        menu.addAction(
            icon("copy"), self.tr("Copy text"), lambda: QGuiApplication.clipboard().setText(text)
        )
        menu.popup(self.view.viewport().mapToGlobal(pos))
