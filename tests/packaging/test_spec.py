"""Fast checks of the PyInstaller spec and its lists, without running PyInstaller.

The spec is executed with stand-ins for PyInstaller's build classes that
record what they are given, so these tests see the very ``datas``,
``hiddenimports`` and ``excludes`` a real build passes to ``Analysis``.
"""

from __future__ import annotations

import ast
import dataclasses
import fnmatch
import os
import struct
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import pytest

import conference_gui

from .support import PACKAGING, ROOT, load_packaging_module

layout = load_packaging_module("bundle_layout")

ICONS = ROOT / "resources" / "icons"


class _Recorder:
    """Stands in for a PyInstaller build class: keeps its arguments."""

    calls: ClassVar[list[_Recorder]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs
        type(self).calls.append(self)


class FakeAnalysis(_Recorder):
    calls: ClassVar[list[_Recorder]] = []

    def __init__(self, scripts: list[str], **kwargs: Any) -> None:
        super().__init__(scripts, **kwargs)
        # Analysis turns (source, folder) pairs into (name in bundle, source, typecode).
        self.datas = [
            (str(PurePosixPath(folder, Path(source).name)), source, "DATA")
            for source, folder in kwargs["datas"]
        ]
        self.binaries: list[tuple[str, str, str]] = []
        self.pure: list[Any] = []
        self.scripts = scripts


class FakePYZ(_Recorder):
    calls: ClassVar[list[_Recorder]] = []


class FakeEXE(_Recorder):
    calls: ClassVar[list[_Recorder]] = []


class FakeCOLLECT(_Recorder):
    calls: ClassVar[list[_Recorder]] = []


class FakeBUNDLE(_Recorder):
    calls: ClassVar[list[_Recorder]] = []


@pytest.fixture(scope="module")
def spec_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Execute packaging/conference-gui.spec once with the recording stand-ins."""
    workpath = tmp_path_factory.mktemp("spec-work")
    for fake in (FakeAnalysis, FakePYZ, FakeEXE, FakeCOLLECT, FakeBUNDLE):
        fake.calls.clear()
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "SPECPATH": str(PACKAGING),
        "workpath": str(workpath),
        "DISTPATH": str(workpath / "dist"),
        "Analysis": FakeAnalysis,
        "PYZ": FakePYZ,
        "EXE": FakeEXE,
        "COLLECT": FakeCOLLECT,
        "BUNDLE": FakeBUNDLE,
        "os": os,
    }
    spec_file = PACKAGING / "conference-gui.spec"
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(spec_file)]
    try:
        exec(compile(spec_file.read_text(encoding="utf-8"), str(spec_file), "exec"), namespace)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        sys.modules.pop("bundle_layout", None)
    assert len(FakeAnalysis.calls) == 1
    assert len(FakeCOLLECT.calls) == 1
    return {
        "analysis": FakeAnalysis.calls[0],
        "exe": FakeEXE.calls[0],
        "collect": FakeCOLLECT.calls[0],
        "workpath": workpath,
    }


def test_spec_datas_cover_every_svg_icon(spec_run: dict[str, Any]) -> None:
    """Every SVG in resources/icons lands at conference_gui/assets/icons/ in the bundle."""
    datas = spec_run["analysis"].kwargs["datas"]
    bundled = {
        (Path(source).resolve(), folder) for source, folder in datas if source.endswith(".svg")
    }
    expected = {(svg.resolve(), "conference_gui/assets/icons") for svg in ICONS.glob("*.svg")}
    assert expected, "no SVG icons found in resources/icons"
    assert bundled == expected


def test_spec_datas_match_the_installed_package_data() -> None:
    """The bundle gets the same asset files a wheel installs ([tool.setuptools.package-data])."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    source_dir = ROOT / setuptools["package-dir"]["conference_gui.assets"]
    installed = set()
    for pattern in setuptools["package-data"]["conference_gui.assets"]:
        for path in source_dir.glob(pattern):
            folder = PurePosixPath("conference_gui/assets", path.relative_to(source_dir).as_posix())
            installed.add((path.resolve(), str(folder.parent)))
    bundled = {(Path(source).resolve(), folder) for source, folder in layout.data_files()}
    assert bundled == installed


def test_spec_analyses_the_staged_installed_layout(spec_run: dict[str, Any]) -> None:
    """resources/ is staged as conference_gui/assets, so the asset package can be imported."""
    (staged,) = spec_run["analysis"].kwargs["pathex"]
    staged = Path(staged)
    assert (staged / "conference_gui" / "app.py").is_file()
    assert (staged / "conference_gui" / "assets" / "__init__.py").is_file()
    assert (staged / "conference_gui" / "assets" / "icons" / "__init__.py").is_file()
    # Only Python sources are staged: data files come from the explicit list alone.
    assert not list(staged.rglob("*.svg"))
    assert not list(staged.rglob("__pycache__"))


def test_spec_hidden_imports_and_excludes(spec_run: dict[str, Any]) -> None:
    kwargs = spec_run["analysis"].kwargs
    assert "engineio.async_drivers.aiohttp" in kwargs["hiddenimports"]
    assert "conference_gui.assets" in kwargs["hiddenimports"]
    excludes = set(kwargs["excludes"])
    unused = {"PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtMultimediaWidgets", "tkinter"}
    assert unused <= excludes
    # socketio's optional message queues get bundled whenever they are installed.
    assert {"redis", "kombu", "msgpack", "yaml"} <= excludes
    # Never exclude what the app imports (the call: QtMultimedia, whose binding
    # imports QtNetwork; aiortc's DTLS needs cryptography and pyOpenSSL).
    used = {
        "PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg",
        "PySide6.QtMultimedia", "PySide6.QtNetwork",
    }
    assert not used & excludes
    call = {"aiortc", "aioice", "av", "numpy", "cryptography", "OpenSSL", "pylibsrtp", "msgspec"}
    assert not call & excludes
    assert not {"socketio", "engineio", "aiohttp", "jwt", "platformdirs", "qasync"} & excludes


def test_spec_names_the_onedir_bundle(spec_run: dict[str, Any]) -> None:
    assert spec_run["exe"].kwargs["name"] == "conference-gui"
    assert spec_run["exe"].kwargs["exclude_binaries"] is True  # onedir
    assert spec_run["collect"].kwargs["name"] == "conference-gui"
    # PyInstaller's strip breaks wheel libraries; the spec strips (see test_strip_*).
    assert spec_run["collect"].kwargs["strip"] is False


def test_spec_renders_the_icons(spec_run: dict[str, Any]) -> None:
    icon_dir = spec_run["workpath"] / "icon"
    png = (icon_dir / "conference-gui.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (256, 256)

    ico = (icon_dir / "conference-gui.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        side, _h, _c, _r, _planes, _bpp, length, offset = struct.unpack(
            "<BBBBHHII", ico[6 + 16 * index : 22 + 16 * index]
        )
        assert ico[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + length <= len(ico)
        sizes.append(side or 256)
    assert sizes == [16, 24, 32, 48, 64, 128, 256]


def test_version_comes_from_the_package() -> None:
    assert layout.read_version() == conference_gui.__version__


def test_windows_version_resource_is_a_valid_expression() -> None:
    text = layout.windows_version_info("1.2.3")
    tree = ast.parse(text, mode="eval")
    assert isinstance(tree.body, ast.Call)
    assert "filevers=(1, 2, 3, 0)" in text
    assert "StringStruct('ProductVersion', '1.2.3')" in text


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.1.0", (0, 1, 0, 0)), ("1.2.3.4.5", (1, 2, 3, 4)), ("2.0rc1", (2, 0, 0, 0))],
)
def test_version_tuple(version: str, expected: tuple[int, int, int, int]) -> None:
    assert layout.version_tuple(version) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6Svg.so.6",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
        "conference_gui/assets/icons/chat.svg",
    ],
)
def test_qt_file_excludes_spare_what_the_app_needs(kept: str) -> None:
    assert not layout.is_excluded_qt_file(kept)


