"""Preferences → Audio & Video: pickers, preview, level, test sound, and devices coming and going.

Here with fake devices (the suite's machines have no camera and no sound
server) and, where devices must come and go, a catalog double: cameras
cannot be plugged in at will. The same page with real devices through a
private PulseAudio — plugged in and out with ``pactl``, the real library's
signal — runs in a child pytest: ``pulse_prefs/`` (last test below).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from conference_gui.models.device_choices import ChoiceRole, DeviceChoiceModel
from conference_gui.services.media import (
    DeviceCatalog,
    DeviceInfo,
    DeviceKind,
    DeviceState,
    MediaDevices,
)
from conference_gui.services.settings import AppSettings
from conference_gui.ui.preferences_dialog import PreferencesDialog
from tests.devices import pulse

CAMERA = DeviceKind.CAMERA
ROOT = Path(__file__).resolve().parents[2]


class PluggableCatalog(DeviceCatalog):
    """Stands in for Qt's device lists only where no real device can be added (cameras)."""

    def __init__(self) -> None:
        super().__init__(fake=list(DeviceKind))

    def plug(self, kind: DeviceKind, devices: list[DeviceInfo]) -> None:
        self._lists[kind] = devices
        self.changed.emit(kind.value)


def cam(device_id: str, name: str, default: bool = False) -> DeviceInfo:
    return DeviceInfo(CAMERA, device_id, name, default)


BUILT_IN = cam("/dev/video0", "Integrated Camera", default=True)
USB = cam("/dev/video2", "USB Webcam")


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    return AppSettings.at(tmp_path / "settings.ini")


@pytest.fixture
def devices(settings: AppSettings) -> Iterator[MediaDevices]:
    made = MediaDevices(settings, fake=True, name="Ann")
    made.start()
    yield made
    made.stop()
    made.deleteLater()


def open_dialog(qtbot: Any, settings: AppSettings, **kw: Any) -> PreferencesDialog:
    dialog = PreferencesDialog(settings, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_audio_video()
    qtbot.waitExposed(dialog)
    return dialog


def labels(picker: Any) -> list[str]:
    return [picker.itemText(i) for i in range(picker.count())]


def test_the_choice_models_pass_qtmodeltester(qtmodeltester: Any) -> None:
    catalog = PluggableCatalog()
    catalog.plug(CAMERA, [BUILT_IN, USB])
    model = DeviceChoiceModel(CAMERA, catalog, "/dev/video2")
    qtmodeltester.check(model, force_py=True)
    catalog.plug(CAMERA, [BUILT_IN])
    qtmodeltester.check(model, force_py=True)
    assert [model.index(r).data(ChoiceRole.DEVICE_ID) for r in range(3)] == [
        None, "/dev/video0", "/dev/video2"
    ]


def test_pickers_list_the_system_default_first_then_the_devices(
    qtbot: Any, settings: AppSettings, devices: MediaDevices
) -> None:
    dialog = open_dialog(qtbot, settings, devices=devices)
    page = dialog.audio_video
    assert dialog.tabs.currentWidget() is page and page.objectName() == "audioVideoPage"
    assert labels(page.camera_picker) == ["System default (Fake camera)", "Fake camera"]
    assert labels(page.microphone_picker) == [
        "System default (Fake microphone (tone))", "Fake microphone (tone)"
    ]
    assert labels(page.speaker_picker) == [
        "System default (Fake speaker (silent))", "Fake speaker (silent)"
    ]
    for name in ("cameraPicker", "microphonePicker", "speakerPicker", "avCameraPreview",
                 "avMicLevel", "playTestSoundButton", "avSpeakerLevel", "micOnAtJoin",
                 "cameraOnAtJoin"):
        assert dialog.findChild(object, name) is not None, name
    assert page.camera_picker.currentIndex() == 0  # nothing chosen: the system default


def test_choosing_a_device_uses_it_at_once_and_cancel_puts_the_old_one_back(
    qtbot: Any, settings: AppSettings, devices: MediaDevices
) -> None:
    dialog = open_dialog(qtbot, settings, devices=devices)
    picker = dialog.audio_video.camera_picker
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Down)  # as a person does on a closed combo box
    assert picker.currentText() == "Fake camera"
    assert devices.camera.wanted_device_id == "fake:camera"  # the running call's camera
    assert settings.camera_id() == "fake:camera"  # remembered
    mic = dialog.audio_video.microphone_picker
    mic.setFocus()
    qtbot.keyClick(mic, Qt.Key.Key_Down)
    assert devices.microphone.wanted_device_id == "fake:microphone"

    dialog.reject()
    assert devices.camera.wanted_device_id is None and settings.camera_id() is None
    assert devices.microphone.wanted_device_id is None and settings.microphone_id() is None


