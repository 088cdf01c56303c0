"""conference-gui: a desktop meeting client (PySide6) and its reference server."""

__version__ = "0.1.0"
