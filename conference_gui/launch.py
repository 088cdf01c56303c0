"""The ``conference-gui`` command: check the system's libraries, then start the app.

Qt Multimedia is imported with the app's modules, so a missing system library
of it (PulseAudio's client) must be found before that import, or the person
gets a traceback instead of the package to install (``platform_check``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from conference_gui.platform_check import check_sound

    missing = check_sound()
    if missing is not None:
        print(missing.message(), file=sys.stderr)
        return 1
    from conference_gui.app import main as app_main

    return app_main(argv)
