"""The call with real devices through a private PulseAudio, in a pytest of its own.

Qt Multimedia connects to the sound server once per process, the first time
anything lists a device (see tests/devices/test_real_devices.py), so these
cases run in a child pytest that starts its daemon first. The child inherits
this run's private network namespace.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_private_network
from tests.devices import pulse

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((Path(__file__).parent / "pulse_cases").glob("case_*.py"))


@pytest.mark.timeout(180)
def test_calls_with_real_devices(tmp_path: Path) -> None:
    require_private_network()
    if not pulse.available():
        pytest.fail("pulseaudio and pactl are needed: .ci/services.sh installs them")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-rxXs", "-p", "no:cacheprovider",
         "--basetemp", str(tmp_path / "child"), *(str(c) for c in CASES)],
        cwd=ROOT, capture_output=True, text=True, timeout=170,
    )
    report = done.stdout + done.stderr
    print(report)
    assert done.returncode == 0, report
    assert re.match(r"2 passed in ", done.stdout.strip().splitlines()[-1]), report
