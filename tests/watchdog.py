"""A hang ends the run within minutes, with every thread's stack, instead of at CI's limit.

pytest-timeout's signal method interrupts a test only when Python code runs; a
wait inside C (a Qt lock, a thread join in a teardown) never sees the alarm,
and a watchdog written in Python would need the GIL that the stuck thread may
hold. So each test item as a whole — setup, call and teardown — arms
``faulthandler.dump_traceback_later``: C's own timer thread, which needs no
GIL. Past ITEM_LIMIT it writes every thread's stack to the run's real stderr
(not pytest's capture file) and ends the process with exit code 1.
"""

from __future__ import annotations

import faulthandler
import os
import sys
from collections.abc import Iterator
from typing import TextIO

import pytest

ITEM_LIMIT = float(os.environ.get("CONFERENCE_GUI_TEST_ITEM_LIMIT", "360"))

_stderr: TextIO | None = None


def _real_stderr(config: pytest.Config) -> TextIO:
    """A copy of the run's own stderr: while a test runs, fd 2 is pytest's capture
    file, which nobody reads after the process is ended."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        return os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    capture.suspend_global_capture()
    try:
        return os.fdopen(os.dup(2), "w", buffering=1)
    finally:
        capture.resume_global_capture()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    global _stderr
    if _stderr is None:
        _stderr = _real_stderr(item.config)
    faulthandler.dump_traceback_later(ITEM_LIMIT, exit=True, file=_stderr)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _stderr
    faulthandler.cancel_dump_traceback_later()
    if _stderr is not None:
        _stderr.close()
        _stderr = None
