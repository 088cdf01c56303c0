"""Fake devices (``--fake-media``) and the device thread, in the suite's own process.

Everything faked never touches the platform's audio system, so these need no
sound server (a warning from one would fail the test: qt_log_level_fail).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QThread

from conference_gui.media.exchange import SAMPLE_RATE
from conference_gui.services.media import (
    FAKE_DEVICES,
    DeviceKind,
    DeviceState,
    DeviceThread,
    MediaDevices,
    fake_camera,
)
from conference_gui.services.media.device_thread import DeviceWorker
from conference_gui.services.settings import AppSettings

Make = Callable[..., MediaDevices]


def started(qtbot: Any, make: Make, **kw: Any) -> MediaDevices:
    devices = make(**kw)
    devices.start()
    qtbot.waitUntil(
        lambda: all(h.state is DeviceState.ACTIVE for h in devices.handles()), timeout=3000
    )
    return devices


# -- the picture ----------------------------------------------------------------------------
def test_the_fake_picture_shows_the_name_and_a_running_clock() -> None:
    at = datetime(2025, 1, 1, 12, 0, 0)
    ann = fake_camera.draw_fake_frame("Ann", 1.0, at)
    assert (ann.width(), ann.height()) == (640, 480)
    bob = fake_camera.draw_fake_frame("Bob", 1.0, at)
    later = fake_camera.draw_fake_frame("Ann", 1.0, at.replace(second=7))

    def band(image: Any, top: int, bottom: int) -> np.ndarray:
        pixels = fake_camera.qimage_to_bgra(image)
        assert pixels is not None
        return pixels[top:bottom].astype(int)

    # The name's band differs between two names, the clock's band between two times,
    # and nothing else (same elapsed time: same background and ball).
    assert np.abs(band(ann, 120, 240) - band(bob, 120, 240)).sum() > 50_000
    assert np.array_equal(band(ann, 260, 320), band(bob, 260, 320))
    assert np.abs(band(ann, 260, 320) - band(later, 260, 320)).sum() > 20_000
    assert np.array_equal(band(ann, 120, 240), band(later, 120, 240))


def test_the_fake_camera_delivers_640x480_at_30fps_that_moves(qtbot: Any, media: Make) -> None:
    devices = started(qtbot, media, name="Ann")
    slot = devices.camera_frames
    qtbot.waitUntil(lambda: slot.latest()[1] is not None, timeout=2000)
    seq0, first = slot.latest()
    t0 = time.monotonic()
    qtbot.wait(1000)
    seq1, last = slot.latest()
    fps = (seq1 - seq0) / (time.monotonic() - t0)
    assert 26 <= fps <= 33, fps
    assert first is not None and last is not None
    assert last.pixels.shape == (480, 640, 4)
    assert last.captured > first.captured
    assert last.captured <= time.monotonic()
    assert not np.array_equal(first.pixels, last.pixels)


def test_the_fake_camera_wakes_once_per_picture_and_stops_when_told(qtbot: Any) -> None:
    """A demo call on a laptop: the fake camera costs one wake-up a picture, no more."""
    from conference_gui.media.exchange import FrameSlot

    class Counted(fake_camera.FakeCamera):
        ticks = 0

        def _on_tick(self) -> None:
            Counted.ticks += 1
            super()._on_tick()

    slot = FrameSlot()
    camera = Counted(slot, "Ann")
    camera.start()
    qtbot.wait(1000)
    camera.stop()
    frames, ticks = camera.frames, Counted.ticks
    assert 26 <= frames <= 33, frames
    assert ticks <= frames + 3, (ticks, frames)  # a steady 16 ms timer would tick ~60 times
    assert not camera.running
    qtbot.wait(100)
    assert camera.frames == frames and slot.seq == frames  # nothing after stop


def test_drawing_and_conversion_run_on_the_device_thread(
    qtbot: Any, media: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    where: set[int] = set()
    draw = fake_camera.draw_fake_frame

    def recording_draw(*args: Any) -> Any:
        where.add(threading.get_ident())
        return draw(*args)

    monkeypatch.setattr(fake_camera, "draw_fake_frame", recording_draw)
    devices = started(qtbot, media)
    qtbot.waitUntil(lambda: len(where) > 0, timeout=2000)
    assert where and threading.get_ident() not in where

    gui = QThread.currentThread()
    device_thread = devices.device_thread.qthread
    assert devices.thread() is gui and devices.catalog.thread() is gui
    for handle in devices.handles():
        assert handle.thread() is gui  # the GUI-facing half: signals arrive on the GUI thread
        assert handle._worker.thread() is device_thread  # the half that moves media
    assert device_thread is not gui


# -- the microphone and the speaker -----------------------------------------------------------
def test_the_fake_microphone_is_a_tone_with_a_level_even_unread(qtbot: Any, media: Make) -> None:
    devices = started(qtbot, media)
    qtbot.waitUntil(lambda: devices.mic_level.level() > 0.15, timeout=2000)
    ring = devices.microphone_ring
    assert len(ring) <= ring.capacity  # nobody reads: old sound is dropped, not hoarded
    ring.clear()
    qtbot.wait(200)
    got = ring.read(ring.capacity)
    assert 0.5 * 0.1 * SAMPLE_RATE <= got.size <= ring.capacity
    assert np.max(np.abs(got)) > 8000

    devices.tone.set_sounding(False)  # "stops speaking"
    qtbot.waitUntil(lambda: devices.mic_level.level() < 0.01, timeout=1000)
    devices.tone.set_sounding(True)
    qtbot.waitUntil(lambda: devices.mic_level.level() > 0.15, timeout=1000)


def test_the_fake_speaker_plays_at_the_real_pace(qtbot: Any, media: Make) -> None:
    devices = started(qtbot, media)
    ring = devices.playback
    ring.write(devices.tone.read(SAMPLE_RATE // 10))
    qtbot.waitUntil(lambda: devices.speaker_level.level() > 0.15, timeout=1000)
    qtbot.waitUntil(lambda: len(ring) == 0, timeout=1000)
    qtbot.waitUntil(lambda: devices.speaker_level.level() == 0.0, timeout=1000)
    # Far more than the speaker keeps: the backlog is cut, latency does not grow.
    ring.write(devices.tone.read(ring.capacity))
    qtbot.wait(50)
    assert len(ring) <= 0.13 * SAMPLE_RATE


def test_the_test_sound_plays_on_the_speaker(qtbot: Any, media: Make) -> None:
    devices = started(qtbot, media)
    assert devices.speaker_level.level() == 0.0
    devices.play_test_sound()
    qtbot.waitUntil(lambda: devices.speaker_level.level() > 0.05, timeout=1000)
    qtbot.waitUntil(lambda: devices.speaker_level.level() == 0.0, timeout=2000)


# -- the facade --------------------------------------------------------------------------------
def test_fake_devices_are_listed_like_real_ones(media: Make) -> None:
    catalog = media().catalog
    for kind in DeviceKind:
        (only,) = catalog.devices(kind)
        assert only == FAKE_DEVICES[kind] and only.is_default
        assert catalog.default(kind) == only
        assert catalog.find(kind, only.id) == only
        assert catalog.resolve(kind, "some-real-device-from-last-time") == only
    assert catalog.cameras()[0].name == "Fake camera"


def test_camera_off_stops_it_and_clears_the_picture(qtbot: Any, media: Make) -> None:
    devices = started(qtbot, media)
    slot = devices.camera_frames
    qtbot.waitUntil(lambda: slot.latest()[1] is not None, timeout=2000)
    with qtbot.waitSignal(devices.device_problem, timeout=1000) as off:
        devices.set_camera_enabled(False)
    assert off.args == ["camera", "off", ""]
    qtbot.waitUntil(lambda: slot.latest()[1] is None, timeout=1000)
    seq = slot.seq
    qtbot.wait(150)
    assert slot.seq == seq  # no pictures while off
    assert devices.camera.device is None
    devices.set_camera_enabled(True)
    qtbot.waitUntil(lambda: slot.latest()[1] is not None, timeout=2000)
    assert devices.camera.state is DeviceState.ACTIVE


def test_a_camera_off_at_start_never_starts(qtbot: Any, media: Make) -> None:
    devices = media()
    devices.set_camera_enabled(False)
    devices.start()
    qtbot.waitUntil(lambda: devices.microphone.state is DeviceState.ACTIVE, timeout=2000)
    qtbot.wait(100)
    assert devices.camera.state is DeviceState.OFF
    assert devices.camera_frames.seq == 0


def test_choices_are_remembered_and_a_missing_one_falls_back_quietly(
    qtbot: Any, media: Make, settings: AppSettings
) -> None:
    settings.set_microphone_id("alsa_input.usb-headset")  # a real device from an earlier run
    devices = media()
    fell_back: list[tuple[str, ...]] = []
    devices.device_fell_back.connect(lambda *a: fell_back.append(a))
    devices.start()
    qtbot.waitUntil(lambda: devices.microphone.state is DeviceState.ACTIVE, timeout=2000)
    assert devices.microphone.wanted_device_id == "alsa_input.usb-headset"
    assert devices.microphone.device == FAKE_DEVICES[DeviceKind.MICROPHONE]
    assert fell_back == []  # nothing was in use: nothing to announce

    devices.set_speaker(None)
    devices.set_camera("fake:camera")
    assert settings.speaker_id() is None
    assert settings.camera_id() == "fake:camera"
    assert settings.microphone_id() == "alsa_input.usb-headset"


def test_stop_ends_the_thread_and_deletes_every_worker(qtbot: Any, media: Make) -> None:
    devices = started(qtbot, media)
    workers = [h._worker for h in devices.handles()]
    devices.stop()
    assert not devices.device_thread.is_running
    assert devices.device_thread.qthread.isFinished()
    # Deleted on their own thread as it finished (with their timers and devices).
    assert not any(shiboken6.isValid(w) for w in workers)
    for handle in devices.handles():
        assert handle.state is DeviceState.OFF
    devices.stop()  # twice is harmless


def test_a_device_thread_that_never_started_still_cleans_up() -> None:
    thread = DeviceThread()
    worker = DeviceWorker()
    thread.adopt(worker)
    assert thread.stop()
    assert not shiboken6.isValid(worker)
    with pytest.raises(RuntimeError):
        thread.start()


def test_settings_for_devices_round_trip(settings: AppSettings) -> None:
    assert settings.camera_id() is None and settings.microphone_id() is None
    assert settings.speaker_id() is None
    assert settings.mic_on_at_join() and settings.camera_on_at_join()
    settings.set_camera_id("/dev/video2")
    settings.set_mic_on_at_join(False)
    settings.set_camera_on_at_join(False)
    settings.sync()
    again = AppSettings.at(__import__("pathlib").Path(settings.file_name))
    assert again.camera_id() == "/dev/video2"
    assert not again.mic_on_at_join() and not again.camera_on_at_join()
    again.set_camera_id(None)
    assert again.camera_id() is None
