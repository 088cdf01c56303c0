"""The real meeting window on a qasync loop, offscreen, for the GUI benchmarks."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools

import qasync
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from bench._common import PYTHON, ROOT, Member, app_qt_environment, until
from conference_gui.app import create_window
from conference_gui.services.settings import AppSettings
from conference_gui.ui.main_window import MainWindow

T = TypeVar("T")


class Gui:
    """A QApplication with a qasync loop; opens meeting windows with ``create_window``."""

    def __init__(self) -> None:
        app_qt_environment()  # before the QApplication, as conference-gui's main does
        existing = QApplication.instance()
        self.app = existing if isinstance(existing, QApplication) else QApplication([])
        self.app.setQuitOnLastWindowClosed(False)
        self.loop = qasync.QEventLoop(self.app)
        asyncio.set_event_loop(self.loop)
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-gui-"))
        self.windows: list[MainWindow] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 600.0) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def open(self, url: str, member: Member, *, toasts: bool = True) -> MainWindow:
        """A meeting window as ``conference-gui`` opens it (fresh settings; toasts optional)."""
        settings = AppSettings.at(self.tmp / f"settings-{len(self.windows)}.ini")
        settings.set_toasts_enabled(toasts)
        win = create_window(
            url,
            member.session_id,
            member.user_id,
            member.token,
            title="Bench",
            settings=settings,
            download_dir=self.tmp / "downloads",
        )
        self.windows.append(win)
        return win

    def close(self) -> None:
        async def shut() -> None:
            for win in self.windows:
                await win.shutdown()
                win.close()
                win.deleteLater()
            await asyncio.sleep(0.05)

        self.run(shut())
        self.loop.close()
        asyncio.set_event_loop(None)
        # Collect the loop's Qt timers here, on the GUI thread (see tests/conftest.py).
        del self.loop
        gc.collect()
        shutil.rmtree(self.tmp, ignore_errors=True)


async def joined_and_loaded(win: MainWindow, revision: int, timeout: float = 120.0) -> None:
    await until(
        lambda: win.socket.is_ready and win.features["resources"].model.ledger.revision == revision,
        timeout,
        f"window joined at revision {revision}",
    )


class PaintHook(QObject):
    """Event filter calling ``on_paint(now)`` before each paint event of ``widget``."""

    def __init__(self, widget: QObject, on_paint: Callable[[float], None]) -> None:
        super().__init__(widget)
        self._on_paint = on_paint
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self._on_paint(time.perf_counter())
        return False


class FrameTicker:
    """A 16 ms precise timer: the gaps between its ticks are how long the UI was blocked."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(16)
        self._timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        self.ticks.clear()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def gaps(self, start: float | None = None, end: float | None = None) -> list[float]:
        ts = [t for t in self.ticks if (start is None or t >= start) and (end is None or t <= end)]
        return [b - a for a, b in itertools.pairwise(ts)]


class BareClients:
    """``bench/_clients.py`` in its own process (N bare python-socketio clients)."""

    def __init__(
        self, url: str, session_id: str, invite: str, clients: int, expect: int, timeout: float
    ) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "bench._clients", "--url", url, "--session", session_id,
             "--invite", invite, "--clients", str(clients), "--expect", str(expect),
             "--timeout", str(timeout)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"bare clients did not start: {line!r}")

    def results(self, timeout: float = 300.0) -> list[list[tuple[int, float]]]:
        import json

        out, _ = self.proc.communicate(timeout=timeout)
        data = json.loads(out.strip().splitlines()[-1])
        return [[(int(r), float(t)) for r, t in events] for events in data["received"]]
