import sys

from conference_gui.launch import main

sys.exit(main())
