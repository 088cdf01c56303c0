"""Malformed socket events: the client drops them, says so, and keeps its state.

The server's test hook emits raw payloads to the meeting's room, as a buggy or
hostile server would; a real window receives them through its one socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtWidgets import QAbstractItemView

from conference_gui.domain.meeting import JoinAck, SignalMessage
from conference_gui.domain.resources import (
    ResourceDeleted,
    ResourceUploaded,
    Snapshot,
)
from conference_gui.domain.wire import PayloadError
from conference_gui.server import ServerThread
from conference_gui.services import socket_service
from tests.conftest import Loop, Meeting, until

from .conftest import Hooks, figure
from .support import badge, no_duplicates, view_ids

NOT_OBJECTS: list[Any] = [None, [], [1, 2], "text", 42, -1, 1.5, True]
BIG = "x" * 200_000


def resource(rev: int, **changes: Any) -> dict[str, Any]:
    body = {
        "id": f"evil{rev:08d}",
        "sessionId": "s",
        "name": "evil.txt",
        "size": 3,
        "contentType": "text/plain",
        "uploadedBy": {"id": "u", "name": "Eve"},
        "uploadedAt": "2026-11-25T21:00:00.000Z",
    }
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return {"revision": rev, "resource": body}


def malformed_cases(rev: int) -> list[tuple[str, list[Any]]]:
    """``(event, args)`` pairs, each of which must be refused as a whole."""
    cases: list[tuple[str, list[Any]]] = []
    typed = [
        "resource-uploaded",
        "resource-deleted",
        "participant-joined",
        "participant-updated",
        "participant-left",
        "chat-message",
        "poll-created",
        "poll-updated",
        "poll-closed",
        "signal",
    ]
    for event in typed:
        cases.append((event, []))  # no payload at all
        cases += [(event, [value]) for value in NOT_OBJECTS]
        cases.append((event, [{}, {}]))  # two arguments
    good = resource(rev)
    for key, bad in [
        ("id", ...),
        ("id", ""),
        ("id", 7),
        ("id", BIG),
        ("name", BIG),
        ("name", None),
        ("size", -5),
        ("size", "3"),
        ("size", 2.5),
        ("size", True),
        ("uploadedBy", ["u", "Eve"]),
        ("uploadedBy", None),
        ("uploadedAt", "yesterday"),
        ("uploadedAt", 1700000000),
        ("uploadedAt", "0001-01-01T00:00:00+01:00"),
        ("uploadedAt", "9999-12-31T23:59:59-01:00"),
        ("sessionId", ...),
        ("contentType", ["text/plain"]),
    ]:
        cases.append(("resource-uploaded", [resource(rev, **{key: bad})]))
    for rv in [-1, "2", None, 1.0, True, [rev]]:
        bad_rev = copy.deepcopy(good)
        bad_rev["revision"] = rv
        cases.append(("resource-uploaded", [bad_rev]))
        cases.append(("resource-deleted", [{"resourceId": "x", "revision": rv}]))
    cases += [
        ("resource-uploaded", [{"revision": rev, "resource": [good["resource"]]}]),
        ("resource-deleted", [{"revision": rev}]),
        ("resource-deleted", [{"revision": rev, "resourceId": BIG}]),
        ("resource-deleted", [{"revision": rev, "resourceId": None}]),
        ("participant-joined", [{"participant": {"id": "p", "name": "P", "role": "king"}}]),
        ("participant-joined", [{"participant": {"id": "p", "name": BIG, "role": "host"}}]),
        (
            "participant-updated",
            [{"participant": {"id": "p", "name": "P", "role": "host", "handRaised": "yes"}}],
        ),
        ("participant-left", [{"participantId": BIG}]),
        (
            "chat-message",
            [
                {
                    "message": {
                        "id": "m",
                        "from": "Eve",
                        "text": "hi",
                        "sentAt": "2026-11-25T21:00:00Z",
                    }
                }
            ],
        ),
        (
            "chat-message",
            [
                {
                    "message": {
                        "id": "m",
                        "from": {"id": "e", "name": "E"},
                        "text": "hi",
                        "sentAt": "0001-01-01T00:00:00+05:00",
                    }
                }
            ],
        ),
        (
            "poll-created",
            [
                {
                    "poll": {
                        "id": "p",
                        "question": "Q",
                        "options": [],
                        "closed": False,
                        "createdBy": "u",
                    }
                }
            ],
        ),
        (
            "poll-updated",
            [
                {
                    "poll": {
                        "id": "p",
                        "question": "Q",
                        "options": [{"text": "a", "votes": -1}],
                        "closed": False,
                        "createdBy": "u",
                    }
                }
            ],
        ),
        ("signal", [{"from": "u", "data": "sdp"}]),
    ]
    return cases


def counts(win: Any) -> dict[str, int]:
    found = {}
    for name in ("resourceList", "participantList", "chatList"):
        view = win.findChild(QAbstractItemView, name)
        assert view is not None, name
        found[name] = view.model().rowCount()
    found["badge"] = badge(win)
    return found


@pytest.mark.timeout(180)
def test_malformed_events_are_dropped_and_change_nothing(
    aloop: Loop, hooked: ServerThread, hooks: Hooks, hmeeting: Meeting, windows: Any
) -> None:
    win = windows(hmeeting, hmeeting.host)
    dropped: list[tuple[str, str]] = []
    win.socket.malformed_event.connect(lambda event, why: dropped.append((event, why)))
    sid = hmeeting.session_id

    async def story() -> None:
        await until(lambda: win.socket.is_ready)
        hmeeting.upload(hmeeting.host, "real.txt", b"real")
        await until(lambda: badge(win) == 1)
        before, rows, fetches = (
            counts(win),
            view_ids(win),
            win.features["resources"].controller.fetch_count,
        )
        cases = malformed_cases(rev=2)
        for event, args in cases:
            await asyncio.to_thread(hooks.emit, sid, event, *args)
        await until(
            lambda: len(dropped) >= len(cases),
            timeout=30,
            what=f"{len(cases)} malformed events reported, got {len(dropped)}",
        )
        figure("malformed_events_dropped", f"{len(dropped)}/{len(cases)}")
        assert len(dropped) == len(cases)
        # Unknown events are logged and ignored (no signal for them).
        for event in ("resource-exploded", "__proto__", "connect", "x" * 1000):
            await asyncio.to_thread(hooks.emit, sid, event, {"revision": 2})
        await asyncio.sleep(0.5)
        assert counts(win) == before and view_ids(win) == rows and no_duplicates(win)
        assert win.features["resources"].controller.fetch_count == fetches
        assert win.socket.is_ready
        # Still alive and still applying the real thing.
        hmeeting.upload(hmeeting.host, "after.txt", b"after")
        await until(lambda: badge(win) == 2, what="a real event after the garbage")
        assert win.features["resources"].model.ledger.revision == 2

    aloop.run(story(), timeout=150)


# --- the parsers behind every signal, fuzzed ------------------------------------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "2026-11-25T21:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-14:00",
            "",
            "host",
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)

_PARTICIPANT = {"id": "p1", "name": "Pat", "role": "host", "handRaised": False}
_POLL = {
    "id": "q",
    "question": "Q?",
    "options": [{"text": "a", "votes": 0}],
    "closed": False,
    "createdBy": "p1",
}
_CHAT = {
    "id": "m",
    "from": {"id": "p1", "name": "Pat"},
    "text": "hi",
    "sentAt": "2026-11-25T21:00:00Z",
}
VALID: dict[str, tuple[Any, Any]] = {
    "resource-uploaded": (ResourceUploaded.from_wire, resource(3)),
    "resource-deleted": (ResourceDeleted.from_wire, {"resourceId": "r", "revision": 3}),
    "list": (Snapshot.from_wire, {"revision": 3, "resources": [resource(3)["resource"]]}),
    "join-ack": (
        JoinAck.from_wire,
        {
            "self": _PARTICIPANT,
            "participants": [_PARTICIPANT],
            "resourceRevision": 3,
            "polls": [_POLL],
            "chat": [_CHAT],
        },
    ),
    "participant": (socket_service._participant, {"participant": _PARTICIPANT}),
    "participant-left": (socket_service._participant_id, {"participantId": "p1"}),
    "chat": (socket_service._chat, {"message": _CHAT}),
    "poll": (socket_service._poll, {"poll": _POLL}),
    "signal": (SignalMessage.from_wire, {"from": "p1", "data": {"sdp": "x"}}),
}


def _mutate(value: Any, path: list[int], replacement: Any) -> Any:
    """Replace one node of ``value`` (chosen by ``path``) with ``replacement``."""
    if not path or not isinstance(value, dict | list) or not value:
        return replacement
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    key = keys[path[0] % len(keys)]
    copy_ = dict(value) if isinstance(value, dict) else list(value)
    if len(path) > 1 and path[1] % 5 == 0 and isinstance(copy_, dict):
        del copy_[key]  # sometimes: the field is simply missing
        return copy_
    copy_[key] = _mutate(value[key], path[1:], replacement)
    return copy_


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(VALID)),
    path=st.lists(st.integers(0, 50), max_size=5),
    replacement=_json,
    raw=_json,
)
def test_parsers_only_ever_raise_payload_error(
    kind: str, path: list[int], replacement: Any, raw: Any
) -> None:
    """Any JSON at all, or a valid payload with one node broken: a value or PayloadError."""
    parse, valid = VALID[kind]
    parse(copy.deepcopy(valid))  # the valid one parses
    for payload in (raw, _mutate(valid, path, replacement)):
        with contextlib.suppress(PayloadError):
            parse(payload)
