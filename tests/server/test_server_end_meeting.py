"""Issue 14, item 6: the host ends the meeting for everyone."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from conference_gui.server import ServerThread

from .support import NS, Api, Peer, error_of, files_in, until


def test_the_host_ends_the_meeting_for_everyone(api: Api, srv: ServerThread,
                                                data_dir: Path) -> None:
    host = api.create(name="Ann")
    bob = api.join(host, "Bob")
    other = api.create(name="Zed")
    api.upload_ok(host, "a.txt", b"aaa")
    api.upload_ok(bob, "b.txt", b"bbb")
    kept = api.upload_ok(other, "z.txt", b"zzz")["resource"]["id"]

    async def main() -> None:
        async with Peer(api.url, host) as ann, Peer(api.url, host) as ann2, \
                Peer(api.url, bob) as b, Peer(api.url, other) as z:
            for peer in (ann, ann2, b, z):
                await peer.join()
            refused = await b.call("end-meeting", {})
            assert refused["error"]["code"] == "forbidden"
            assert await ann.call("end-meeting", {}) == {"ok": True}
            for peer in (ann, ann2, b):
                ended = await peer.wait_for("meeting-ended")
                assert ended["endedBy"] == {"id": host.user_id, "name": "Ann"}
                assert ended["endedAt"].endswith("Z")
            # Everyone's connection is closed by the server, and the files are gone.
            await until(lambda: srv.connection_count(host.session_id) == 0, timeout=5,
                        what="connections closed")
            assert files_in(data_dir / "files") == [kept]
            assert z.received("meeting-ended") == []
            assert (await z.call("chat-message", {"text": "still on"}))["message"]
        # Later: every way in says the meeting ended.
        assert error_of(api.listing(host)) == (410, "ended")
        assert error_of(api.upload(bob)) == (410, "ended")
        r = requests.post(api.sessions_url(host.session_id, "/join"),
                          json={"name": "Cat", "invite": host.invite}, timeout=10)
        assert error_of(r) == (410, "ended")
        late = socketio.AsyncClient(reconnection=False)
        refusals: list[Any] = []
        late.on("connect_error", refusals.append, namespace=NS)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await late.connect(api.url, auth={"token": bob.token}, namespaces=[NS],
                               transports=["websocket"], wait_timeout=5)
        await late.shutdown()
        assert refusals[0]["code"] == "ended"
        assert api.listed(other)["resources"][0]["id"] == kept

    asyncio.run(asyncio.wait_for(main(), 30))
