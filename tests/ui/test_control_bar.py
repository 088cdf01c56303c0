"""Ann opens the app for the first time: every button on the control bar says
what it does (words under an icon, a tooltip), before she has pressed any."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QToolButton

from conference_gui.server import ServerThread
from tests.conftest import Loop, Meeting, require_private_network, until


def test_every_control_bar_button_is_labelled_from_the_start(
    aloop: Loop, server: ServerThread, meeting: Meeting, windows: Any
) -> None:
    require_private_network()  # the window joins the call
    ann = windows(meeting, meeting.host, call=True, camera=False)
    ann.show()
    aloop.run(until(lambda: ann.meeting.user_id != "", what="joined"))
    buttons = [b for b in ann.control_bar.findChildren(QToolButton) if b.isVisible()]
    names = {b.objectName() for b in buttons}
    assert {"micButton", "cameraButton", "screenShareButton"} <= names
    for button in buttons:
        assert button.text().strip(), f"{button.objectName()} shows no words"
        assert not button.icon().isNull(), f"{button.objectName()} shows no icon"
        assert button.toolTip().strip(), f"{button.objectName()} has no tooltip"
    share = ann.findChild(QToolButton, "screenShareButton")
    assert share.text() == "Share screen" and "Ctrl+Alt+D" in share.toolTip()
    assert share.accessibleName() == "Share your screen"
