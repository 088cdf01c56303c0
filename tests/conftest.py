"""Shared fixtures: a real server on a loopback port, a qasync loop, meeting windows.

Tests set the offscreen platform themselves, so CI needs no display.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
import requests

from conference_gui.services.qt_environment import prepare_qt_environment
from tests import netns

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
prepare_qt_environment()  # Qt as the app sets it up, before pytest-qt's QApplication
# Windows in tests get the synthetic camera and tone (SPEC §3): no test machine has
# a camera, and CI has no sound server. The real-device tests say otherwise.
os.environ.setdefault("CONFERENCE_GUI_FAKE_MEDIA", "1")

# Before anything starts a thread: the whole run goes into a network namespace
# with only loopback (tests/netns.py), so no test can send beyond this machine.
NETWORK_REPORT = netns.isolate()

if TYPE_CHECKING:
    from conference_gui.server import ServerThread

T = TypeVar("T")

# A test that hangs in C (out of pytest-timeout's reach) ends the run with stacks.
pytest_plugins = ["tests.watchdog"]


def pytest_report_header() -> str:
    return NETWORK_REPORT


def require_private_network() -> None:
    """Call tests and load tests run only inside the private namespace (tests/netns.py)."""
    if not netns.is_private():
        pytest.fail(
            "this test sends media and must run in a private network namespace: "
            f"{NETWORK_REPORT}. Run the suite as root (as CI does)."
        )


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread() -> Iterator[None]:
    """Collect each test's garbage here, on the GUI thread.

    Left to chance, Python's cycle collector runs in whichever thread happens
    to allocate — often a server or HTTP thread of a later test — and a Qt
    object destroyed there is destroyed on the wrong thread ("Timers cannot be
    stopped from another thread", and at worst a crash).

    Objects a test left to ``deleteLater`` die here too, while no device thread
    runs (the test's fixtures have stopped theirs): destroyed later, during the
    next test, they could meet that test's device thread in PySide's GIL /
    Qt-lock deadlock (docs/CALLS.md, "retire").
    """
    yield
    from PySide6.QtCore import QCoreApplication, QEvent

    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    """The real reference server, on its own thread and a free loopback port."""
    from conference_gui.server import ServerConfig, ServerThread

    srv = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "server-data"))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


class Meeting:
    """A meeting created over REST: the host's credentials and a way to invite."""

    def __init__(self, url: str, title: str = "Standup", host_name: str = "Ann") -> None:
        self.url = url
        r = requests.post(
            f"{url}/api/sessions", json={"title": title, "name": host_name}, timeout=10
        )
        r.raise_for_status()
        data = r.json()
        self.session_id: str = data["session"]["id"]
        self.title: str = data["session"]["title"]
        self.invite: str = data["invite"]
        self.host = Member(data["userId"], data["token"], host_name)

    def join(self, name: str) -> Member:
        r = requests.post(
            f"{self.url}/api/sessions/{self.session_id}/join",
            json={"name": name, "invite": self.invite},
            timeout=10,
        )
        r.raise_for_status()
        data = r.json()
        return Member(data["userId"], data["token"], name)

    def upload(self, who: Member, name: str, content: bytes) -> dict[str, Any]:
        r = requests.post(
            f"{self.url}/api/sessions/{self.session_id}/resources",
            files={"file": (name, content)},
            headers={"Authorization": f"Bearer {who.token}"},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    def listed(self, who: Member) -> dict[str, Any]:
        r = requests.get(
            f"{self.url}/api/sessions/{self.session_id}/resources",
            headers={"Authorization": f"Bearer {who.token}"},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


class Member:
    def __init__(self, user_id: str, token: str, name: str) -> None:
        self.user_id, self.token, self.name = user_id, token, name


@pytest.fixture
def meeting(server: ServerThread) -> Meeting:
    return Meeting(server.url)


RUN_GRACE = 15.0  # seconds Loop.run waits for a timed-out coroutine to unwind


def _stack_of(task: asyncio.Task[Any]) -> str:
    import io

    out = io.StringIO()
    task.print_stack(file=out)
    return out.getvalue()


class Loop:
    """A qasync loop that is "running" for the whole test, like the app's.

    The app runs its loop for its whole life. Tests must too: pytest-qt
    processes Qt events between setup, call and teardown, and qasync callbacks
    fired then would otherwise find no running loop. So the loop is created in
    qasync's ``already_running`` mode, and :meth:`run` spins a nested Qt event
    loop until the coroutine is done.
    """

    def __init__(self, qapp: Any) -> None:
        import qasync

        # Closing a test window must not quit the app (and stop the loop mid-test).
        qapp.setQuitOnLastWindowClosed(False)
        self.loop = qasync.QEventLoop(qapp, already_running=True)
        asyncio.set_event_loop(self.loop)
        self.errors: list[dict[str, Any]] = []
        self.loop.set_exception_handler(lambda _loop, ctx: self.errors.append(ctx))

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        from PySide6.QtCore import QEventLoop, QTimer

        task = self.loop.create_task(asyncio.wait_for(coro, timeout))
        spin = QEventLoop()
        task.add_done_callback(lambda _: spin.quit())
        # wait_for's timeout cancels the coroutine, then waits for it to end: one
        # that swallows the cancellation would spin here for ever. Past the grace,
        # give up on it and say where it was.
        give_up = QTimer()
        give_up.setSingleShot(True)
        give_up.timeout.connect(spin.quit)
        give_up.start(int((timeout + RUN_GRACE) * 1000))
        if not task.done():
            spin.exec()
        give_up.stop()
        if not task.done():
            where = _stack_of(task)
            raise TimeoutError(f"still running {timeout + RUN_GRACE:.0f} s after it was "
                               f"started (cancellation did not end it):\n{where}")
        return task.result()

    def close(self) -> None:
        loop = self.loop
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            self.run(asyncio.wait(pending, timeout=5))
        loop._QEventLoop__is_running = False  # type: ignore[attr-defined]  # leave already_running mode
        asyncio.events._set_running_loop(None)
        loop.close()
        asyncio.set_event_loop(None)
        # Collect the loop's Qt timer objects here, on the GUI thread: left to a
        # later collection they may die on a server or HTTP thread, and Qt warns.
        del self.loop
        gc.collect()


@pytest.fixture
def aloop(qapp: Any) -> Iterator[Loop]:
    loop = Loop(qapp)
    yield loop
    loop.close()
    assert not loop.errors, f"unhandled errors on the loop: {loop.errors}"


async def until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Wait, letting the loop run, until ``predicate()`` is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


@pytest.fixture
def windows(aloop: Loop, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Open meeting windows with ``create_window``; all are shut down after the test."""
    from conference_gui.app import create_window
    from conference_gui.features import default_features
    from conference_gui.services.settings import AppSettings

    opened: list[Any] = []

    def open_window(
        meeting: Meeting, member: Member, *, call: bool = False, camera: bool = True
    ) -> Any:
        """A meeting window; ``call=True`` adds the call (with fake devices, SPEC §3);
        ``camera=False`` joins with the camera off (stories about sound only).

        Windows of stories that are not about the call leave it out: two
        windows in a call encode video all the time, which is not what a test
        of shared files is about, and costs the suite time.
        """
        features = [f for f in default_features() if call or f.__name__ != "CallFeature"]
        settings = AppSettings.at(tmp_path / f"settings-{member.name}-{len(opened)}.ini")
        settings.set_camera_on_at_join(camera)
        win = create_window(
            meeting.url,
            meeting.session_id,
            member.user_id,
            member.token,
            title=meeting.title,
            settings=settings,
            download_dir=tmp_path / f"downloads-{member.name}",
            fake_media=call,
            features=features,
        )
        opened.append(win)
        return win

    yield open_window
    close_windows(aloop, opened)


def close_windows(aloop: Loop, opened: list[Any]) -> None:
    """Shut meeting windows down and destroy them now, while their loop runs:
    nothing of this test may be left for a later test's event processing."""

    async def close_all() -> None:
        from PySide6.QtCore import QCoreApplication, QEvent

        for win in opened:
            await win.shutdown()
            win.close()
            win.deleteLater()
        await asyncio.sleep(0)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        await asyncio.sleep(0)

    aloop.run(close_all())
    opened.clear()
