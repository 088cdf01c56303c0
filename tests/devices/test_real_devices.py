"""Real devices through a private PulseAudio, in a pytest of their own.

Qt Multimedia connects to the sound server once per process, the first time
anything lists a device, and never looks again; the rest of the suite may
have done that long before (without a sound server). So the real-device
cases in ``pulse_cases/`` run in a child pytest that starts its daemon first
(``pulse_cases/conftest.py``). The child inherits this run's private network
namespace and settings; its report is printed here (``-s`` shows it).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.devices import pulse

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_PASSED = 10
EXPECTED_XFAILED = 2
CASES = sorted((Path(__file__).parent / "pulse_cases").glob("case_*.py"))


@pytest.mark.timeout(180)
def test_real_devices_through_a_private_pulseaudio(tmp_path: Path) -> None:
    if not pulse.available():
        pytest.fail("pulseaudio and pactl are needed: .ci/services.sh installs them")
    assert CASES, "no real-device cases found"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-s",
            "-rxXs",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "child"),
            *(str(case) for case in CASES),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    report = done.stdout + done.stderr
    print(report)
    assert done.returncode == 0, report
    summary = done.stdout.strip().splitlines()[-1]
    # Every case ran: nothing deselected, skipped, or passing where Qt is known to
    # fall short (strict xfails: see case_hotplug.py; update them when Qt is fixed).
    assert re.match(rf"{EXPECTED_PASSED} passed, {EXPECTED_XFAILED} xfailed in ", summary), summary