@pytest.mark.parametrize(
    "dropped",
    [
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/plugins/platforms/libqvnc.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    ],
)
def test_qt_file_excludes_drop_unused_files(dropped: str) -> None:
    assert layout.is_excluded_qt_file(dropped)


def test_excluded_patterns_are_qt_paths() -> None:
    for pattern in layout.EXCLUDED_QT_FILES:
        assert pattern.startswith("PySide6/Qt/"), pattern
        assert not fnmatch.fnmatchcase("PySide6/Qt/lib/libQt6Core.so.6", pattern)


# prune(): a made-up bundle. Qt plugin "theme" needs libgtk-ish libs; "xcb" shares one.
_TOC = [
    ("PySide6/QtGui.abi3.so", "/src/QtGui.abi3.so", "EXTENSION"),
    ("PySide6/Qt/lib/libQt6Gui.so.6", "/src/libQt6Gui.so.6", "BINARY"),
    ("PySide6/Qt/plugins/platforms/libqxcb.so", "/src/libqxcb.so", "BINARY"),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/src/libqgtk3.so", "BINARY"),
    ("libcairo.so.2", "/src/libcairo.so.2", "BINARY"),
    ("libpixman-1.so.0", "/src/libpixman-1.so.0", "BINARY"),
    ("libX11.so.6", "/src/libX11.so.6", "BINARY"),
    ("_cairo_ext.so", "/src/_cairo_ext.so", "EXTENSION"),
    ("libcairo-ext-helper.so.1", "/src/libcairo-ext-helper.so.1", "BINARY"),
    ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
    ("PySide6/Qt/translations/qtbase_de.qm", "/src/qtbase_de.qm", "DATA"),
    ("conference_gui/assets/icons/chat.svg", "/src/chat.svg", "DATA"),
]
_NEEDED = {
    "/src/QtGui.abi3.so": ["libQt6Gui.so.6"],
    "/src/libQt6Gui.so.6": ["libX11.so.6", "libc.so.6"],
    "/src/libqxcb.so": ["libQt6Gui.so.6", "libX11.so.6"],
    "/src/libqgtk3.so": ["libQt6Gui.so.6", "libcairo.so.2", "libX11.so.6", "libgtk-3.so.0"],
    "/src/libcairo.so.2": ["libpixman-1.so.0", "libX11.so.6", "libcairo-ext-helper.so.1"],
    "/src/_cairo_ext.so": ["libcairo-ext-helper.so.1"],
}


