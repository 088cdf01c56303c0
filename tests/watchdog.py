"""A hang ends the run within minutes, with every thread's stack, instead of at CI's limit.

pytest-timeout's signal method interrupts a test only when Python code runs; a
wait inside C (a Qt event loop with nothing due, a thread join in a teardown)
never sees the alarm. This watchdog thread times each test item as a whole —
setup, call and teardown — and, past ITEM_LIMIT, writes all stacks to stderr
and ends the process with a failure code, naming the test.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
from collections.abc import Iterator

import pytest

ITEM_LIMIT = float(os.environ.get("CONFERENCE_GUI_TEST_ITEM_LIMIT", "360"))
EXIT_CODE = 70


class _Watch:
    def __init__(self, stderr_fd: int) -> None:
        self._out = os.fdopen(stderr_fd, "w", buffering=1)
        self._lock = threading.Lock()
        self._current: tuple[str, float] | None = None
        self._thread = threading.Thread(target=self._run, name="test-watchdog", daemon=True)
        self._thread.start()

    def begin(self, nodeid: str) -> None:
        with self._lock:
            self._current = (nodeid, time.monotonic())

    def end(self) -> None:
        with self._lock:
            self._current = None

    def _run(self) -> None:
        while True:
            time.sleep(5)
            with self._lock:
                current = self._current
            if current and time.monotonic() - current[1] > ITEM_LIMIT:
                self._out.write(f"\n\nwatchdog: {current[0]} has run for more than "
                                f"{ITEM_LIMIT:.0f} s (setup, call and teardown); "
                                "every thread's stack follows, then the run ends.\n")
                self._out.flush()
                faulthandler.dump_traceback(file=self._out, all_threads=True)
                self._out.flush()
                os._exit(EXIT_CODE)


_watch: _Watch | None = None


def _real_stderr(config: pytest.Config) -> int:
    """A copy of the run's own stderr: while a test runs, fd 2 is pytest's capture
    file, which nobody reads after os._exit."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        return os.dup(sys.stderr.fileno())
    capture.suspend_global_capture()
    try:
        return os.dup(2)
    finally:
        capture.resume_global_capture()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    global _watch
    if _watch is None:
        _watch = _Watch(_real_stderr(item.config))
    _watch.begin(item.nodeid)
    try:
        yield
    finally:
        _watch.end()
