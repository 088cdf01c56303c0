"""Before Qt starts: can its display plugin and Qt Multimedia load here? If not,
say what to install.

On a minimal Linux desktop Qt's X11 plugin (``libqxcb.so``) needs a dozen
small system libraries; when one is missing Qt prints a misleading message
(it blames ``libxcb-cursor0`` whatever is missing) and aborts. We look at the
plugin's dependencies with ``ldd`` first and name every missing library and
the one command that installs them, then exit cleanly. Qt Multimedia links
PulseAudio's client library, which comes from the system (it must match the
sound server, PulseAudio or PipeWire; the PySide6 wheel and the bundle both
rely on it): without it importing Qt Multimedia fails with a bare
ImportError, and ``conference_gui.launch`` then asks :func:`check_sound` why.

No Qt import here: this runs before the ``QApplication`` exists.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: soname prefix → (Debian/Ubuntu package, Fedora package)
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so": ("libxcb-image0", "xcb-util-image"),
    "libxcb-util.so": ("libxcb-util1", "xcb-util"),
    "libxcb-render-util.so": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-randr.so": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so": ("libxcb-render0", "libxcb"),
    "libxcb-xkb.so": ("libxcb-xkb1", "libxcb"),
    "libxcb-xinput.so": ("libxcb-xinput0", "libxcb"),
    "libxcb.so": ("libxcb1", "libxcb"),
    "libX11-xcb.so": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so": ("libx11-6", "libX11"),
    "libxkbcommon-x11.so": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so": ("libxkbcommon0", "libxkbcommon"),
    "libEGL.so": ("libegl1", "libglvnd-egl"),
    "libGL.so": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so": ("libfontconfig1", "fontconfig"),
    "libfreetype.so": ("libfreetype6", "freetype"),
    "libdbus-1.so": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so": ("libglib2.0-0", "glib2"),
    "libpulse.so": ("libpulse0", "pulseaudio-libs"),
}

#: Every library the app needs on a Linux desktop, for the README's one line.
DEBIAN_ALL = sorted({deb for deb, _ in PACKAGES.values()})
FEDORA_ALL = sorted({fed for _, fed in PACKAGES.values()})


@dataclass(frozen=True, slots=True)
class Missing:
    """Libraries a part of Qt needs and cannot find."""

    plugin: Path
    sonames: tuple[str, ...]
    needed_by: str = "Qt's X11 display plugin"
    cannot: str = "open a window"

    def packages(self) -> tuple[list[str], list[str]]:
        deb: list[str] = []
        fed: list[str] = []
        for soname in self.sonames:
            prefix = re.sub(r"\.so(\.\d+)*$", ".so", soname)
            found = PACKAGES.get(prefix)
            d, f = found if found else (soname, soname)
            if d not in deb:
                deb.append(d)
            if f not in fed:
                fed.append(f)
        return deb, fed

    def message(self) -> str:
        deb, fed = self.packages()
        return (
            f"conference-gui cannot {self.cannot}: {self.needed_by} needs system "
            f"libraries that are missing: {', '.join(self.sonames)}.\n"
            f"  Debian/Ubuntu: sudo apt install {' '.join(deb)}\n"
            f"  Fedora:        sudo dnf install {' '.join(fed)}\n"
            "Without a display, QT_QPA_PLATFORM=offscreen runs it headless."
        )


def wants_xcb(env: Mapping[str, str]) -> bool:
    """Will Qt use its X11 plugin? (Linux, and not another platform asked for.)"""
    if not sys.platform.startswith("linux"):
        return False
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":", 1)[0] == "xcb"
    # Qt prefers Wayland when a Wayland session is running.
    return not env.get("WAYLAND_DISPLAY")


def _pyside_folders() -> list[Path]:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(base) for base in spec.submodule_search_locations]


def xcb_plugins(env: Mapping[str, str]) -> list[Path]:
    """The X11 plugin files Qt would try, in its order: QT_PLUGIN_PATH, then PySide6's."""
    found = []
    for folder in filter(None, env.get("QT_PLUGIN_PATH", "").split(os.pathsep)):
        candidate = Path(folder) / "platforms" / "libqxcb.so"
        if candidate.is_file():
            found.append(candidate)
    for base in _pyside_folders():
        candidate = base / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if candidate.is_file():
            found.append(candidate)
    return found


def missing_libraries(library: Path, env: Mapping[str, str]) -> tuple[str, ...]:
    """Sonames ``ldd`` cannot resolve for ``library`` ("" when ldd is not there)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return ()
    try:
        out = subprocess.run(
            [ldd, str(library)], capture_output=True, text=True, timeout=10,
            env=dict(env), check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    names = re.findall(r"^\s*(\S+)\s+=>\s+not found", out, flags=re.MULTILINE)
    return tuple(dict.fromkeys(names))


def check_display(env: Mapping[str, str] | None = None) -> Missing | None:
    """What is missing for Qt's display plugin, or None when it can load (or is not used)."""
    env = os.environ if env is None else env
    if not wants_xcb(env):
        return None
    plugins = xcb_plugins(env)
    if not plugins:
        return None
    missing = missing_libraries(plugins[0], env)
    return Missing(plugins[0], missing) if missing else None


def check_sound(
    env: Mapping[str, str] | None = None, pyside: list[Path] | None = None
) -> Missing | None:
    """What Qt Multimedia's library misses here (PulseAudio's client), or None (also
    off Linux, and where PySide6's libraries are not where the wheel puts them).
    ``pyside``: the PySide6 package folders to look in (default: the imported one's)."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return None
    for base in _pyside_folders() if pyside is None else pyside:
        library = base / "Qt" / "lib" / "libQt6Multimedia.so.6"
        if library.is_file():
            missing = missing_libraries(library, env)
            if missing:
                return Missing(
                    library, missing, "Qt Multimedia (microphone, speaker, camera)", "start"
                )
            return None
    return None
