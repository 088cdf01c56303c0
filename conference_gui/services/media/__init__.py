"""Cameras, microphones and speakers for calls (Qt Multimedia, on their own thread).

The layer between the devices and the call engine: it captures into and
plays from the thread-safe exchange points of :mod:`conference_gui.media.exchange`.
``docs/CALLS.md`` ("Devices") says why Qt Multimedia, what it costs, and how
the threads meet. Start with :class:`MediaDevices`.
"""

# First, before anything imports PySide6.QtMultimedia: loading it logs harmless
# warnings about optional libraries (see qt_logging), which this rule silences.
from conference_gui.services.media.qt_logging import quiet_multimedia_probes

quiet_multimedia_probes()

from conference_gui.services.media.camera import CameraCapture  # noqa: E402
from conference_gui.services.media.catalog import (  # noqa: E402
    FAKE_DEVICES,
    NO_DEVICE_MESSAGE,
    DeviceCatalog,
    DeviceInfo,
    DeviceKind,
)
from conference_gui.services.media.device_handle import DeviceHandle, DeviceState  # noqa: E402
from conference_gui.services.media.device_thread import THREAD_NAME, DeviceThread  # noqa: E402
from conference_gui.services.media.fake_camera import FakeCamera  # noqa: E402
from conference_gui.services.media.media_devices import MediaDevices  # noqa: E402
from conference_gui.services.media.microphone import MicrophoneCapture  # noqa: E402
from conference_gui.services.media.screen import (  # noqa: E402
    ScreenCapture,
    ScreenKind,
    ScreenSource,
    ScreenState,
    ScreenSupport,
    ScreenThumbnails,
)
from conference_gui.services.media.speaker import SpeakerPlayback  # noqa: E402

__all__ = [
    "FAKE_DEVICES",
    "NO_DEVICE_MESSAGE",
    "THREAD_NAME",
    "CameraCapture",
    "DeviceCatalog",
    "DeviceHandle",
    "DeviceInfo",
    "DeviceKind",
    "DeviceState",
    "DeviceThread",
    "FakeCamera",
    "MediaDevices",
    "MicrophoneCapture",
    "ScreenCapture",
    "ScreenKind",
    "ScreenSource",
    "ScreenState",
    "ScreenSupport",
    "ScreenThumbnails",
    "SpeakerPlayback",
]
