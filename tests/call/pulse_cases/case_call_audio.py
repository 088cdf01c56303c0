"""The app's real audio path, once: Ann's voice leaves Bob's window through the sound
card. Bob has real devices (a private PulseAudio: a null sink "main" and a microphone
that hears it) and no camera at all; Ann has the fake devices.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from typing import Any

import numpy as np

from conference_gui.app import create_window
from conference_gui.media.exchange import SAMPLE_RATE
from conference_gui.services.media import DeviceState
from conference_gui.services.settings import AppSettings
from tests.call.test_call_stories import in_audio_call, tile
from tests.conftest import Loop, Meeting, require_private_network, until
from tests.devices.pulse import MAIN_SINK, MAIN_SINK_NAME, PulseDaemon
from tests.devices.pulse_cases.conftest import peak_hz


def record(pulse: PulseDaemon, seconds: float) -> np.ndarray:
    """What the null sink plays, from its monitor, as 48 kHz mono int16."""
    proc = subprocess.Popen(
        ["parec", f"--device={MAIN_SINK}.monitor", "--format=s16le", f"--rate={SAMPLE_RATE}",
         "--channels=1", "--raw", "--latency-msec=20"],
        env={**os.environ, **pulse.client_env}, stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    wanted = int(seconds * SAMPLE_RATE) * 2
    data = bytearray()
    deadline = time.monotonic() + seconds + 5
    try:
        while len(data) < wanted and time.monotonic() < deadline:
            chunk = proc.stdout.read1(65536)
            if not chunk:
                break
            data += chunk
    finally:
        proc.terminate()
        proc.wait(5)
        proc.stdout.close()
    return np.frombuffer(bytes(data[: len(data) // 2 * 2]), dtype=np.int16)


def test_ann_is_heard_through_bobs_speaker_and_bob_without_a_camera_still_talks(
    aloop: Loop, server: Any, meeting: Meeting, windows: Any, pulse: PulseDaemon, tmp_path: Any
) -> None:
    require_private_network()
    ann = windows(meeting, meeting.host, call=True)
    bob_member = meeting.join("Bob")
    bob = create_window(meeting.url, meeting.session_id, bob_member.user_id, bob_member.token,
                        title=meeting.title, settings=AppSettings.at(tmp_path / "bob.ini"),
                        fake_media=False)
    a, b = ann.meeting.user_id, bob.meeting.user_id
    devices = bob.features["call"].devices

    async def story() -> None:
        await until(lambda: devices.speaker.state is DeviceState.ACTIVE
                    and devices.microphone.state is DeviceState.ACTIVE, timeout=10)
        assert devices.speaker.device is not None
        assert devices.speaker.device.name == MAIN_SINK_NAME
        await in_audio_call(ann, bob)
        # No camera on this machine: Bob is told, joins with his camera off, and talks.
        grid = bob.features["call"].grid
        await until(lambda: "No camera found" in grid.notice.text(), timeout=5)
        camera_button = bob.features["call"].camera_button
        assert not camera_button.isChecked() and not camera_button.isEnabled()
        await until(lambda: tile(ann, b).property("cameraOn") is False, timeout=5)
        # Ann's tone reaches the sound card through Bob's window...
        samples = await asyncio.to_thread(record, pulse, 2.0)
        assert samples.size > SAMPLE_RATE // 2, "nothing recorded from the sink"
        rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) / 32768
        assert rms > 0.02, f"the sink is silent: {rms}"
        assert abs(peak_hz(samples) - 440.0) < 15, peak_hz(samples)
        # ... and Bob's real microphone (it hears that sink) is what Ann hears of Bob.
        await until(lambda: tile(ann, b).property("audioLevel") > 0.01, timeout=5,
                    what="Ann hears Bob's microphone")
        ann.features["call"].devices.tone.set_sounding(False)
        await until(lambda: tile(bob, b).property("audioLevel") < 0.005, timeout=3,
                    what="silence at Bob's microphone when Ann is quiet")
        await bob.shutdown()
        bob.close()

    aloop.run(story(), timeout=60)
    bob.deleteLater()
    assert a != b


def test_bob_unplugs_his_headset_and_the_call_moves_to_the_default(
    aloop: Loop, server: Any, meeting: Meeting, windows: Any, pulse: PulseDaemon, tmp_path: Any
) -> None:
    require_private_network()
    headset = pulse.load_sink("headset", "USB Headset")
    pulse.pactl("set-default-sink", "headset")  # as switch-on-connect does for a headset
    ann = windows(meeting, meeting.host, call=True)
    bob_member = meeting.join("Bob")
    bob = create_window(meeting.url, meeting.session_id, bob_member.user_id, bob_member.token,
                        title=meeting.title, settings=AppSettings.at(tmp_path / "bob.ini"),
                        fake_media=False)
    devices = bob.features["call"].devices

    def toasts() -> list[str]:
        return [t.text() for t in bob.toasts.toasts()]

    async def story() -> None:
        await until(lambda: devices.speaker.device is not None
                    and devices.speaker.device.name == "USB Headset", timeout=10)
        await in_audio_call(ann, bob)
        pulse.unload(headset)
        await until(lambda: any("USB Headset" in t and MAIN_SINK_NAME in t for t in toasts()),
                    timeout=5, what="Bob is told his speaker moved")
        assert devices.speaker.device is not None and devices.speaker.device.name == MAIN_SINK_NAME
        await until(lambda: devices.speaker.state is DeviceState.ACTIVE, timeout=5)
        samples = await asyncio.to_thread(record, pulse, 1.5)  # on, through the default
        assert float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) / 32768 > 0.02
        await bob.shutdown()
        bob.close()

    try:
        aloop.run(story(), timeout=60)
    finally:
        pulse.pactl("set-default-sink", MAIN_SINK)
    bob.deleteLater()
