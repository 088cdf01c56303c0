"""Entry script of the frozen ``conference-gui`` executable (the console script's target)."""

import sys

from conference_gui.launch import main

if __name__ == "__main__":
    sys.exit(main())