def test_ok_keeps_the_devices_and_remembers_mic_and_camera_at_join(
    qtbot: Any, settings: AppSettings, devices: MediaDevices
) -> None:
    dialog = open_dialog(qtbot, settings, devices=devices)
    page = dialog.audio_video
    speaker = page.speaker_picker
    speaker.setFocus()
    qtbot.keyClick(speaker, Qt.Key.Key_Down)
    page.mic_on_box.setChecked(False)
    assert settings.mic_on_at_join()  # not before OK
    dialog.save()
    assert dialog.result() == PreferencesDialog.DialogCode.Accepted
    assert devices.speaker.wanted_device_id == "fake:speaker"
    assert settings.speaker_id() == "fake:speaker"
    assert not settings.mic_on_at_join() and settings.camera_on_at_join()


def test_the_preview_meter_and_test_sound_are_live(
    qtbot: Any, settings: AppSettings, devices: MediaDevices
) -> None:
    devices.set_camera_enabled(False)  # camera off in the call: the preview still shows it
    qtbot.waitUntil(lambda: devices.camera.state is DeviceState.OFF, timeout=2000)
    dialog = open_dialog(qtbot, settings, devices=devices)
    page = dialog.audio_video
    qtbot.waitUntil(lambda: page.preview.property("framesRendered") > 5, timeout=5000)

    qtbot.waitUntil(lambda: page.mic_meter.value() > 20, timeout=3000)  # the fake tone
    devices.tone.set_sounding(False)
    qtbot.waitUntil(lambda: page.mic_meter.value() == 0, timeout=3000)
    devices.tone.set_sounding(True)
    qtbot.waitUntil(lambda: page.mic_meter.value() > 20, timeout=3000)

    assert page.speaker_meter.value() == 0  # nothing plays
    qtbot.mouseClick(page.test_sound_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.speaker_meter.value() > 10, timeout=3000)
    qtbot.waitUntil(lambda: page.speaker_meter.value() == 0, timeout=4000)  # a short chime

    dialog.reject()
    # Closed: the preview let go of the camera, which is off in the call.
    qtbot.waitUntil(lambda: devices.camera.state is DeviceState.OFF, timeout=2000)
    assert not devices.camera.running


def test_switching_to_the_general_page_stops_the_preview_camera(
    qtbot: Any, settings: AppSettings, devices: MediaDevices
) -> None:
    devices.set_camera_enabled(False)
    dialog = open_dialog(qtbot, settings, devices=devices)
    qtbot.waitUntil(lambda: devices.camera.running, timeout=2000)
    dialog.tabs.setCurrentIndex(0)
    assert not devices.camera.running
    dialog.show_audio_video()
    assert devices.camera.running
    devices.set_camera_enabled(True)  # turned on in the call meanwhile: stays on after closing
    dialog.reject()
    assert devices.camera.running


def test_a_dialog_deleted_without_closing_lets_go_of_the_camera(
    qtbot: Any, settings: AppSettings, devices: MediaDevices
) -> None:
    """As when its window is deleted under it: no preview left running, no listener."""
    from PySide6.QtCore import QCoreApplication, QEvent

    devices.set_camera_enabled(False)
    listeners = len(devices.camera_frames._listeners)  # private: nothing public counts them
    dialog = PreferencesDialog(settings, devices=devices)
    dialog.show()
    dialog.show_audio_video()
    qtbot.waitUntil(lambda: devices.camera.running, timeout=2000)
    assert len(devices.camera_frames._listeners) == listeners + 1
    dialog.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not devices.camera.running
    assert len(devices.camera_frames._listeners) == listeners


