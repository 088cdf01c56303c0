"""Two server nodes (Redis + PostgreSQL, as in tests/multinode) and two Janus instances.

Run in a pytest process of its own by ``test_sfu_nodes.py`` (like tests/multinode's
cases: psycopg's libpq and real windows in one process with the rest of the suite
proved fragile). Windows on both nodes land in one VideoRoom (the room -> Janus
mapping is in PostgreSQL); each meeting uses one of the two Janus instances.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conference_gui.server.sfu.janus import JanusLink, JanusTarget
from tests.conftest import Loop, Meeting, until
from tests.multinode.conftest import (  # noqa: F401  (fixtures)
    _collect_garbage_on_the_main_thread,
    database_url,
    services,
)

from .conftest import JANUS_ADDRESS, ensure_network, remove_network, require_janus
from .janus_proc import JanusProcess, start_janus
from .test_sfu_calls import engine, mode


class SfuNode:
    """``conference-server`` with ``--redis-url``, ``--database-url`` and ``--janus-url``s."""

    def __init__(self, name: str, folder: Path, redis_url: str,
                 database_url: str,  # noqa: F811
                 janus_urls: list[str]) -> None:
        argv = [sys.executable, "-m", "conference_gui.server", "--host", "127.0.0.1",
                "--port", "0", "--data-dir", str(folder / "data"), "--redis-url", redis_url,
                "--database-url", database_url]
        for url in janus_urls:
            argv += ["--janus-url", url]
        self.log_path = folder / f"node-{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        found: list[str] = []
        stdout = self.process.stdout
        assert stdout is not None

        def read() -> None:
            for raw in stdout:
                match = re.match(r"listening on (http://\S+)", raw.decode(errors="replace"))
                if match and not found:
                    found.append(match.group(1))

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 30
        while not found:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"node {name} did not start:\n{self.log()}")
            time.sleep(0.05)
        self.url = found[0]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


@pytest.fixture
def two_janus(tmp_path: Path) -> Iterator[list[JanusProcess]]:
    require_janus()
    made = ensure_network()
    started: list[JanusProcess] = []
    try:
        for i in range(2):
            started.append(start_janus(tmp_path / f"janus-{i}", JANUS_ADDRESS, port=18288 + i,
                                       rtp_ports=(21000 + 500 * i, 21499 + 500 * i)))
        yield started
    finally:
        for j in started:
            j.stop()
        if made:
            remove_network()


@pytest.fixture
def nodes(tmp_path: Path, services: Any, database_url: str,  # noqa: F811
          two_janus: list[JanusProcess]) -> Iterator[list[SfuNode]]:
    urls = [j.url for j in two_janus]
    started: list[SfuNode] = []
    try:
        for name in ("a", "b"):
            started.append(SfuNode(name, tmp_path, services.redis.url, database_url, urls))
        yield started
    finally:
        for node in started:
            node.stop()


def rooms(database_url: str) -> list[tuple[str, str, int, str]]:  # noqa: F811
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT session_id, janus_url, room, mode FROM sfu_rooms ORDER BY session_id"
        ).fetchall()


async def publishers(janus: JanusProcess, room: int, pin: str) -> list[str]:
    """Who publishes in ``room``, asked of Janus itself (the test's own Janus)."""
    link = JanusLink(JanusTarget.parse(janus.url))
    link.start()
    try:
        assert await link.wait_up(10)
        data = await link.room_request({"request": "listparticipants", "room": room})
        return sorted(p["display"] for p in data["participants"] if p.get("publisher"))
    finally:
        await link.close()


def test_windows_on_two_nodes_share_one_videoroom(
    aloop: Loop, nodes: list[SfuNode], two_janus: list[JanusProcess], database_url: str,  # noqa: F811
    windows: Any,
) -> None:
    """Sound only: the point is where everyone lands, not pictures."""
    a, b = nodes
    first = Meeting(a.url, title="Across nodes")
    second = Meeting(b.url, title="Another meeting")
    wins = [windows(first, first.host, call=True, camera=False)]
    on_b = Meeting.__new__(Meeting)
    on_b.__dict__.update(first.__dict__, url=b.url)  # the same meeting, through node B
    wins.append(windows(on_b, first.join("Bob"), call=True, camera=False))
    wins.append(windows(first, first.join("Cy"), call=True, camera=False))
    ids = [w.meeting.user_id for w in wins]

    async def story() -> None:
        for w in wins:
            await until(lambda w=w: mode(w) == "sfu", timeout=20, what="callMode sfu")
        # A second meeting, once the first is placed: it goes to the other Janus.
        others = [windows(second, m, call=True, camera=False)
                  for m in (second.host, second.join("Tim"), second.join("Tom"))]
        for w in others:
            await until(lambda w=w: mode(w) == "sfu", timeout=20, what="callMode sfu")
        for w in wins:
            mine = [pid for pid in ids if pid != w.meeting.user_id]
            await until(lambda w=w, mine=mine: (s := engine(w).sfu_summary()) is not None
                        and s.publishing and all(s.subscriptions.get(p) == "connected"
                                                 for p in mine),
                        timeout=30, what=f"{w.windowTitle()} on the SFU")
            controller = w.features["call"].controller
            for pid in mine:
                await until(lambda c=controller, pid=pid: c.level(pid) > 0.01, timeout=30,
                            what=f"{pid} heard in {w.windowTitle()}")
        found = await asyncio.to_thread(rooms, database_url)
        assert len(found) == 2, found
        by_session = {row[0]: row for row in found}
        _, url, room, mode_ = by_session[first.session_id]
        assert mode_ == "sfu"
        # One VideoRoom for the three, whichever node brokers each one.
        janus = next(j for j in two_janus if JanusTarget.parse(j.url).url == url)
        assert await publishers(janus, room, "") == sorted(ids)
        # The two meetings are spread over the two Janus instances.
        assert {row[1] for row in found} == {JanusTarget.parse(j.url).url for j in two_janus}

    try:
        aloop.run(story(), timeout=100)
    except BaseException:
        for node in nodes:
            print(f"--- node log\n{node.log()[-4000:]}")
        raise
