"""Preferences → Audio & Video with the real library and a real sound server.

Devices are plugged in and out with ``pactl`` (what PulseAudio does for a
headset), so the pickers update from ``QMediaDevices``' own signals. Qt
6.11 signals a removal only for the system default device (see
``tests/devices/pulse_cases/case_hotplug.py``), so the headset unplugged
here is the default, as headsets usually become when plugged in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from conference_gui.services.media import DeviceState, MediaDevices
from conference_gui.services.settings import AppSettings
from conference_gui.ui.preferences_dialog import PreferencesDialog
from tests.devices.pulse import MAIN_SINK, MAIN_SINK_NAME, MIC, MIC_NAME, PulseDaemon

Make = Callable[..., MediaDevices]


@pytest.fixture
def plugged(pulse: PulseDaemon) -> Iterator[list[int]]:
    modules: list[int] = []
    yield modules
    loaded = pulse.pactl("list", "short", "modules")
    for module in modules:
        if any(line.split("\t")[0] == str(module) for line in loaded.splitlines()):
            pulse.unload(module)
    pulse.pactl("set-default-sink", MAIN_SINK)
    pulse.pactl("set-default-source", MIC)


def real(qtbot: Any, media: Make) -> MediaDevices:
    devices = media(fake=False)
    devices.start()
    qtbot.waitUntil(
        lambda: devices.microphone.state is DeviceState.ACTIVE
        and devices.speaker.state is DeviceState.ACTIVE,
        timeout=5000,
    )
    return devices


def open_dialog(qtbot: Any, settings: AppSettings, devices: MediaDevices) -> PreferencesDialog:
    dialog = PreferencesDialog(settings, devices=devices)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_audio_video()
    qtbot.waitExposed(dialog)
    return dialog


def labels(picker: Any) -> list[str]:
    return [picker.itemText(i) for i in range(picker.count())]


def test_a_headset_plugged_in_appears_is_used_when_chosen_and_unplugging_it_keeps_the_choice(
    qtbot: Any, media: Make, settings: AppSettings, pulse: PulseDaemon, plugged: list[int],
    feeder: Any,
) -> None:
    devices = real(qtbot, media)
    dialog = open_dialog(qtbot, settings, devices)
    picker = dialog.audio_video.speaker_picker
    assert labels(picker) == [f"System default ({MAIN_SINK_NAME})", MAIN_SINK_NAME]
    assert labels(dialog.audio_video.microphone_picker) == [f"System default ({MIC_NAME})",
                                                           MIC_NAME]

    plugged.append(pulse.load_sink("headset", "USB Headset"))  # plugged in
    qtbot.waitUntil(lambda: "USB Headset" in labels(picker), timeout=3000)  # without reopening
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_End)
    assert picker.currentText() == "USB Headset"
    qtbot.waitUntil(
        lambda: devices.speaker.device is not None and devices.speaker.device.id == "headset"
        and devices.speaker.state is DeviceState.ACTIVE,
        timeout=3000,
    )
    assert settings.speaker_id() == "headset"
    # The call's sound goes to the headset: the microphone (hearing the main output) hears none.
    feeder(devices.playback).start()
    qtbot.waitUntil(lambda: devices.speaker_level.level() > 0.1, timeout=3000)
    qtbot.wait(300)
    assert devices.mic_level.level() < 0.005

    pulse.pactl("set-default-sink", "headset")  # as switch-on-connect does
    qtbot.waitUntil(lambda: labels(picker)[0] == "System default (USB Headset)", timeout=3000)
    pulse.unload(plugged.pop())  # unplugged
    qtbot.waitUntil(
        lambda: labels(picker) == [f"System default ({MAIN_SINK_NAME})", MAIN_SINK_NAME,
                                   "USB Headset (not connected)"],
        timeout=3000,
    )
    assert picker.currentText() == "USB Headset (not connected)"  # still the choice
    qtbot.waitUntil(
        lambda: devices.speaker.device is not None and devices.speaker.device.id == MAIN_SINK,
        timeout=3000,
    )
    qtbot.waitUntil(lambda: dialog.audio_video.mic_meter.value() > 20, timeout=3000)  # heard again
    dialog.save()
    assert settings.speaker_id() == "headset"  # used again when it comes back


def test_the_meter_hears_the_microphone_and_the_test_sound_is_played(
    qtbot: Any, media: Make, settings: AppSettings
) -> None:
    devices = real(qtbot, media)
    dialog = open_dialog(qtbot, settings, devices)
    page = dialog.audio_video
    qtbot.wait(300)
    assert page.mic_meter.value() == 0 and page.speaker_meter.value() == 0  # silence
    qtbot.mouseClick(page.test_sound_button, Qt.MouseButton.LeftButton)
    # Played by the real speaker (its level), and heard back by the real microphone
    # (the null sink's monitor): the meter moves with real sound.
    qtbot.waitUntil(lambda: page.speaker_meter.value() > 10, timeout=3000)
    qtbot.waitUntil(lambda: page.mic_meter.value() > 10, timeout=3000)
    qtbot.waitUntil(lambda: page.mic_meter.value() == 0, timeout=5000)  # the chime ends
    assert page.status[page.camera_picker.choice_model.kind].text() == "No camera found"
    assert labels(page.camera_picker) == ["System default"]
    dialog.reject()
