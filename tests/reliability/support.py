"""Helpers shared by the reliability tests: what a window shows, what the server holds."""

from __future__ import annotations

from typing import Any

import requests
from PySide6.QtWidgets import QLabel, QListView, QToolButton

from tests.conftest import Meeting, Member


def badge(win: Any) -> int:
    button = win.findChild(QToolButton, "resourcesButton")
    assert button is not None
    return int(button.property("badgeCount"))


def view_ids(win: Any) -> list[str]:
    """Resource ids in the dock's list view, top to bottom (through the Qt model)."""
    view = win.findChild(QListView, "resourceList")
    model = view.model()
    ledger = win.features["resources"].model.ledger
    names = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert names == [res.name for res in ledger.resources()]
    return [res.id for res in ledger.resources()]


def status_text(win: Any) -> str:
    label = win.findChild(QLabel, "connectionStatus")
    return str(label.text())


def server_state(meeting: Meeting, who: Member | None = None) -> tuple[int, list[str]]:
    """``(revision, ids newest first)`` as the server lists them."""
    r = requests.get(
        f"{meeting.url}/api/sessions/{meeting.session_id}/resources",
        headers={"Authorization": f"Bearer {(who or meeting.host).token}"},
        timeout=10,
    )
    r.raise_for_status()
    body = r.json()
    return body["revision"], [res["id"] for res in body["resources"]]


def converged(win: Any, truth: tuple[int, list[str]]) -> bool:
    """The window holds exactly the server's list: same revision, ids, count, badge.

    Order is not compared: the server lists by revision, the client sorts by
    ``uploadedAt`` then id; uploads that overlap in time may differ between the two.
    """
    revision, ids = truth
    ledger = win.features["resources"].model.ledger
    held = [r.id for r in ledger.resources()]
    return (
        win.socket.is_ready
        and ledger.revision == revision
        and len(held) == len(ids)
        and set(held) == set(ids)
        and badge(win) == len(ids)
        and win.features["resources"].model.rowCount() == len(ids)
    )


def no_duplicates(win: Any) -> bool:
    ids = [r.id for r in win.features["resources"].model.ledger.resources()]
    return len(ids) == len(set(ids))
