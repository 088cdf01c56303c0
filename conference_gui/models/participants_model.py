"""The participants list as a Qt model, and the controller that keeps it live.

:class:`ParticipantListModel` adapts a :class:`ParticipantRoster`;
:class:`ParticipantsController` feeds it from the window's one
:class:`SocketService` (rebuilding it from every ``join-session`` ack, so a
reconnect leaves no ghosts) and sends raise/lower-hand requests.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from conference_gui.domain.meeting import JoinAck, Participant
from conference_gui.domain.participants import ParticipantRoster
from conference_gui.models.me import Me
from conference_gui.models.row_model import RowListModel
from conference_gui.services.socket_service import RequestError, SocketService
from conference_gui.tasks import TaskKeeper

log = logging.getLogger(__name__)


class ParticipantRole(enum.IntEnum):
    PARTICIPANT = Qt.ItemDataRole.UserRole + 1  # the Participant itself
    ID = enum.auto()
    NAME = enum.auto()
    IS_HOST = enum.auto()
    IS_ME = enum.auto()
    HAND_RAISED = enum.auto()
    HAND_RAISED_AT = enum.auto()  # aware UTC datetime or None
    MIC_ON = enum.auto()
    CAMERA_ON = enum.auto()
    SHARING_SCREEN = enum.auto()


def local_time(moment: Any) -> str:
    return moment.astimezone().strftime("%H:%M") if moment is not None else ""


class ParticipantListModel(RowListModel[Participant]):
    """Everyone in the meeting: raised hands first (by raise time), then host, then names.

    Signals:
        count_changed(int): how many people are in the meeting (the button's badge).
        raised_count_changed(int): how many hands are up.
    """

    raised_count_changed = Signal(int)
    roles = ParticipantRole

    def __init__(self, parent: QObject | None = None, *, me_id: str | None = None) -> None:
        roster = ParticipantRoster()
        super().__init__(roster, parent)
        self.roster = roster
        self.me_id: str | None = me_id
        self._raised = 0
        self.modelReset.connect(self._count_hands)
        self.rowsInserted.connect(self._count_hands)
        self.rowsRemoved.connect(self._count_hands)
        self.dataChanged.connect(self._count_hands)

    def set_me(self, user_id: str) -> None:
        if user_id != self.me_id:
            self.me_id = user_id
            self.emit_all_changed([ParticipantRole.IS_ME, Qt.ItemDataRole.DisplayRole])

    def _count_hands(self, *_: object) -> None:
        raised = len(self.roster.raised_hands())
        if raised != self._raised:
            self._raised = raised
            self.raised_count_changed.emit(raised)

    @property
    def raised_count(self) -> int:
        return self._raised

    def display_name(self, p: Participant) -> str:
        return self.tr("%s (you)") % p.name if p.id == self.me_id else p.name

    def describe(self, p: Participant) -> str:
        """One sentence for screen readers and tooltips."""
        parts = [self.display_name(p)]
        if p.is_host:
            parts.append(self.tr("host"))
        if p.hand_raised:
            parts.append(self.tr("hand raised at %s") % local_time(p.hand_raised_at))
        parts.append(self.tr("microphone on") if p.media.audio else self.tr("microphone off"))
        parts.append(self.tr("camera on") if p.media.video else self.tr("camera off"))
        if p.media.screen:
            parts.append(self.tr("sharing their screen"))
        return ", ".join(parts)

    def row_data(self, p: Participant, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display_name(p)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.describe(p)
        if role == ParticipantRole.PARTICIPANT:
            return p
        if role == ParticipantRole.ID:
            return p.id
        if role == ParticipantRole.NAME:
            return p.name
        if role == ParticipantRole.IS_HOST:
            return p.is_host
        if role == ParticipantRole.IS_ME:
            return p.id == self.me_id
        if role == ParticipantRole.HAND_RAISED:
            return p.hand_raised
        if role == ParticipantRole.HAND_RAISED_AT:
            return p.hand_raised_at
        if role == ParticipantRole.MIC_ON:
            return p.media.audio
        if role == ParticipantRole.CAMERA_ON:
            return p.media.video
        if role == ParticipantRole.SHARING_SCREEN:
            return p.media.screen
        return None

    def names(self) -> list[str]:
        """The shown names, top to bottom (handy for tests and logs)."""
        return [self.display_name(p) for p in self.roster]


class ParticipantsController(QObject):
    """Keeps the participants model true and sends hand requests.

    Signals:
        someone_joined(Participant): another person joined (not on a resync).
        someone_left(Participant): another person left.
        hand_raised(Participant): another person raised their hand.
        error_message(str): a request failed; words for the person.
    """

    someone_joined = Signal(object)
    someone_left = Signal(object)
    hand_raised = Signal(object)
    error_message = Signal(str)

    def __init__(
        self,
        socket: SocketService,
        model: ParticipantListModel,
        me: Me,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._socket = socket
        self.model = model
        self._me = me
        model.set_me(me.id)
        self._tasks = TaskKeeper("participants")
        socket.joined.connect(self.on_socket_joined)
        socket.participant_joined.connect(self.on_participant_joined)
        socket.participant_updated.connect(self.on_participant_updated)
        socket.participant_left.connect(self.on_participant_left)

    @property
    def me(self) -> Participant | None:
        return self._me.participant

    @property
    def is_host(self) -> bool:
        return self._me.is_host

    @property
    def my_hand_raised(self) -> bool:
        return self._me.hand_raised

    # -- socket events --------------------------------------------------------
    def on_socket_joined(self, ack: JoinAck) -> None:
        people = {p.id: p for p in ack.participants}
        people.setdefault(ack.me.id, ack.me)
        self.model.roster.reset(people.values())
        self._set_me(self.model.roster.get(ack.me.id) or ack.me)

    def on_participant_joined(self, p: Participant) -> None:
        previous = self.model.roster.upsert(p)
        if p.id == self._me_id:
            self._set_me(self.model.roster.get(p.id) or p)
        elif previous is None:
            self.someone_joined.emit(p)

    def on_participant_updated(self, p: Participant) -> None:
        previous = self.model.roster.upsert(p)
        current = self.model.roster.get(p.id) or p
        if p.id == self._me_id:
            self._set_me(current)
        elif current.hand_raised and not (previous is not None and previous.hand_raised):
            self.hand_raised.emit(current)

    def on_participant_left(self, participant_id: str) -> None:
        if participant_id == self._me_id:
            # Another connection of ours went away; we are still here.
            return
        gone = self.model.roster.remove(participant_id)
        if gone is not None:
            self.someone_left.emit(gone)

    @property
    def _me_id(self) -> str:
        return self._me.id

    def _set_me(self, me: Participant) -> None:
        if me.id == self._me.id:
            self._me.update(me)

    # -- requests ---------------------------------------------------------------
    def request_hand(self, raised: bool) -> None:
        """Raise or lower our hand in the background (a button's click)."""
        self._tasks.spawn(self.set_hand(raised))

    async def set_hand(self, raised: bool) -> bool:
        try:
            await self._socket.request("raise-hand", {"raised": raised})
        except RequestError as exc:
            self.error_message.emit(
                (
                    self.tr("Could not raise your hand: %s")
                    if raised
                    else self.tr("Could not lower your hand: %s")
                )
                % exc.message
            )
            # Show the truth again (the button was toggled by the click).
            self._me.hand_changed.emit(self._me.hand_raised)
            return False
        return True

    def request_lower_hand(self, participant_id: str) -> None:
        self._tasks.spawn(self.lower_hand(participant_id))

    async def lower_hand(self, participant_id: str) -> bool:
        """Lower someone's hand (host only; the server checks)."""
        if participant_id == self._me_id:
            return await self.set_hand(False)
        try:
            await self._socket.request("lower-hand", {"participantId": participant_id})
        except RequestError as exc:
            self.error_message.emit(self.tr("Could not lower the hand: %s") % exc.message)
            return False
        return True

    async def shutdown(self) -> None:
        await self._tasks.shutdown()
