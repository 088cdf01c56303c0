"""A private X server (Xvfb) for screen sharing tests, and the one thing a window manager does.

Screen capture needs a real X server: the offscreen platform the rest of
the suite uses has no screen to grab. :class:`Xvfb` starts one on a free
display number (``-displayfd``: the server picks it and tells), 1920×1080
at 24 bits, listening on its unix socket only.

There is no window manager on it, and Qt lists shareable windows from the
one a desktop runs (the root window's ``_NET_CLIENT_LIST``, EWMH). So
:func:`publish_client_list` sets that property, exactly as a window manager
does when windows are mapped — a stand-in for the window manager only; the
windows, the X server and Qt's capture are real.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import time
from collections.abc import Sequence

WIDTH, HEIGHT = 1920, 1080


def available() -> bool:
    return shutil.which("Xvfb") is not None


class Xvfb:
    """``Xvfb`` as a child process; :attr:`display` is e.g. ``":3"``."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.size = (width, height)
        self.display = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        read, write = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [
                    "Xvfb",
                    "-displayfd", str(write),
                    "-screen", "0", f"{self.size[0]}x{self.size[1]}x24",
                    "-nolisten", "tcp",
                    "-noreset",
                ],
                pass_fds=(write,),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        finally:
            os.close(write)
        number = b""
        deadline = time.monotonic() + timeout
        with os.fdopen(read, "rb", buffering=0) as pipe:
            while not number.endswith(b"\n") and time.monotonic() < deadline:
                chunk = pipe.read(16)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            err = self.stop()
            raise RuntimeError(f"Xvfb did not start: {err}")
        self.display = f":{int(number)}"

    def stop(self) -> str:
        """End the server; returns what it printed (for failure reports)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return ""
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate(timeout=5)
        return err.decode(errors="replace")

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid


def publish_client_list(xids: Sequence[int]) -> None:
    """Set ``_NET_CLIENT_LIST`` on the root window of ``$DISPLAY`` to ``xids``."""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XChangeProperty.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
        ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
    ]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(None)
    if not display:
        raise RuntimeError(f"cannot open X display {os.environ.get('DISPLAY')!r}")
    try:
        root = x11.XDefaultRootWindow(display)
        atom = x11.XInternAtom(display, b"_NET_CLIENT_LIST", 0)
        xa_window = 33  # X11/Xatom.h
        values = (ctypes.c_ulong * max(1, len(xids)))(*xids)
        x11.XChangeProperty(display, root, atom, xa_window, 32, 0, values, len(xids))
        x11.XSync(display, 0)
    finally:
        x11.XCloseDisplay(display)
