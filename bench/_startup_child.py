"""``conference-gui --self-check`` as the app runs it, with a first-paint probe.

Run by ``bench/bench_startup.py``. Before the app's own ``main()`` this
creates the QApplication (``main()`` reuses an existing one) and installs an
application event filter that prints ``first-paint <perf_counter>`` at the
first paint of any widget of the meeting window; then it calls
``conference_gui.app.main(["--self-check", ...])`` unchanged, which starts the
embedded server, creates the meeting, opens the window and exits once joined.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget


class FirstPaint(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.seen = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            not self.seen
            and event.type() == QEvent.Type.Paint
            and isinstance(watched, QWidget)
            and watched.window().objectName() == "videoConferenceWindow"
        ):
            self.seen = True
            print(f"first-paint {time.perf_counter()}", flush=True)
        return False


def main() -> int:
    print(f"python-up {time.perf_counter()}", flush=True)
    app = QApplication(sys.argv[:1])
    probe = FirstPaint()
    app.installEventFilter(probe)
    from conference_gui.app import main as app_main

    rc = app_main(["--self-check", *sys.argv[1:]])
    print(f"exit {time.perf_counter()}", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
