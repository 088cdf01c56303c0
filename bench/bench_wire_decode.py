"""How fast the client turns a join ack and room events into domain objects.

    python bench/bench_wire_decode.py

A join ack of a busy meeting (50 participants, 20 polls, 200 chat messages of
200 characters) and 10,000 room events (participant-updated, chat-message,
resource-uploaded), decoded with the client's parsers (``JoinAck.from_wire``,
the socket service's relay parsers). Prints the median of 7 runs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from conference_gui.domain.meeting import JoinAck
from conference_gui.domain.resources import ResourceUploaded
from conference_gui.services import socket_service

T = "2026-11-25T21:24:27.279Z"


def participant(i: int) -> dict[str, Any]:
    return {"id": f"{i:024x}", "name": f"Person {i}", "role": "participant",
            "handRaised": i % 3 == 0, "handRaisedAt": T if i % 3 == 0 else None,
            "media": {"audio": True, "video": i % 2 == 0, "screen": False}}


def chat(i: int) -> dict[str, Any]:
    return {"id": f"m{i:023x}", "from": {"id": f"{i % 50:024x}", "name": f"Person {i % 50}"},
            "text": "x" * 200, "sentAt": T}


def poll(i: int) -> dict[str, Any]:
    return {"id": f"p{i:023x}", "question": f"Question {i}?",
            "options": [{"text": f"Option {j}", "votes": j} for j in range(4)],
            "closed": i % 2 == 0, "createdBy": f"{0:024x}", "myVote": None}


ACK = {"self": participant(0), "participants": [participant(i) for i in range(50)],
       "resourceRevision": 7, "polls": [poll(i) for i in range(20)],
       "chat": [chat(i) for i in range(200)], "call": {"mode": "mesh", "active": True}}
RESOURCE = {"revision": 3, "resource": {
    "id": "r" * 24, "sessionId": "s" * 24, "name": "notes.txt", "size": 5,
    "contentType": "text/plain", "uploadedBy": {"id": "u" * 24, "name": "Ann"},
    "uploadedAt": T}}
EVENTS: list[tuple[Callable[[object], object], Any]] = [
    (socket_service._participant, {"participant": participant(1)}),
    (socket_service._chat, {"message": chat(1)}),
    (ResourceUploaded.from_wire, RESOURCE),
] * 3334


def timed(work: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(repeat):
            work()
        runs.append((time.perf_counter() - start) / repeat)
    return statistics.median(runs)


def main() -> None:
    ack = timed(lambda: JoinAck.from_wire(ACK), 200)
    events = timed(lambda: [parse(payload) for parse, payload in EVENTS], 3)
    print(f"join ack (50 people, 20 polls, 200 chat): {ack * 1e3:.3f} ms")
    print(f"room events: {events / len(EVENTS) * 1e6:.2f} µs each")


if __name__ == "__main__":
    main()
