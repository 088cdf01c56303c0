"""``python -m conference_gui.server``."""

import sys

from .cli import main

sys.exit(main())
