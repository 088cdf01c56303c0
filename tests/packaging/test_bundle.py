"""Build the real onedir bundle, run it headless, and hold it to the size budget.

One PyInstaller build (20–40 s on a 2-core machine, see docs/PACKAGING.md)
into a temporary folder, shared by the tests below; the timeout covers it.
Run just these with ``.venv/bin/python -m pytest tests/packaging -m slow``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import conference_gui
from tests.conftest import require_private_network

from .support import ROOT, load_packaging_module

builder = load_packaging_module("build")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


class Bundle:
    def __init__(self, folder: Path, work: Path, home: Path) -> None:
        self.folder = folder
        self.work = work
        self.home = home
        self.executable = folder / builder.EXECUTABLE
        self.contents = folder / "_internal"  # PyInstaller 6's contents directory

    def run(self, *args: str) -> Any:
        return builder.run_bundle(self.executable, *args, home=self.home)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    tmp = tmp_path_factory.mktemp("bundle")
    result = builder.build(tmp / "dist", tmp / "work", quiet=True)
    home = tmp / "home"
    home.mkdir()
    yield Bundle(result.bundle, tmp / "work" / builder.APP_NAME, home)


def test_version(bundle: Bundle) -> None:
    result = bundle.run("--version")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"conference-gui {conference_gui.__version__}"


def test_self_check_opens_the_window_and_makes_a_call(bundle: Bundle) -> None:
    """The embedded server, the window, and a call between two engines over loopback:
    VP8 and Opus through PyAV, ICE, DTLS/SRTP, and Qt Multimedia's FFmpeg back end."""
    require_private_network()  # the call's media go over loopback only, in here
    result = bundle.run("--self-check")
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.fullmatch(
        r"self-check ok: connected to http://127\.0\.0\.1:\d+; "
        r"call: 2 peers, (\d+) frames decoded, audio level (\d\.\d\d); "
        r"media back end: (.*); text: collation, encodings, case\n"
        r"invite: http://127\.0\.0\.1:\d+/join/\w+\?invite=[\w-]+\n",  # plain HTTP on loopback
        result.stdout,
    )
    assert match, result.stdout
    assert int(match[1]) >= 30
    assert float(match[2]) >= 0.05
    assert "ffmpeg" in match[3].split(", ")


def test_fits_the_size_budget(bundle: Bundle) -> None:
    size = builder.bundle_size(bundle.folder)
    assert size <= builder.SIZE_BUDGET_BYTES, (
        f"onedir bundle is {size / 1e6:.1f} MB, budget {builder.SIZE_BUDGET_BYTES / 1e6:.0f}"
        " MB: see docs/PACKAGING.md for what is excluded"
    )


def test_does_not_grow(bundle: Bundle) -> None:
    """No more than the measured size, plus 2 % for other build machines' system
    libraries (a stray dependency shows here before it breaks the budget)."""
    size = builder.bundle_size(bundle.folder)
    assert size <= builder.SIZE_MEASURED_BYTES * 1.02, (
        f"onedir bundle is {size / 1e6:.1f} MB; it was {builder.SIZE_MEASURED_BYTES / 1e6:.1f} MB"
        " (docs/PACKAGING.md): what came in?"
    )


def test_unused_libraries_are_stubs_and_no_gpl_code_ships(bundle: Bundle) -> None:
    """x264 and x265 (GPL), the other unused codecs, OpenBLAS and Qt Quick are stubs that
    name themselves; PulseAudio's client is the system's; the call's codecs are real."""
    libs = bundle.contents / "av.libs"
    for pattern in ("libx264-*", "libx265-*", "libSvtAv1Enc-*", "libavformat-*"):
        (stub,) = libs.glob(pattern)
        assert stub.stat().st_size < 100_000, stub
        if "x265" not in pattern:  # x265's one symbol is a probe: no message to carry
            assert b"is not in this bundle" in stub.read_bytes(), stub
    for stub in (
        bundle.contents / "PySide6" / "Qt" / "lib" / "libQt6Quick.so.6",
        *bundle.contents.glob("numpy.libs/libscipy_openblas*"),
    ):
        assert stub.stat().st_size < 100_000, stub
    (vpx,) = libs.glob("libvpx-*")
    assert vpx.stat().st_size > 1_000_000  # VP8: the real one
    assert not list(bundle.contents.rglob("libpulse*"))
    assert not list(bundle.contents.rglob("libnettle*"))  # GnuTLS's, gone with it


def test_icons_sit_where_importlib_resources_looks(bundle: Bundle) -> None:
    icons = bundle.contents / "conference_gui" / "assets" / "icons"
    bundled = {path.name for path in icons.glob("*.svg")}
    shipped = {path.name for path in (ROOT / "resources" / "icons").glob("*.svg")}
    assert bundled == shipped


def test_runtime_imports_were_collected(bundle: Bundle) -> None:
    """Modules imported by name at run time, or by the embedded server, are in the archive."""
    from PyInstaller.archive.readers import ZlibArchiveReader  # type: ignore[import-untyped]

    modules = set(ZlibArchiveReader(str(bundle.work / "PYZ-00.pyz")).toc)
    expected = {
        "engineio.async_drivers.aiohttp",
        "socketio",
        "engineio",
        "aiohttp",
        "jwt",
        "platformdirs",
        "qasync",
        "sqlite3",
        "conference_gui.assets",
        "conference_gui.assets.icons",
        "conference_gui.server.app",
        "conference_gui.self_check",
        # The call.
        "aiortc",
        "aioice",
        "av",
        "cryptography",
        "OpenSSL",
        "pylibsrtp",
        "numpy",
    }
    assert expected <= modules, sorted(expected - modules)
    unwanted = {"tkinter", "pytest", "PyQt5", "redis", "msgpack", "yaml", "psycopg"}
    assert not {name for name in modules if name.split(".")[0] in unwanted}


def test_unused_qt_parts_are_left_out(bundle: Bundle) -> None:
    pyside = bundle.contents / "PySide6"
    extensions = {path.name.split(".")[0] for path in pyside.glob("Qt*.so")} or {
        path.name.split(".")[0] for path in pyside.glob("Qt*.pyd")
    }
    # QtMultimedia for the devices; its binding imports QtNetwork.
    assert extensions == {"QtCore", "QtGui", "QtWidgets", "QtSvg", "QtMultimedia", "QtNetwork"}
    assert not (pyside / "Qt" / "translations").exists()
    assert not list(pyside.rglob("libqgtk3.so"))
    assert list(pyside.rglob("libffmpegmediaplugin.so"))  # the camera's back end


def test_wheel_libraries_load_after_stripping(bundle: Bundle) -> None:
    """No collected library has a load segment the loader refuses (what PyInstaller's
    strip did to numpy's OpenBLAS); the self-check imports the rest."""
    layout = load_packaging_module("bundle_layout")
    broken = []
    for path in bundle.contents.rglob("*.so*"):
        info = None if path.is_symlink() else layout.read_elf(path)
        if info is not None and any(
            s.align > 1 and (s.offset - s.vaddr) % s.align for s in info.segments
        ):
            broken.append(str(path.relative_to(bundle.contents)))
    assert not broken
