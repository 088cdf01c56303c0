"""Screen sharing's decisions without a screen to grab: messages, Wayland, rates, the model.

The capture itself is tested on a real X server (``test_on_x11.py``). Here,
in the suite's offscreen process: what each capture error becomes, what
the picker offers on Wayland (which cannot be run here: the session type
is what Qt and the picker read), the frame-rate limits, and the picker's
model through ``qtmodeltester``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from conference_gui.models.screen_sources import ScreenSourceModel, SourceRole
from conference_gui.services.media import MediaDevices, ScreenKind, ScreenSource, ScreenState
from conference_gui.services.media.screen import (
    DENIED_MESSAGE,
    PAUSED_MESSAGE,
    WAYLAND_MESSAGE,
    WINDOW_CLOSED_MESSAGE,
    fit_within,
    platform_support,
    screen_problem,
)
from conference_gui.services.settings import AppSettings
from conference_gui.ui.screen_picker import ScreenPicker

SCREEN, WINDOW = ScreenKind.SCREEN, ScreenKind.WINDOW


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[MediaDevices]:
    made = MediaDevices(AppSettings.at(tmp_path / "s.ini"), fake=True, name="Ann")
    yield made
    made.stop()
    made.deleteLater()


@pytest.mark.parametrize(
    ("message", "kind", "gone", "wayland", "state", "sentence"),
    [
        ("Cannot get window attributes", WINDOW, True, False, ScreenState.OFF,
         WINDOW_CLOSED_MESSAGE),
        ("Window is not viewable", WINDOW, False, False, ScreenState.PAUSED, PAUSED_MESSAGE),
        ("Cannot get ximage; the window may be out of the screen borders", WINDOW, False, False,
         ScreenState.PAUSED, PAUSED_MESSAGE),
        ("The capturing is not permitted: permission denied", SCREEN, False, False,
         ScreenState.DENIED, DENIED_MESSAGE),
        ("Failed to grab the screen content", SCREEN, False, True, ScreenState.UNSUPPORTED,
         WAYLAND_MESSAGE),
        ("Cannot open X11 display", SCREEN, False, False, ScreenState.FAILED,
         "Screen sharing could not start (Cannot open X11 display)"),
    ],
)
def test_capture_errors_become_states_and_sentences(
    message: str, kind: ScreenKind, gone: bool, wayland: bool, state: ScreenState, sentence: str
) -> None:
    assert screen_problem(message, kind, gone, wayland) == (state, sentence)


def test_on_wayland_the_picker_says_the_desktop_chooses_and_grabs_no_thumbnails(
    qtbot: Any, devices: MediaDevices, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    support = platform_support()
    assert support.system_chooses and not support.windows and not support.thumbnails
    picker = ScreenPicker(devices.screen)
    qtbot.addWidget(picker)
    picker.show()
    qtbot.waitExposed(picker)
    assert picker.note.isVisible() and "desktop asks" in picker.note.text()
    assert [s.kind for s in picker.model.sources()] == [SCREEN]  # no windows listed
    qtbot.wait(300)
    assert devices.screen.thumbnails.grabs == 0  # each grab would pop the portal's dialog
    assert not devices.device_thread.is_running
    qtbot.keyClick(picker.list, Qt.Key.Key_Return)
    assert picker.chosen is not None and picker.chosen.is_primary


def test_the_frame_rate_stays_between_5_and_15(devices: MediaDevices) -> None:
    screen = devices.screen
    assert screen.frame_rate == 10.0 and screen.state is ScreenState.OFF
    for asked, kept in ((12, 12.0), (60, 15.0), (0, 5.0), (5, 5.0)):
        screen.set_frame_rate(asked)
        assert screen.frame_rate == kept
    screen.stop()  # nothing shared: harmless
    assert not screen.running and devices.screen_frames.latest()[1] is None


def test_thumbnails_fit_their_box_without_growing() -> None:
    assert fit_within(1920, 1080, (320, 180)) == (320, 180)
    assert fit_within(800, 500, (320, 180)) == (288, 180)
    assert fit_within(1080, 1920, (320, 180)) == (101, 180)
    assert fit_within(200, 100, (320, 180)) == (200, 100)


def src(kind: ScreenKind, name: str) -> ScreenSource:
    return ScreenSource(kind, f"{kind.value}:{name}", name)


def test_the_source_model_keeps_rows_in_place_through_changes(qtmodeltester: Any) -> None:
    model = ScreenSourceModel()
    a, b, c, d = (src(SCREEN, "main"), src(WINDOW, "b"), src(WINDOW, "c"), src(WINDOW, "d"))
    model.set_sources([a, b, c])
    qtmodeltester.check(model, force_py=True)
    model.set_sources([a, c, d])  # b closed, d opened
    assert [s.title for s in model.sources()] == ["main", "c", "d"]
    model.set_sources([a, d, c])  # reordered
    assert [s.title for s in model.sources()] == ["main", "d", "c"]
    qtmodeltester.check(model, force_py=True)
    assert model.index(0).data(Qt.ItemDataRole.AccessibleTextRole) == "main, screen"
    assert model.index(1).data(SourceRole.KIND) == "window"
    assert model.index(1).data(SourceRole.THUMBNAIL) is None  # no thumbnails given
