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


def test_self_check_opens_the_window_against_the_embedded_server(bundle: Bundle) -> None:
    result = bundle.run("--self-check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.fullmatch(r"self-check ok: connected to http://127\.0\.0\.1:\d+\n", result.stdout), (
        result.stdout
    )


def test_fits_the_size_budget(bundle: Bundle) -> None:
    size = builder.bundle_size(bundle.folder)
    assert size <= builder.SIZE_BUDGET_BYTES, (
        f"onedir bundle is {size / 2**20:.1f} MiB, budget {builder.SIZE_BUDGET_BYTES / 2**20:.0f}"
        " MiB: see docs/PACKAGING.md for what is excluded"
    )


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
    }
    assert expected <= modules, sorted(expected - modules)
    unwanted = {"tkinter", "pytest", "PyQt5", "redis", "cryptography", "msgpack"}
    assert not {name for name in modules if name.split(".")[0] in unwanted}


def test_unused_qt_parts_are_left_out(bundle: Bundle) -> None:
    pyside = bundle.contents / "PySide6"
    extensions = {path.name.split(".")[0] for path in pyside.glob("Qt*.so")} or {
        path.name.split(".")[0] for path in pyside.glob("Qt*.pyd")
    }
    assert extensions == {"QtCore", "QtGui", "QtWidgets", "QtSvg"}
    assert not (pyside / "Qt" / "translations").exists()
    assert not list(pyside.rglob("libqgtk3.so"))
    assert not list(bundle.contents.rglob("libQt6Network.so*"))
