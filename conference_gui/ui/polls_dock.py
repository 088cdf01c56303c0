"""The Polls dock: start a poll, vote once, watch the results live, close it.

Each poll is a card built from one row of the :class:`PollListModel`; cards
are refreshed from the model's ``dataChanged`` and never hold results of
their own. Results are bars with counts and percentages (whole numbers that
add up to 100).
"""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtCore import QModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from conference_gui.domain.polls import (
    MAX_OPTION_LENGTH,
    MAX_OPTIONS,
    MAX_QUESTION_LENGTH,
    MIN_OPTIONS,
    OptionResult,
    PollInputError,
    validate_new_poll,
)
from conference_gui.domain.wording import plural
from conference_gui.models.polls_model import PollListModel, PollRole, PollsController
from conference_gui.tasks import TaskKeeper
from conference_gui.ui.icons import icon

_RADIUS = 4.0


class ResultBar(QWidget):
    """One option's result: its text, a bar as long as its share, "count · percent"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pollBar")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.result = OptionResult(0, "", 0, 0, False, False)

    def set_result(self, result: OptionResult) -> None:
        if result != self.result:
            self.result = result
            self.setAccessibleName(self.label_text())
            self.setToolTip(self.label_text())
            self.update()

    @property
    def votes(self) -> int:
        return self.result.votes

    @property
    def percent(self) -> int:
        return self.result.percent

    def count_text(self) -> str:
        return (
            plural(self.result.votes, self.tr("%n vote"), self.tr("%n votes"))
            + f" · {self.result.percent}%"
        )

    def label_text(self) -> str:
        mine = " " + self.tr("(your vote)") if self.result.mine else ""
        return f"{self.result.text}{mine}: {self.count_text()}"

    def sizeHint(self) -> QSize:
        fm = QFontMetrics(self.font())
        return QSize(160, fm.height() + 12)

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        r = self.result
        pal = self.palette()
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            track = QColor(pal.color(QPalette.ColorRole.Text))
            track.setAlpha(22)
            path = QPainterPath()
            path.addRoundedRect(rect, _RADIUS, _RADIUS)
            painter.fillPath(path, track)
            if r.percent > 0:
                fill = QColor(pal.color(QPalette.ColorRole.Highlight))
                fill.setAlpha(130 if r.leading else 70)
                bar = QRectF(rect.left(), rect.top(), rect.width() * r.percent / 100, rect.height())
                painter.save()
                painter.setClipRect(bar)
                painter.fillPath(path, fill)
                painter.restore()
            if r.mine:
                painter.setPen(pal.color(QPalette.ColorRole.Highlight))
                painter.drawPath(path)

            fm = QFontMetrics(self.font())
            count = self.count_text()
            count_w = fm.horizontalAdvance(count)
            text_rect = rect.adjusted(8, 0, -8, 0)
            painter.setPen(pal.color(QPalette.ColorRole.Text))
            painter.drawText(
                text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, count
            )
            x = text_rect.left()
            if r.mine:
                size = fm.height() - 2
                icon("check").paint(painter, int(x), int(rect.center().y() - size / 2), size, size)
                x += size + 4
            room = int(text_rect.right() - x - count_w - 10)
            font = QFont(self.font())
            font.setBold(r.mine)
            painter.setFont(font)
            label = QFontMetrics(font).elidedText(r.text, Qt.TextElideMode.ElideRight, max(0, room))
            painter.drawText(
                QRectF(x, rect.top(), max(0, room), rect.height()),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                label,
            )
        finally:
            painter.end()


class PollCard(QFrame):
    """One poll: question, who asked, result bars with Vote buttons, Close.

    Signals:
        vote_requested(str poll id, int option)
        close_requested(str poll id)
    """

    vote_requested = Signal(str, int)
    close_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pollCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.poll_id = ""
        self._busy = False
        self._data: dict[int, Any] = {}

        self.question = QLabel(self)
        self.question.setObjectName("pollQuestion")
        self.question.setTextFormat(Qt.TextFormat.PlainText)
        self.question.setWordWrap(True)
        font = self.question.font()
        font.setBold(True)
        self.question.setFont(font)
        self.meta = QLabel(self)
        self.meta.setObjectName("pollMeta")
        self.meta.setTextFormat(Qt.TextFormat.PlainText)
        self.meta.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("pollCloseButton")
        self.close_button.setText(self.tr("Close poll"))
        self.close_button.setToolTip(self.tr("Stop the voting for everyone"))
        self.close_button.clicked.connect(lambda: self.close_requested.emit(self.poll_id))

        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 4, 0, 0)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(4)
        self.grid.setColumnStretch(0, 1)
        self.bars: list[ResultBar] = []
        self.vote_buttons: list[QPushButton] = []

        foot = QHBoxLayout()
        foot.setContentsMargins(0, 0, 0, 0)
        foot.addWidget(self.meta, 1)
        foot.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(4)
        lay.addWidget(self.question)
        lay.addLayout(self.grid)
        lay.addLayout(foot)

    def refresh(self, index: QModelIndex) -> None:
        """Show the poll of model row ``index``."""
        self.poll_id = str(index.data(PollRole.ID))
        results: tuple[OptionResult, ...] = index.data(PollRole.RESULTS) or ()
        closed = bool(index.data(PollRole.CLOSED))
        can_vote = bool(index.data(PollRole.CAN_VOTE))
        can_change = bool(index.data(PollRole.CAN_CHANGE_VOTE))
        mine = index.data(PollRole.MY_VOTE)
        can_close = bool(index.data(PollRole.CAN_CLOSE))
        total = int(index.data(PollRole.TOTAL_VOTES) or 0)
        self.question.setText(str(index.data(PollRole.QUESTION)))
        self._ensure_options(len(results))
        for i, (bar, button, result) in enumerate(
            zip(self.bars, self.vote_buttons, results, strict=True)
        ):
            bar.set_result(result)
            # Until the poll closes a vote can be changed: the other options offer it.
            chosen = can_change and i == mine
            button.setVisible(can_vote or can_change)
            button.setText(self.tr("Your vote") if chosen
                           else self.tr("Change") if can_change else self.tr("Vote"))
            button.setProperty("chosen", chosen)
            button.setAccessibleName(
                self.tr("Your vote: %s") % result.text if chosen
                else self.tr("Change your vote to %s") % result.text if can_change
                else self.tr("Vote for %s") % result.text
            )
        by = str(index.data(PollRole.CREATOR_NAME) or "")
        state = self.tr("Closed") if closed else self.tr("Open")
        self.meta.setText(
            " · ".join(
                [
                    state,
                    plural(total, self.tr("%n vote"), self.tr("%n votes")),
                    self.tr("asked by %s") % by,
                ]
            )
        )
        self.close_button.setVisible(can_close)
        self.setProperty("closed", closed)
        self.setAccessibleName(str(index.data(Qt.ItemDataRole.AccessibleTextRole) or ""))
        self._apply_busy()

    def _ensure_options(self, n: int) -> None:
        while len(self.bars) > n:
            bar, button = self.bars.pop(), self.vote_buttons.pop()
            bar.deleteLater()
            button.deleteLater()
        while len(self.bars) < n:
            i = len(self.bars)
            bar = ResultBar(self)
            button = QPushButton(self.tr("Vote"), self)
            button.setObjectName("pollVoteButton")
            button.clicked.connect(lambda _=False, i=i: self.vote_requested.emit(self.poll_id, i))
            self.grid.addWidget(bar, i, 0)
            self.grid.addWidget(button, i, 1)
            self.bars.append(bar)
            self.vote_buttons.append(button)

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._apply_busy()

    def _apply_busy(self) -> None:
        for button in self.vote_buttons:
            button.setEnabled(not self._busy and not button.property("chosen"))
        self.close_button.setEnabled(not self._busy)

    def results(self) -> list[tuple[str, int, int]]:
        """What the bars show: (option, votes, percent) each."""
        return [(b.result.text, b.votes, b.percent) for b in self.bars]


class PollForm(QFrame):
    """Question and 2–10 options; Create sends it.

    Signals:
        submitted(str question, list options)
        cancelled()
    """

    submitted = Signal(str, list)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pollForm")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.question = QLineEdit(self)
        self.question.setObjectName("pollQuestionInput")
        self.question.setPlaceholderText(self.tr("Question"))
        self.question.setMaxLength(MAX_QUESTION_LENGTH)
        self.question.setAccessibleName(self.tr("Poll question"))
        self.options_layout = QVBoxLayout()
        self.options_layout.setContentsMargins(0, 0, 0, 0)
        self.options_layout.setSpacing(4)
        self.option_edits: list[QLineEdit] = []
        self.add_button = QToolButton(self)
        self.add_button.setObjectName("pollAddOptionButton")
        self.add_button.setText(self.tr("Add option"))
        self.add_button.clicked.connect(lambda: self.add_option(focus=True))
        self.error = QLabel(self)
        self.error.setObjectName("pollFormError")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e03131;")
        self.error.hide()
        self.create_button = QPushButton(self.tr("Start poll"), self)
        self.create_button.setObjectName("pollCreateButton")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self._submit)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.clicked.connect(self.cancelled)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.create_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(self.question)
        lay.addLayout(self.options_layout)
        lay.addWidget(self.error)
        lay.addLayout(buttons)
        self.question.returnPressed.connect(self._submit)
        self.reset()

    def add_option(self, text: str = "", *, focus: bool = False) -> QLineEdit | None:
        if len(self.option_edits) >= MAX_OPTIONS:
            return None
        edit = QLineEdit(self)
        edit.setObjectName(f"pollOptionInput{len(self.option_edits)}")
        edit.setPlaceholderText(self.tr("Option %d") % (len(self.option_edits) + 1))
        edit.setMaxLength(MAX_OPTION_LENGTH)
        edit.setClearButtonEnabled(True)
        edit.setText(text)
        edit.returnPressed.connect(self._submit)
        self.options_layout.addWidget(edit)
        self.option_edits.append(edit)
        self.add_button.setEnabled(len(self.option_edits) < MAX_OPTIONS)
        self._fix_tab_order()
        if focus:
            edit.setFocus()
        return edit

    def _fix_tab_order(self) -> None:
        """Reading order: question, the options top to bottom, Add option, Cancel, Start.

        Left alone, Tab would follow creation order and jump from the question to
        the buttons, past options added later (typed options were then lost).
        """
        chain: list[QWidget] = [
            self.question, *self.option_edits, self.add_button, self.cancel_button,
            self.create_button,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def fill(self, question: str, options: list[str]) -> None:
        self.reset()
        self.question.setText(question)
        for i, text in enumerate(options):
            if i < len(self.option_edits):
                self.option_edits[i].setText(text)
            else:
                self.add_option(text)

    def reset(self) -> None:
        for edit in self.option_edits:
            edit.deleteLater()
        self.option_edits = []
        self.question.clear()
        for _ in range(MIN_OPTIONS):
            self.add_option()
        self.show_error("")

    def values(self) -> tuple[str, list[str]]:
        return self.question.text(), [e.text() for e in self.option_edits]

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def set_busy(self, busy: bool) -> None:
        for w in (self.create_button, self.question, self.add_button, *self.option_edits):
            w.setEnabled(not busy)
        if not busy:
            self.add_button.setEnabled(len(self.option_edits) < MAX_OPTIONS)

    def _submit(self) -> None:
        question, options = self.values()
        try:
            validate_new_poll(question, options)
        except PollInputError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        self.submitted.emit(question, options)


class PollsDock(QDockWidget):
    """Dock (objectName ``pollsPanel``): the meeting's polls as cards, newest first."""

    def __init__(
        self,
        model: PollListModel,
        controller: PollsController,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("Polls"), parent)
        self.setObjectName("pollsPanel")
        self._model = model
        self._controller = controller
        self._tasks = TaskKeeper("polls dock")
        self._busy: set[str] = set()
        self.cards: list[PollCard] = []

        body = QWidget(self)
        self.new_button = QToolButton(body)
        self.new_button.setObjectName("newPollButton")
        self.new_button.setIcon(icon("polls"))
        self.new_button.setText(self.tr("New poll"))
        self.new_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.new_button.clicked.connect(self.show_form)
        # The form scrolls with the cards: opening it must not make the dock (and
        # so the window) taller than it is.
        self.form = PollForm()
        self.form.hide()
        self.form.submitted.connect(self._on_submitted)
        self.form.cancelled.connect(self._hide_form)

        self.list_widget = QWidget()
        self.list_widget.setObjectName("pollList")
        self.cards_layout = QVBoxLayout(self.list_widget)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.setSpacing(8)
        self.empty = QLabel(self.tr("No polls yet."), self.list_widget)
        self.empty.setObjectName("pollsEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.cards_layout.addWidget(self.form)
        self.cards_layout.addWidget(self.empty)
        self.cards_layout.addStretch(1)
        self.scroll_area = QScrollArea(body)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(self.list_widget)

        header = QHBoxLayout()
        header.addWidget(self.new_button)
        header.addStretch(1)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(header)
        lay.addWidget(self.scroll_area, 1)
        self.setWidget(body)

        model.modelReset.connect(self._rebuild)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.rowsRemoved.connect(self._on_rows_removed)
        model.dataChanged.connect(self._on_data_changed)
        self._rebuild()

    # -- cards follow the model -----------------------------------------------------
    def _make_card(self, row: int) -> PollCard:
        card = PollCard(self.list_widget)
        card.vote_requested.connect(self.vote)
        card.close_requested.connect(self.close_poll)
        card.refresh(self._model.index(row))
        card.set_busy(card.poll_id in self._busy)
        return card

    def _rebuild(self) -> None:
        for card in self.cards:
            card.deleteLater()
        self.cards = []
        for row in range(self._model.rowCount()):
            card = self._make_card(row)
            self.cards.append(card)
            self.cards_layout.insertWidget(row + 1, card)  # after the form
        self._update_empty()

    def _on_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):
            card = self._make_card(row)
            self.cards.insert(row, card)
            self.cards_layout.insertWidget(row + 1, card)  # after the form
        self._update_empty()

    def _on_rows_removed(self, _parent: QModelIndex, first: int, last: int) -> None:
        for card in self.cards[first : last + 1]:
            card.deleteLater()
        del self.cards[first : last + 1]
        self._update_empty()

    def _on_data_changed(
        self, top: QModelIndex, bottom: QModelIndex, _roles: object = None
    ) -> None:
        for row in range(top.row(), bottom.row() + 1):
            if 0 <= row < len(self.cards):
                self.cards[row].refresh(self._model.index(row))

    def _update_empty(self) -> None:
        self.empty.setVisible(not self.cards)

    def card_for(self, poll_id: str) -> PollCard | None:
        return next((c for c in self.cards if c.poll_id == poll_id), None)

    def _set_busy(self, poll_id: str, busy: bool) -> None:
        if busy:
            self._busy.add(poll_id)
        else:
            self._busy.discard(poll_id)
        card = self.card_for(poll_id)
        if card is not None:
            card.set_busy(busy)

    # -- intent ---------------------------------------------------------------------
    def show_form(self) -> None:
        self.form.show()
        self.new_button.setEnabled(False)
        self.scroll_area.verticalScrollBar().setValue(0)
        self.form.question.setFocus()

    def _hide_form(self) -> None:
        self.form.hide()
        self.form.reset()
        self.new_button.setEnabled(True)

    def _on_submitted(self, question: str, options: list[str]) -> None:
        self._tasks.spawn(self._create(question, options))

    async def _create(self, question: str, options: list[str]) -> None:
        self.form.set_busy(True)
        try:
            poll = await self._controller.create(question, options)
        except PollInputError as exc:
            self.form.show_error(str(exc))
            return
        finally:
            self.form.set_busy(False)
        if poll is None:
            self.form.show_error(self._controller.last_error)
        else:
            self._hide_form()

    def vote(self, poll_id: str, option: int) -> None:
        if poll_id not in self._busy:
            self._tasks.spawn(self._vote(poll_id, option))

    async def _vote(self, poll_id: str, option: int) -> None:
        self._set_busy(poll_id, True)
        try:
            await self._controller.vote(poll_id, option)
        finally:
            self._set_busy(poll_id, False)

    def close_poll(self, poll_id: str) -> None:
        if poll_id not in self._busy:
            self._tasks.spawn(self._close(poll_id))

    async def _close(self, poll_id: str) -> None:
        self._set_busy(poll_id, True)
        try:
            await self._controller.close(poll_id)
        finally:
            self._set_busy(poll_id, False)

    async def shutdown(self) -> None:
        await self._tasks.shutdown()
