"""Call cases through a private PulseAudio (run in a pytest of their own; see
``tests/call/test_call_real_devices.py``). The daemon starts before anything
lists a device; the windows under test use the real device layer."""

from __future__ import annotations

from tests.devices.pulse_cases.conftest import pulse  # noqa: F401 - the session's daemon