def _needed(source: str) -> list[str]:
    return _NEEDED.get(source, [])


def _names(toc: list[tuple[str, str, str]]) -> set[str]:
    return {entry[0] for entry in toc}


def test_prune_drops_a_plugin_and_what_only_it_needed() -> None:
    kept, removed = layout.prune(_TOC, lambda name: "libqgtk3" in name, _needed)
    assert _names(removed) == {
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "libcairo.so.2",
        "libpixman-1.so.0",
    }
    # Shared with kept binaries (X11, Qt), or needed by a kept extension module.
    assert {"libX11.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "libcairo-ext-helper.so.1"} <= _names(
        kept
    )
    assert len(kept) + len(removed) == len(_TOC)


def test_prune_drops_symlinks_to_removed_libraries_and_data_files() -> None:
    toc = [*_TOC, ("libpixman-1.so.0.42", "libpixman-1.so.0", "SYMLINK")]
    kept, removed = layout.prune(
        toc, lambda name: "libqgtk3" in name or name.endswith(".qm"), _needed
    )
    assert ("libpixman-1.so.0.42", "libpixman-1.so.0", "SYMLINK") in removed
    assert "PySide6/Qt/translations/qtbase_de.qm" in _names(removed)
    assert ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK") in kept


def test_prune_refuses_to_drop_a_library_something_kept_needs() -> None:
    with pytest.raises(ValueError, match=r"libQt6Gui\.so\.6"):
        layout.prune(_TOC, lambda name: name.endswith("libQt6Gui.so.6"), _needed)


def test_prune_without_matches_keeps_everything() -> None:
    kept, removed = layout.prune(_TOC, lambda name: False, _needed)
    assert kept == _TOC
    assert removed == []


# strip_binaries(): real ELF files, made by the C compiler when there is one.
def _shared_object(folder: Path, name: str, debug: bool) -> Path:
    import shutil
    import subprocess

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not sys.platform.startswith("linux"):
        pytest.skip("needs a C compiler on Linux")
    source = folder / f"{name}.c"
    source.write_text("int answer(void) { return 42; }\nint table[1024] = {1};\n")
    out = folder / f"lib{name}.so"
    subprocess.run(
        [cc, "-shared", "-fPIC", "-g" if debug else "-s", "-o", str(out), str(source)],
        check=True,
    )
    return out


def test_strip_reads_load_segments_and_symbols(tmp_path: Path) -> None:
    lib = _shared_object(tmp_path, "debug", debug=True)
    info = layout.read_elf(lib)
    assert info is not None and info.has_symbols
    assert info.segments and all(s.align >= 1 for s in info.segments)
    assert layout.read_elf(tmp_path / "debug.c") is None  # not ELF


