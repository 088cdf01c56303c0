"""Everything the server sends decodes as the protocol type it is declared with
(``conference_gui.protocol``) — the same types the client decodes with."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import requests

from conference_gui import protocol as wire
from conference_gui.server.openapi import openapi_document

from .support import Api, Peer


def _check(kind: type[Any], payload: Any) -> Any:
    value = wire.convert(payload, kind)
    # Nothing sent that the type does not declare: re-encoding gives the same JSON.
    assert wire.to_json(value) == payload, (kind.__name__, payload)
    return value


def test_every_ack_and_event_is_its_declared_type(api: Api) -> None:
    host = api.create(name="Ann")
    bob = api.join(host, "Bob")

    async def main() -> None:
        async with Peer(api.url, host) as ann, Peer(api.url, bob) as b:
            acks: list[tuple[str, Any]] = [("join-session", await ann.join())]
            acks.append(("join-session", await b.join()))
            calls: list[tuple[str, dict[str, Any]]] = [
                ("raise-hand", {"raised": True}),
                ("chat-message", {"text": "hi"}),
                ("poll-create", {"question": "Q?", "options": ["a", "b"]}),
                ("media-state", {"audio": True, "video": False, "screen": True}),
                ("signal", {"to": bob.user_id, "data": {"type": "bye"}}),
                ("call-claim", {}),
            ]
            for event, payload in calls:
                acks.append((event, await ann.call(event, payload)))
            poll_id = acks[4][1]["poll"]["id"]
            acks.append(("poll-vote", await b.call("poll-vote", {"pollId": poll_id,
                                                                 "option": 1})))
            acks.append(("poll-close", await ann.call("poll-close", {"pollId": poll_id})))
            acks.append(("lower-hand", await ann.call("lower-hand",
                                                      {"participantId": host.user_id})))
            uploaded = await asyncio.to_thread(api.upload_ok, host, "a.txt", b"abc")
            await asyncio.to_thread(api.delete, host, uploaded["resource"]["id"])
            async with Peer(api.url, bob) as second:  # call-moved to Bob's first window
                await second.join()
                await b.wait_for("call-moved")
            async with Peer(api.url, api.join(host, "Carol")) as carol:
                await carol.join()
            await b.wait_for("resource-deleted")
            await b.wait_for("poll-closed")
            await ann.wait_for("participant-left")
            acks.append(("chat-history", await ann.call("chat-history", {"limit": 5})))
            acks.append(("end-meeting", await ann.call("end-meeting", {})))
            await b.wait_for("meeting-ended")
            for event, ack in acks:
                assert "error" not in ack, (event, ack)
                _check(wire.CLIENT_ACKS[event], ack)
            seen = set()
            for peer in (ann, b):
                for event, payload in peer.events:
                    _check(wire.SERVER_EVENTS[event], payload)
                    seen.add(event)
            # The SFU's events need a media server: tests/sfu/test_sfu_wire.py checks them.
            expected = set(wire.SERVER_EVENTS) - {"call-mode", "sfu-published", "sfu-unpublished"}
            assert seen == expected, expected - seen

    asyncio.run(asyncio.wait_for(main(), 30))


def test_rest_answers_are_their_declared_types(api: Api) -> None:
    host = api.create(name="Ann")
    r = requests.post(f"{api.url}/api/sessions", json={"title": "T", "name": "N"}, timeout=10)
    _check(wire.SessionCreated, r.json())
    r = requests.post(api.sessions_url(host.session_id, "/join"),
                      json={"name": "Bob", "invite": host.invite}, timeout=10)
    _check(wire.SessionJoined, r.json())
    stored = _check(wire.ResourceStored, api.upload_ok(host))
    _check(wire.ResourceList, api.listed(host))
    _check(wire.RevisionAnswer, api.delete(host, stored.resource.id).json())
    _check(wire.ServerInfo, requests.get(f"{api.url}/api/info", timeout=10).json())
    _check(wire.Error, api.delete(host, "nope").json())


def test_the_openapi_schemas_are_generated_from_the_protocol_types() -> None:
    document = openapi_document()
    _, expected = msgspec.json.schema_components(
        [*wire.CLIENT_EVENTS.values(), *wire.SERVER_EVENTS.values()],
        ref_template="#/components/schemas/{name}")
    for name, schema in expected.items():
        assert document["components"]["schemas"][name] == schema, name
    assert set(document["x-socketio"]["clientToServer"]) == set(wire.CLIENT_EVENTS)
    assert set(document["x-socketio"]["serverToClient"]) == set(wire.SERVER_EVENTS)
