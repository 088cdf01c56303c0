"""The real audio path: Qt Multimedia → PulseAudio null sink → its monitor → Qt Multimedia.

``SpeakerPlayback`` plays into the null sink; ``MicrophoneCapture`` records
a source that hears that sink. Both are the app's own classes on the app's
device thread; only the sound card is virtual.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from conference_gui.media.exchange import SAMPLE_RATE, ToneSource
from conference_gui.services.media import DeviceState, MediaDevices
from conference_gui.services.media import microphone as microphone_module
from conference_gui.services.media import speaker as speaker_module
from tests.devices.pulse import MAIN_SINK, MAIN_SINK_NAME, MIC, MIC_NAME
from tests.devices.pulse_cases.conftest import peak_hz

Make = Callable[..., MediaDevices]


def real(qtbot: Any, media: Make) -> MediaDevices:
    devices = media(fake=False)
    devices.start()
    qtbot.waitUntil(
        lambda: (
            devices.microphone.state is DeviceState.ACTIVE
            and devices.speaker.state is DeviceState.ACTIVE
        ),
        timeout=5000,
    )
    return devices


def test_the_catalog_lists_the_sound_servers_devices_default_first(media: Make) -> None:
    catalog = media(fake=False).catalog
    mic = catalog.microphones()[0]
    speaker = catalog.speakers()[0]
    assert (mic.id, mic.name, mic.is_default) == (MIC, MIC_NAME, True)
    assert (speaker.id, speaker.name, speaker.is_default) == (MAIN_SINK, MAIN_SINK_NAME, True)
    # Qt does not offer a sink's monitor as a microphone: only real capture sources.
    assert all(not d.id.endswith(".monitor") for d in catalog.microphones())
    assert catalog.cameras() == []


def test_a_played_tone_is_heard_by_the_microphone_then_silence(
    qtbot: Any, media: Make, feeder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    converting: set[int] = set()
    for module, name in (
        (microphone_module, "CaptureConverter"),
        (speaker_module, "PlaybackConverter"),
    ):
        cls = getattr(module, name)

        class Recording(cls):  # type: ignore[misc, valid-type]
            def __call__(self, data: Any) -> Any:
                converting.add(threading.get_ident())
                return super().__call__(data)

        monkeypatch.setattr(module, name, Recording)

    devices = real(qtbot, media)
    assert devices.microphone.device is not None and devices.microphone.device.name == MIC_NAME
    assert devices.speaker.device is not None and devices.speaker.device.name == MAIN_SINK_NAME
    assert devices.camera.state is DeviceState.NO_DEVICE
    assert devices.camera.message == "No camera found"

    tone = feeder(devices.playback, 1000.0)
    tone.start()
    # The first time, a null sink starts with a long latency (about 1 s) and then
    # lowers it to what the stream asked for; hence the generous first wait.
    qtbot.waitUntil(lambda: devices.mic_level.level() > 0.1, timeout=4000)
    devices.microphone_ring.clear()
    qtbot.waitUntil(lambda: len(devices.microphone_ring) >= SAMPLE_RATE // 20, timeout=1000)
    heard = devices.microphone_ring.read(SAMPLE_RATE // 20)
    assert peak_hz(heard) == pytest.approx(1000, abs=25)

    tone.stop()
    qtbot.waitUntil(lambda: devices.mic_level.level() < 0.005, timeout=2000)

    # Once settled: from the engine's ring, through the sound server, back to the
    # microphone's level (speaker buffer + server + microphone period).
    written = time.monotonic()
    devices.playback.write(ToneSource(1000.0, 0.3).read(SAMPLE_RATE // 10))
    qtbot.waitUntil(lambda: devices.mic_level.level() > 0.05, timeout=2000)
    round_trip = time.monotonic() - written
    print(f"FIGURE speaker-to-microphone round trip = {round_trip * 1000:.0f} ms")
    assert round_trip < 0.5

    # Capture and playback conversions ran, and never on the GUI thread.
    assert converting and threading.get_ident() not in converting


def test_the_test_sound_reaches_the_microphone(qtbot: Any, media: Make) -> None:
    devices = real(qtbot, media)
    qtbot.wait(200)
    assert devices.mic_level.level() < 0.005
    devices.play_test_sound()
    qtbot.waitUntil(lambda: devices.mic_level.level() > 0.03, timeout=2000)
    qtbot.waitUntil(lambda: devices.mic_level.level() < 0.005, timeout=3000)


def test_stop_releases_the_sound_server_streams(qtbot: Any, media: Make, pulse: Any) -> None:
    devices = real(qtbot, media)
    assert len(pulse.client_streams("sink-inputs")) == 1
    assert len(pulse.client_streams("source-outputs")) == 1
    devices.stop()
    qtbot.waitUntil(lambda: not pulse.client_streams("sink-inputs"), timeout=2000)
    qtbot.waitUntil(lambda: not pulse.client_streams("source-outputs"), timeout=2000)
