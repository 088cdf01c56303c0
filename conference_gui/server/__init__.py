"""Reference server of wire contract v1 (aiohttp + python-socketio). No Qt in here.

Public surface: :class:`ServerConfig`, :func:`build_app` and :class:`ServerThread`
(the embedded server of the desktop client and of tests).
"""

from .app import build_app
from .config import ServerConfig
from .runner import ServerThread

__all__ = ["ServerConfig", "ServerThread", "build_app"]
