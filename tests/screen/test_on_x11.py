"""Screen capture on a real X server (Xvfb), in a pytest of its own.

The suite runs offscreen (no screen to grab), and Qt picks its platform once
per process; so the cases in ``x11_cases/`` run in a child pytest with
``QT_QPA_PLATFORM=xcb`` and ``DISPLAY`` pointing at a private Xvfb started
here on a free display number. Its report is printed (``-s`` shows it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.screen import xserver

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((Path(__file__).parent / "x11_cases").glob("case_*.py"))
EXPECTED_PASSED = 11


@pytest.fixture
def xvfb() -> Iterator[xserver.Xvfb]:
    if not xserver.available():
        pytest.fail("Xvfb is needed: .ci/services.sh installs it (Debian: xvfb)")
    server = xserver.Xvfb()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.timeout(150)
def test_screen_capture_on_a_real_x_server(xvfb: xserver.Xvfb, tmp_path: Path) -> None:
    assert CASES, "no X11 cases found"
    env = {**os.environ, "DISPLAY": xvfb.display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("XDG_SESSION_TYPE", None)  # as under a bare X server: the app must cope
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-s", "-rxXs",
            "-p", "no:cacheprovider",
            "--basetemp", str(tmp_path / "child"),
            *(str(case) for case in CASES),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=140,
    )
    report = done.stdout + done.stderr
    print(report)
    assert done.returncode == 0, report
    summary = done.stdout.strip().splitlines()[-1]
    # Every case ran and passed: nothing skipped or deselected.
    assert re.match(rf"{EXPECTED_PASSED} passed in ", summary), summary