def test_cameras_plugged_in_and_out_appear_and_go_while_the_dialog_is_open(
    qtbot: Any, settings: AppSettings
) -> None:
    catalog = PluggableCatalog()
    catalog.plug(CAMERA, [BUILT_IN])
    dialog = open_dialog(qtbot, settings, catalog=catalog)
    picker = dialog.audio_video.camera_picker
    assert labels(picker) == ["System default (Integrated Camera)", "Integrated Camera"]

    catalog.plug(CAMERA, [BUILT_IN, USB])
    assert labels(picker) == [
        "System default (Integrated Camera)", "Integrated Camera", "USB Webcam"
    ]
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_End)
    assert picker.currentText() == "USB Webcam"
    assert settings.camera_id() is None  # no call: written on OK only

    catalog.plug(CAMERA, [BUILT_IN])  # unplugged: the choice stays, marked
    assert labels(picker) == [
        "System default (Integrated Camera)", "Integrated Camera", "USB Webcam (not connected)"
    ]
    assert picker.currentText() == "USB Webcam (not connected)"
    catalog.plug(CAMERA, [USB, BUILT_IN])  # back, and now the system default
    assert labels(picker) == ["System default (USB Webcam)", "USB Webcam", "Integrated Camera"]
    assert picker.currentText() == "USB Webcam"

    catalog.plug(CAMERA, [])  # none at all
    assert labels(picker) == ["System default", "USB Webcam (not connected)"]
    dialog.save()
    assert settings.camera_id() == "/dev/video2"


def test_without_devices_the_page_edits_the_remembered_choices_only(
    qtbot: Any, settings: AppSettings
) -> None:
    settings.set_microphone_id("alsa_input.usb-headset")
    dialog = open_dialog(qtbot, settings)
    page = dialog.audio_video
    assert labels(page.microphone_picker) == ["System default", "The chosen device (not connected)"]
    assert page.microphone_picker.currentIndex() == 1
    assert not page.test_sound_button.isEnabled() and page.note.isVisibleTo(page)
    page.microphone_picker.setFocus()
    qtbot.keyClick(page.microphone_picker, Qt.Key.Key_Home)
    dialog.reject()
    assert settings.microphone_id() == "alsa_input.usb-headset"  # Cancel: unchanged


# The offscreen platform cannot raise a window (it says so); raising is what is asked for.
@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_the_meeting_window_gives_preferences_the_calls_own_devices(
    qtbot: Any, aloop: Any, meeting: Any, windows: Any
) -> None:
    from tests.conftest import require_private_network

    require_private_network()  # the window joins the meeting over loopback
    win = windows(meeting, meeting.host, call=True)
    devices = win.features["call"].devices
    win.show_device_preferences()
    dialog = win.preferences_dialog
    assert dialog is not None and dialog.tabs.currentWidget() is dialog.audio_video
    win.show_preferences()  # a second ask raises the same dialog
    assert win.preferences_dialog is dialog
    picker = dialog.audio_video.microphone_picker
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Down)
    assert devices.microphone.wanted_device_id == "fake:microphone"  # the call's, not a copy
    dialog.save()
    assert win.preferences_dialog is None
    assert win.settings.microphone_id() == "fake:microphone"


@pytest.mark.timeout(120)
def test_real_devices_in_preferences_through_a_private_pulseaudio(tmp_path: Path) -> None:
    """``pulse_prefs/`` in a child pytest (Qt connects to the sound server once a process)."""
    if not pulse.available():
        pytest.fail("pulseaudio and pactl are needed: .ci/services.sh installs them")
    cases = sorted((Path(__file__).parent / "pulse_prefs").glob("case_*.py"))
    assert cases
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-rxXs", "-p", "no:cacheprovider",
         "--basetemp", str(tmp_path / "child"), *(str(c) for c in cases)],
        cwd=ROOT, capture_output=True, text=True, timeout=110,
    )
    report = done.stdout + done.stderr
    print(report)
    assert done.returncode == 0, report
    # Both cases ran and passed: nothing skipped or deselected.
    assert re.match(r"2 passed in ", done.stdout.strip().splitlines()[-1]), report
