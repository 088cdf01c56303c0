"""The ``conference-gui`` command: start the app, or say which system library is missing.

Qt Multimedia is imported with the app's modules, so a missing system library
of it (PulseAudio's client) would end the start in a bare ImportError. Only
then, when the import has failed, ``platform_check`` looks for what is missing
and names the package to install: a normal start pays nothing for the check.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    try:
        # The device layer imports Qt Multimedia (after quieting its log: only it may),
        # which is what fails without the system's libpulse.
        import conference_gui.services.media  # noqa: F401
    except ImportError:
        from conference_gui.platform_check import check_sound

        missing = check_sound()
        if missing is None:
            raise
        print(missing.message(), file=sys.stderr)
        return 1
    from conference_gui.app import main as app_main

    return app_main(argv)
