"""On a desktop missing Qt's X11 libraries the app names them and the command to
install them, before Qt can abort with a misleading message (issue 14, item 1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conference_gui.platform_check import check_display, wants_xcb


def plugin_needing_missing_libraries(folder: Path) -> Path:
    """A real shared object, in ``folder/platforms/libqxcb.so``, linked against two
    libraries that are then removed — as on a desktop without them."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.fail("this test builds a small shared object and needs gcc (Debian: gcc)")
    build = folder / "build"
    build.mkdir()
    (build / "stub.c").write_text("int stub(void) { return 0; }\n")
    for soname in ("libxcb-icccm.so.99", "libxcb-keysyms.so.99"):
        subprocess.run(
            [gcc, "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", str(build / soname),
             str(build / "stub.c")],
            check=True,
        )
    platforms = folder / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    plugin = platforms / "libqxcb.so"
    subprocess.run(
        [gcc, "-shared", "-fPIC", "-o", str(plugin), str(build / "stub.c"), "-Wl,--no-as-needed",
         f"-L{build}", "-l:libxcb-icccm.so.99", "-l:libxcb-keysyms.so.99"],
        check=True,
    )
    shutil.rmtree(build)
    return plugin


def test_missing_x11_libraries_are_named_with_the_install_command(tmp_path: Path) -> None:
    plugin_needing_missing_libraries(tmp_path)
    env = {
        k: v for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")
    }
    env.update(DISPLAY=":99", QT_PLUGIN_PATH=str(tmp_path / "plugins"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    missing = check_display(env)
    assert missing is not None
    assert missing.sonames == ("libxcb-icccm.so.99", "libxcb-keysyms.so.99")
    assert missing.packages() == (
        ["libxcb-icccm4", "libxcb-keysyms1"], ["xcb-util-wm", "xcb-util-keysyms"]
    )

    out = subprocess.run(
        [sys.executable, "-m", "conference_gui"], capture_output=True, text=True, timeout=60,
        env=env,
    )
    assert out.returncode == 1
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in out.stderr
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms" in out.stderr
    assert "Traceback" not in out.stderr and "libxcb-cursor0" not in out.stderr


def test_the_installed_plugin_loads_here_and_other_platforms_are_not_checked() -> None:
    env = {"DISPLAY": ":0", "PATH": os.environ.get("PATH", "")}
    assert check_display(env) is None  # this machine has every library (CI installs them)
    assert not wants_xcb({"QT_QPA_PLATFORM": "offscreen"})
    assert not wants_xcb({"WAYLAND_DISPLAY": "wayland-0"})
    assert wants_xcb({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"})
