"""Older chat on demand: the join ack carries recent chat only (issue 15); the chat
controller and dock fetch the rest page by page with ``chat-history``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conference_gui.models.chat_model import ChatController, ChatListModel
from conference_gui.models.me import Me
from conference_gui.server import ServerConfig, ServerThread
from conference_gui.server.config import DEFAULT_EVENT_RATES
from conference_gui.services.socket_service import SocketService
from conference_gui.ui.chat_dock import ChatDock
from tests.conftest import Loop, Meeting, until


@pytest.fixture
def chatty_server(tmp_path: Path) -> Iterator[ServerThread]:
    rates = {**DEFAULT_EVENT_RATES, "chat-message": (0.0, 0.0)}  # a long history, quickly
    srv = ServerThread(ServerConfig(port=0, data_dir=tmp_path / "data", event_rates=rates))
    srv.start()
    yield srv
    srv.stop()


def test_older_chat_is_fetched_on_demand(aloop: Loop, chatty_server: ServerThread,
                                         qtbot: Any) -> None:
    meeting = Meeting(chatty_server.url)
    bob = meeting.join("Bob")
    writer = SocketService(chatty_server.url, meeting.session_id, meeting.host.user_id,
                           meeting.host.token)
    reader = SocketService(chatty_server.url, meeting.session_id, bob.user_id, bob.token)
    model = ChatListModel()
    controller = ChatController(reader, model, Me(bob.user_id))
    dock = ChatDock(model, controller)
    qtbot.addWidget(dock)
    dock.show()

    async def story() -> None:
        writer.start()
        await until(lambda: writer.is_ready)
        for i in range(120):
            await writer.request("chat-message", {"text": f"m{i}"})
        reader.start()
        await until(lambda: reader.is_ready and len(model.texts()) == 50)
        assert model.texts() == [f"m{i}" for i in range(70, 120)]
        assert controller.has_older and dock.older_button.isVisible()
        dock.older_button.click()
        await until(lambda: len(model.texts()) == 100, what="one page more")
        assert controller.has_older
        assert await controller.load_older() == 20
        assert model.texts() == [f"m{i}" for i in range(120)]
        assert not controller.has_older and not dock.older_button.isVisible()
        assert await controller.load_older() == 0
        await writer.request("chat-message", {"text": "new"})
        await until(lambda: model.texts()[-1] == "new")
        await writer.stop()
        await reader.stop()
        await controller.shutdown()

    aloop.run(story())
