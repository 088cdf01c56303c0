"""Chat dock with a 10,000-message history: how long does one GUI pass block?

    .venv/bin/python -m bench.bench_chat_history

Loads 10,000 messages of varied length into a real ChatDock (offscreen), lets
the batched layout finish, then delivers 20 new messages and times every
``processEvents`` pass while the view catches up. Prints the median and the
worst pass, and the first full layout. The socket is a real, unconnected
SocketService whose ``chat_message`` signal is emitted directly.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from conference_gui.domain.meeting import ChatMessage
from conference_gui.domain.resources import Person
from conference_gui.models.chat_model import ChatController, ChatListModel
from conference_gui.models.me import Me
from conference_gui.services.socket_service import SocketService
from conference_gui.ui.chat_dock import ChatDock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BOB = Person("bob", "Bob")
WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit"]


def main() -> None:
    app = QApplication.instance() or QApplication([])
    sock = SocketService("http://127.0.0.1:9", "s", "me", "t")
    model = ChatListModel()
    dock = ChatDock(model, ChatController(sock, model, Me("me")))
    dock.resize(380, 600)
    dock.show()
    history = [
        ChatMessage(f"m{i}", BOB, " ".join(WORDS[: 1 + i % 8] * (1 + i % 7)), T0)
        for i in range(10_000)
    ]
    started = time.perf_counter()
    model.history.receive_history(history)
    bar = dock.view.verticalScrollBar()
    first_passes: list[float] = []
    while not (bar.maximum() > 0 and bar.value() == bar.maximum()):
        t = time.perf_counter()
        app.processEvents()
        first_passes.append(time.perf_counter() - t)
    settled = time.perf_counter() - started
    passes: list[float] = []
    for i in range(20):
        sock.chat_message.emit(ChatMessage(f"new{i}", BOB, f"message {i} " * 20, T0))
        for _ in range(40):
            t = time.perf_counter()
            app.processEvents()
            passes.append(time.perf_counter() - t)
    ms = [p * 1000 for p in passes]
    print(
        f"history load to settled view: {settled * 1000:.0f} ms "
        f"(worst pass {max(first_passes) * 1000:.1f} ms)"
    )
    print(
        f"per pass after a new message: median {statistics.median(ms):.2f} ms, "
        f"p99 {sorted(ms)[int(len(ms) * 0.99) - 1]:.2f} ms, worst {max(ms):.1f} ms"
    )
    dock.close()


if __name__ == "__main__":
    main()
