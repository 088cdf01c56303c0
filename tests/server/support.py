"""Helpers for the server tests: a small REST client and a recording Socket.IO peer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
import socketio

NS = "/video"
TIMEOUT = 10


@dataclass(frozen=True)
class Member:
    session_id: str
    user_id: str
    token: str
    name: str
    invite: str | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """REST calls against a running server; every call opens and closes its own connection."""

    def __init__(self, url: str) -> None:
        self.url = url

    def sessions_url(self, sid: str, tail: str = "") -> str:
        return f"{self.url}/api/sessions/{sid}{tail}"

    def create(self, title: str = "Standup", name: str = "Ann") -> Member:
        r = requests.post(f"{self.url}/api/sessions", json={"title": title, "name": name},
                          timeout=TIMEOUT)
        assert r.status_code == 201, r.text
        body = r.json()
        return Member(body["session"]["id"], body["userId"], body["token"], name, body["invite"])

    def join(self, host: Member, name: str = "Bob") -> Member:
        r = requests.post(self.sessions_url(host.session_id, "/join"),
                          json={"name": name, "invite": host.invite}, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        body = r.json()
        return Member(host.session_id, body["userId"], body["token"], name)

    def upload(self, who: Member, name: str = "notes.txt", data: bytes = b"hello",
               content_type: str | None = None, session_id: str | None = None
               ) -> requests.Response:
        part: tuple[str, bytes] | tuple[str, bytes, str] = (
            (name, data) if content_type is None else (name, data, content_type)
        )
        return requests.post(self.sessions_url(session_id or who.session_id, "/resources"),
                             files={"file": part}, headers=who.auth, timeout=TIMEOUT)

    def upload_ok(self, who: Member, name: str = "notes.txt", data: bytes = b"hello",
                  content_type: str | None = None) -> dict[str, Any]:
        r = self.upload(who, name, data, content_type)
        assert r.status_code == 201, r.text
        return r.json()

    def listing(self, who: Member, session_id: str | None = None) -> requests.Response:
        return requests.get(self.sessions_url(session_id or who.session_id, "/resources"),
                            headers=who.auth, timeout=TIMEOUT)

    def listed(self, who: Member) -> dict[str, Any]:
        r = self.listing(who)
        assert r.status_code == 200, r.text
        return r.json()

    def download(self, who: Member, rid: str, session_id: str | None = None
                 ) -> requests.Response:
        return requests.get(
            self.sessions_url(session_id or who.session_id, f"/resources/{rid}/content"),
            headers=who.auth, timeout=TIMEOUT)

    def delete(self, who: Member, rid: str, session_id: str | None = None
               ) -> requests.Response:
        return requests.delete(self.sessions_url(session_id or who.session_id,
                                                 f"/resources/{rid}"),
                               headers=who.auth, timeout=TIMEOUT)


def error_of(response: requests.Response) -> tuple[int, str]:
    """``(status, code)`` of a JSON error answer (and check that it is one)."""
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return response.status_code, body["error"]["code"]


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.01)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


class Peer:
    """A real ``socketio.AsyncClient`` on ``/video`` that records every event it receives."""

    def __init__(self, url: str, member: Member, *, transports: Iterable[str] | None = (
                 "websocket",), reconnection: bool = False, reconnection_delay: float = 0.05
                 ) -> None:
        self.url = url
        self.member = member
        self.transports = list(transports) if transports is not None else None
        self.sio = socketio.AsyncClient(reconnection=reconnection,
                                        reconnection_delay=reconnection_delay,
                                        reconnection_delay_max=reconnection_delay * 2)
        self.events: list[tuple[str, Any]] = []
        self.connects = 0
        self.sio.on("*", self._record, namespace=NS)
        self.sio.on("connect", self._connected, namespace=NS)

    async def _record(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))

    async def _connected(self) -> None:
        self.connects += 1

    async def connect(self, **query: str) -> None:
        url = self.url
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        await self.sio.connect(url, auth={"token": self.member.token}, namespaces=[NS],
                               transports=self.transports, wait_timeout=TIMEOUT)

    async def __aenter__(self) -> Peer:
        await self.connect()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self.sio.disconnect()
        await self.sio.shutdown()

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data, namespace=NS, timeout=TIMEOUT)

    async def join(self, **extra: Any) -> dict[str, Any]:
        """``join-session`` (``extra``: additions such as ``sfu=True``)."""
        ack = await self.call("join-session", {"sessionId": self.member.session_id, **extra})
        assert "error" not in ack, ack
        return ack

    def received(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    async def wait_for(self, event: str, predicate: Callable[[Any], bool] = lambda _: True,
                       timeout: float = TIMEOUT) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for data in self.received(event):
                if predicate(data):
                    return data
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.member.name} never got {event}: {self.events}")
            await asyncio.sleep(0.01)


async def until(predicate: Callable[[], object], timeout: float = TIMEOUT, what: str = "") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)
