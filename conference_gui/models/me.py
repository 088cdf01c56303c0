"""Who this window's person is in the meeting: the one place every part asks.

The id is known from the credentials before anything connects; the rest
(name as the server cleaned it, host or not, hand, what we send) comes from the
server and is kept here by the roster, the only writer. Features read it and
listen to :attr:`Me.changed` instead of each keeping its own copy from the
join ack.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from conference_gui.domain.call import NOTHING, MediaState
from conference_gui.domain.meeting import Participant


class Me(QObject):
    """This window's participant.

    Signals:
        changed(Participant): the server's view of us changed (or was first heard).
        hand_changed(bool): our hand went up or down.
    """

    changed = Signal(object)
    hand_changed = Signal(bool)

    def __init__(self, user_id: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.id = user_id
        self.participant: Participant | None = None

    @property
    def known(self) -> bool:
        """The server has told us who we are (after the first join)."""
        return self.participant is not None

    @property
    def name(self) -> str:
        return self.participant.name if self.participant is not None else ""

    @property
    def is_host(self) -> bool:
        return self.participant is not None and self.participant.is_host

    @property
    def hand_raised(self) -> bool:
        return self.participant is not None and self.participant.hand_raised

    @property
    def media(self) -> MediaState:
        return self.participant.media if self.participant is not None else NOTHING

    def update(self, participant: Participant) -> None:
        """Take the server's latest view of us (the roster calls this)."""
        if participant.id != self.id:
            raise ValueError(f"{participant.id!r} is not this window's participant {self.id!r}")
        before = self.participant
        if participant == before:
            return
        self.participant = participant
        self.changed.emit(participant)
        if before is None or before.hand_raised != participant.hand_raised:
            self.hand_changed.emit(participant.hand_raised)
