"""Bare python-socketio clients in their own process: the baseline and the fan-out crowd.

``python -m bench._clients --url U --session S --invite I --clients N --expect E``
joins the meeting N times over REST, connects N ``socketio.AsyncClient`` to
``/video`` (websocket, like the app), sends ``join-session``, prints ``ready``
and then records ``time.perf_counter()`` first thing in a synchronous
``resource-uploaded`` handler. When every client has E events (or on timeout)
it prints one JSON line ``{"received": [[[revision, t], ...], ...]}`` and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import requests
import socketio

NAMESPACE = "/video"


class Receiver:
    def __init__(self, url: str, session_id: str, user_id: str, token: str) -> None:
        self.url, self.session_id, self.user_id, self.token = url, session_id, user_id, token
        self.events: list[tuple[int, float]] = []
        self.sio = socketio.AsyncClient(handle_sigint=False, reconnection=False)
        self.sio.on("resource-uploaded", self.on_uploaded, namespace=NAMESPACE)

    def on_uploaded(self, data: dict[str, Any]) -> None:
        now = time.perf_counter()
        self.events.append((int(data["revision"]), now))

    async def connect(self) -> None:
        query = f"sessionId={self.session_id}&userId={self.user_id}&token={self.token}"
        await self.sio.connect(
            f"{self.url}?{query}",
            auth={"token": self.token},
            transports=["websocket"],
            namespaces=[NAMESPACE],
            wait_timeout=30,
        )
        await self.sio.call("join-session", {"sessionId": self.session_id}, namespace=NAMESPACE)


async def amain(args: argparse.Namespace) -> None:
    members = []
    with requests.Session() as http:
        for i in range(args.clients):
            r = http.post(
                f"{args.url}/api/sessions/{args.session}/join",
                json={"name": f"bare-{i}", "invite": args.invite},
                timeout=30,
            )
            r.raise_for_status()
            d = r.json()
            members.append((d["userId"], d["token"]))
    receivers = [Receiver(args.url, args.session, uid, tok) for uid, tok in members]
    for chunk in range(0, len(receivers), 20):  # don't storm the server's accept queue
        await asyncio.gather(*(r.connect() for r in receivers[chunk : chunk + 20]))
    print("ready", flush=True)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if all(len(r.events) >= args.expect for r in receivers):
            break
        await asyncio.sleep(0.05)
    print(json.dumps({"received": [r.events for r in receivers]}), flush=True)
    await asyncio.gather(*(r.sio.disconnect() for r in receivers), return_exceptions=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--session", required=True)
    p.add_argument("--invite", required=True)
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()
    asyncio.run(amain(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
