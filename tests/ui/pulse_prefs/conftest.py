"""Preferences with real devices: run by ``tests/ui/test_preferences_av.py`` in a child pytest.

The private PulseAudio daemon, the tone feeder and the device fixtures are
the device tests' own (``tests/devices/pulse_cases``): the daemon starts
before anything lists a device, as Qt connects to the sound server once.
"""

from __future__ import annotations

from tests.devices.conftest import media, no_device_thread_left, settings
from tests.devices.pulse_cases.conftest import feeder, pulse

__all__ = ["feeder", "media", "no_device_thread_left", "pulse", "settings"]