def test_strip_strips_a_library_with_symbols_and_keeps_its_layout(tmp_path: Path) -> None:
    debug = _shared_object(tmp_path, "debug", debug=True)
    plain = _shared_object(tmp_path, "plain", debug=False)
    toc = [
        ("libdebug.so", str(debug), "BINARY"),
        ("libplain.so", str(plain), "BINARY"),
        ("data.txt", str(tmp_path / "debug.c"), "DATA"),
    ]
    out, results = layout.strip_binaries(toc, tmp_path / "stripped")
    by_name = {r.name: r for r in results}
    assert by_name["libdebug.so"].note == "stripped"
    assert by_name["libdebug.so"].after < by_name["libdebug.so"].before
    assert by_name["libplain.so"].note == "no symbols"
    assert out[0] == ("libdebug.so", str(tmp_path / "stripped" / "libdebug.so"), "BINARY")
    assert out[1:] == toc[1:]  # unchanged entries, in order
    stripped = layout.read_elf(tmp_path / "stripped" / "libdebug.so")
    original = layout.read_elf(debug)
    assert stripped is not None and original is not None
    assert not stripped.has_symbols
    assert layout.same_load_layout(original, stripped)


def test_strip_keeps_the_original_when_a_segment_would_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What binutils' strip does to patchelf-repaired wheel libraries."""
    lib = _shared_object(tmp_path, "debug", debug=True)
    info = layout.read_elf(lib)
    assert info is not None
    first, *rest = info.segments
    shrunk = layout.ElfInfo(
        (dataclasses.replace(first, filesz=first.filesz - 1), *rest), info.sections
    )
    assert not layout.same_load_layout(info, shrunk)
    misaligned = layout.ElfInfo(
        (*info.segments[:-1], dataclasses.replace(info.segments[-1],
                                                  offset=info.segments[-1].offset + 0x600)),
        info.sections,
    )
    assert not layout.same_load_layout(info, misaligned)
    # A strip tool that breaks the layout: the original goes into the bundle.
    breaker = tmp_path / "bad-strip"
    breaker.write_text(
        "#!/bin/sh\n"
        "# bad-strip --strip-unneeded -o OUT IN: write IN with one byte of a segment lost\n"
        f"{sys.executable} -c \"import sys; d=bytearray(open(sys.argv[2],'rb').read()); "
        "d[0x38]=0; open(sys.argv[1],'wb').write(d)\" \"$3\" \"$4\"\n"
    )
    breaker.chmod(0o755)
    toc = [("libdebug.so", str(lib), "BINARY")]
    # The symbols are cut out without moving segments instead (compact_elf) ...
    out, results = layout.strip_binaries(toc, tmp_path / "stripped", tool=str(breaker))
    assert results[0].note.startswith("symbols cut out")
    cut = layout.read_elf(Path(out[0][1]))
    assert cut is not None and not cut.has_symbols and layout.same_load_layout(info, cut)
    # ... and where that cannot be done either, the original goes into the bundle.
    monkeypatch.setattr(layout, "compact_elf", lambda data: None)
    out, results = layout.strip_binaries(toc, tmp_path / "stripped2", tool=str(breaker))
    assert out == toc
    assert results[0].note.endswith(": kept")
    assert not (tmp_path / "stripped2" / "libdebug.so").exists()


def test_compact_cuts_symbols_out_and_the_library_still_loads(tmp_path: Path) -> None:
    """The fallback for patchelf-repaired libraries: symbols and debug info go, every
    load segment keeps its address, size and page offset, and the library works."""
    import ctypes

    lib = _shared_object(tmp_path, "debug", debug=True)
    original = layout.read_elf(lib)
    compact = layout.compact_elf(lib.read_bytes())
    assert compact is not None and len(compact) < lib.stat().st_size
    out = tmp_path / "libcompact.so"
    out.write_bytes(compact)
    info = layout.read_elf(out)
    assert original is not None and info is not None
    assert not info.has_symbols
    assert layout.same_load_layout(original, info)
    assert ctypes.CDLL(str(out)).answer() == 42
    # Nothing to cut out of a stripped library.
    assert layout.compact_elf(_shared_object(tmp_path, "plain", debug=False).read_bytes()) is None
