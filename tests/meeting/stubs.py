"""A stand-in for SocketService: the same signals, answers from a table, no network."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal


class StubSocket(QObject):
    """The SocketService surface the controllers use; answers from a table."""

    joined = Signal(object)
    participant_joined = Signal(object)
    participant_updated = Signal(object)
    participant_left = Signal(str)
    chat_message = Signal(object)
    poll_created = Signal(object)
    poll_updated = Signal(object)
    poll_closed = Signal(object)

    def __init__(self, answers: dict[str, Any]) -> None:
        super().__init__()
        self.user_id = "me"
        self.answers = answers
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def request(self, event: str, payload: dict[str, Any], timeout: float = 5.0) -> Any:
        self.sent.append((event, payload))
        answer = self.answers[event]
        if isinstance(answer, Exception):
            raise answer
        return answer(payload) if callable(answer) else answer
