import sys

from conference_gui.app import main

sys.exit(main())
