"""On a desktop missing Qt's X11 libraries the app names them and the command to
install them, before Qt can abort with a misleading message (issue 14, item 1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conference_gui.platform_check import check_display, check_sound, wants_xcb


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


def test_a_system_without_pulseaudio_s_client_is_told_which_package_to_install(
    tmp_path: Path,
) -> None:
    """Qt Multimedia links libpulse, which the bundle leaves to the system: Ann's minimal
    system lacks it; instead of an ImportError she reads the package's name."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.fail("this test builds a small shared object and needs gcc (Debian: gcc)")
    (tmp_path / "stub.c").write_text("int stub(void) { return 0; }\n")
    pulse = tmp_path / "libpulse.so.99"
    subprocess.run([gcc, "-shared", "-fPIC", "-Wl,-soname,libpulse.so.99", "-o", str(pulse),
                    str(tmp_path / "stub.c")], check=True)
    lib = tmp_path / "PySide6" / "Qt" / "lib"
    lib.mkdir(parents=True)
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(lib / "libQt6Multimedia.so.6"),
                    str(tmp_path / "stub.c"), "-Wl,--no-as-needed", f"-L{tmp_path}",
                    "-l:libpulse.so.99"], check=True)
    pulse.unlink()
    env = {"PATH": os.environ.get("PATH", "")}
    missing = check_sound(env, [tmp_path / "PySide6"])
    assert missing is not None and missing.sonames == ("libpulse.so.99",)
    message = missing.message()
    assert message.startswith("conference-gui cannot start: Qt Multimedia")
    assert "sudo apt install libpulse0" in message
    assert "sudo dnf install pulseaudio-libs" in message
    assert check_sound(env) is None  # this machine has it (CI installs PulseAudio)
