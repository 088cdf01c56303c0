"""What goes into the PyInstaller bundle, in plain Python.

``conference-gui.spec`` imports this module (PyInstaller runs the spec with
``packaging/`` on ``sys.path``) and the fast tests in ``tests/packaging`` load
it by file path, so the data list the bundle gets is the data list the tests
check. Nothing here imports PyInstaller or Qt.

There is deliberately no ``packaging/__init__.py``: from the repository root it
would shadow the ``packaging`` distribution that pip and setuptools import.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import shutil
import struct
import subprocess
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "conference_gui"
APP_NAME = "conference-gui"

# App assets, listed explicitly (as qutebrowser's misc/qutebrowser.spec does):
# (glob relative to the repository root, folder inside the bundle). They mirror
# [tool.setuptools.package-data] for conference_gui.assets, so the bundle holds
# the same files as an installed wheel and importlib.resources finds them at
# the same place (conference_gui/assets/...). A pattern with no match adds
# nothing (there is no stylesheet yet).
DATA_PATTERNS: tuple[tuple[str, str], ...] = (
    ("resources/icons/*.svg", "conference_gui/assets/icons"),
    ("resources/*.qss", "conference_gui/assets"),
)

# Imported by name at run time, so PyInstaller's import analysis cannot see them.
HIDDEN_IMPORTS: tuple[str, ...] = (
    # importlib.resources.files("conference_gui.assets") imports the package.
    "conference_gui.assets",
    "conference_gui.assets.icons",
    # engineio picks its driver with importlib.import_module("engineio.async_drivers."
    # + async_mode); the embedded server runs socketio.AsyncServer(async_mode="aiohttp").
    "engineio.async_drivers.aiohttp",
)

# Python modules the app never imports. Today PyInstaller's Qt hooks pull in
# PySide6.QtNetwork and PySide6.QtDBus (from the libraries QtGui links) and
# these two excludes are what keep them and their plugins out; the rest are
# guards, as in Electrum's contrib/build-wine/pyinstaller.spec ("tens of MBs"),
# so that a stray import or a full PySide6 install cannot grow the bundle. If
# the app starts using one of these modules, take it off the list: the
# bundle would fail with ImportError where the import happens.
EXCLUDED_MODULES: tuple[str, ...] = (
    # qasync probes for every Qt binding; we ship PySide6 only (and PyInstaller
    # refuses to build with two bindings collected).
    "PyQt5",
    "PyQt6",
    "PySide2",
    # Qt modules we do not use (we use QtCore, QtGui, QtWidgets, QtSvg and QtMultimedia;
    # QtMultimedia's binding imports QtNetwork, so that one comes along).
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "PySide6.QtHelp",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtDBus",
    "PySide6.QtPrintSupport",
    "PySide6.QtConcurrent",
    "PySide6.QtSvgWidgets",
    "PySide6.QtXml",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtMultimediaWidgets",
    "PySide6.Qt3DCore",
    # Optional back ends of python-socketio/engineio that the embedded server does
    # not use (it runs one process with the in-memory manager, async_mode="aiohttp",
    # JSON packets). socketio imports them only if they are installed, so whether
    # they land in the bundle would depend on the build machine's virtualenv:
    # redis alone adds 1 MB. The asyncio client needs none of them either.
    "redis",
    "valkey",
    "aioredis",
    "aio_pika",
    "kombu",
    "kafka",
    "zmq",
    "msgpack",
    "eventlet",
    "gevent",
    "tornado",
    "websocket",  # websocket-client, for engineio's synchronous client
    # The reference server's multi-node options (--redis-url, --database-url) are
    # for `conference-server` deployments, which this bundle does not ship; the
    # embedded server is one process on SQLite. psycopg[binary] alone brings
    # libpq with Kerberos, LDAP and SASL: about 11 MB.
    "psycopg",
    "psycopg_binary",
    "psycopg_c",
    "psycopg_pool",
    "psycopg2",
    "asyncpg",
    # Parts of numpy nothing in the app imports (numpy 2 loads them only when
    # asked for: np.random, np.fft, ...): 3 MB of extension modules.
    "numpy.random",
    "numpy.fft",
    "numpy.polynomial",
    "numpy.f2py",
    # YAML: msgspec.yaml and numpy.__config__ import it only when asked to; the
    # app reads and writes no YAML (2.7 MB with its C extension).
    "yaml",
    # Standard library and tooling the app does not need at run time.
    "test",
    "tkinter",
    "_tkinter",
    "unittest",
    "pydoc",
    "doctest",
    "lib2to3",
    # The server's faster event loop: the embedded server is one meeting on
    # this machine; asyncio's loop is plenty (1.5 MB).
    "uvloop",
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "mypy",
    "setuptools",
    "pkg_resources",
    "pip",
)

# Qt files the PySide6 hooks collect for the modules we use but that this app
# never loads, matched (fnmatch) against the destination path in the bundle.
EXCLUDED_QT_FILES: tuple[str, ...] = (
    # Qt's own translations: the UI is English only and installs no QTranslator.
    "PySide6/Qt/translations/*",
    # Platform plugins besides X11 (xcb), Wayland and the offscreen one used by
    # --self-check: framebuffer/EGL/VNC back ends for embedded devices.
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    # evdev/tuio input for kiosk set-ups and the on-screen virtual keyboard.
    "PySide6/Qt/plugins/generic/*",
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
    # Image formats the app does not read (icons are SVG; PNG and BMP are built into
    # QtGui; the JPEG, GIF, WebP and ICO plugins stay for image previews).
    "PySide6/Qt/plugins/imageformats/libqpdf.so",
    "PySide6/Qt/plugins/imageformats/libqicns.so",
    "PySide6/Qt/plugins/imageformats/libqtga.so",
    "PySide6/Qt/plugins/imageformats/libqwbmp.so",
    "PySide6/Qt/plugins/imageformats/libqtiff.so",
    "PySide6/Qt/plugins/vectorimageformats/*",
    # The GTK 3 platform theme: it links GTK, cairo, pango, gio... and PyInstaller
    # would bundle all but GTK itself, to be loaded next to the system's GTK (a
    # known source of version clashes), for ~8 MB. Without it Qt uses its built-in
    # GNOME/KDE/generic themes and its own file dialogs; the XDG desktop portal
    # theme (QT_QPA_PLATFORMTHEME=xdgdesktopportal, used in Flatpak) stays.
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    # QtNetwork's plugins: TLS back ends and network-information (connman,
    # NetworkManager, GLib/gio). QtNetwork comes in only because QtMultimedia's
    # binding imports it; the app's own network code is Python (aiohttp, requests).
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/networkinformation/*",
    # Server-buffer integrations for clients of a Qt Wayland *compositor*; a
    # normal Wayland session uses the wayland-egl integration (kept).
    "PySide6/Qt/plugins/wayland-graphics-integration-client/libdmabuf-server.so",
    "PySide6/Qt/plugins/wayland-graphics-integration-client/libdrm-egl-server.so",
    "PySide6/Qt/plugins/wayland-graphics-integration-client/libshm-emulation-server.so",
    "PySide6/Qt/plugins/wayland-graphics-integration-client/libvulkan-server.so",
)

# Libraries the bundle must link but the app never calls, replaced by stubs
# (packaging/stubs.py): (file name pattern, why nothing calls it). A stub
# defines what the rest of the bundle imports from the original; its functions
# abort with "<symbol> (<library>) is not in this bundle", except STUB_BODIES.
# What only the original needed (GnuTLS's Nettle and GMP, OpenBLAS's gfortran,
# Qt Quick's Qml libraries) leaves the bundle with it. docs/PACKAGING.md,
# "Size", has the sizes.
STUBBED_LIBRARIES: tuple[tuple[str, str], ...] = (
    # Codec libraries PyAV's libavcodec links. The call codes VP8 and Opus
    # (libvpx, libopus: kept) and decodes H.264 with FFmpeg's own decoder; the app
    # offers no H.264 to send (media/peer.py), so x264 is not needed either, and
    # with x264 and x265 gone the bundle carries no GPL code.
    ("libx264-*.so*", "H.264 encoder: the app sends VP8 only"),
    ("libx265-*.so*", "HEVC encoder"),
    ("libSvtAv1Enc-*.so*", "AV1 encoder"),
    ("libdav1d-*.so*", "AV1 decoder"),
    ("libmp3lame-*.so*", "MP3 encoder (PyAV's copy; libsndfile's system one stays)"),
    ("libopencore-amr*-*.so*", "AMR speech codecs"),
    ("libwebp-*.so*", "WebP encoder (Qt's WebP image plugin has its own)"),
    ("libwebpmux-*.so*", "animated WebP"),
    ("libvpl-*.so*", "Intel's hardware codec dispatcher"),
    ("libgnutls-*.so*", "FFmpeg's https:// and tls:// inputs; PyAV opens no URL"),
    # numpy's OpenBLAS: the app's numpy work is element-wise; BLAS only runs for
    # numpy's import-time sanity check and dot products (STUB_BODIES).
    ("libscipy_openblas*.so", "BLAS/LAPACK: no matrix algebra in the app"),
    # Qt's FFmpeg multimedia plugin links Qt Quick for one qobject_cast (is this
    # window a QQuickWindow? With a stub's zeroed meta-object: never) and
    # QQuickWindow::grabWindow, which only such a window reaches. It also links
    # Qt Qml without using a symbol of it.
    ("libQt6Quick.so.6", "Qt Quick: the window is Qt Widgets"),
    ("libQt6Qml.so.6", "Qt Qml: linked, never called"),
    # QtNetwork's HTTP Negotiate (Kerberos) authentication; the app's HTTP is
    # requests and aiohttp, and QtNetwork is only here for QtMultimedia's binding.
    ("libgssapi_krb5.so.2", "Kerberos for QtNetwork's HTTP Negotiate auth"),
    # PyAV's capture devices (v4l2, ALSA, X11 grab): the app's devices are Qt
    # Multimedia's. PyAV's import asks for the library's version and build
    # strings and registers its devices (STUB_BODIES); ALSA, libxcb and libdrm's
    # copies in av.libs go with it.
    ("libavdevice-*.so*", "PyAV's capture devices: the app's are Qt Multimedia's"),
    # PyAV's containers and protocols (av.open): the call's media never touch a file
    # or URL, only codec contexts. (Qt's own FFmpeg, libavformat.so.61, stays.)
    ("libavformat-*.so*", "PyAV's containers and protocols: no av.open in the app"),
)

# System libraries the bundle must not carry: the system's copy is the right one.
# PulseAudio's client talks to the running sound server (PulseAudio, or
# PipeWire's pulse), so it must be that server's version; every Linux desktop
# with sound has it, and the PySide6 wheel relies on it too. It brings
# libsndfile and its codecs (FLAC, Vorbis, Opus, mpg123, LAME), libsystemd and
# libgcrypt: 6 MB. Missing, the app says so (platform_check.check_sound).
SYSTEM_LIBRARIES: tuple[str, ...] = ("libpulse.so.0", "libpulse-simple.so.0")

_BLAS_DOT = """{t} SYMBOL(long n, const {t} *x, long incx, const {t} *y, long incy) {{
    double sum = 0;
    long i;
    if (n <= 0) return 0;
    if (incx < 0) x += (n - 1) * -incx;
    if (incy < 0) y += (n - 1) * -incy;
    for (i = 0; i < n; i++) sum += (double)x[i * incx] * (double)y[i * incy];
    return ({t})sum;
}}"""

# The stubs' functions that must work (or answer "not here") instead of aborting.
STUB_BODIES: dict[str, str] = {
    # FFmpeg asks for the x265 API of each bit depth when it first lists codecs
    # (libx265's init_static_data); NULL means "not built in".
    "x265_api_get_216": "return 0;",
    # numpy's import runs ones(2, float32).dot(...) as a sanity check; a float
    # dot product anywhere else (the app's level meter sums int64 today) works
    # too: plain loops (numpy's ILP64 OpenBLAS: 64-bit sizes, "64_" suffix).
    "scipy_cblas_sdot64_": _BLAS_DOT.format(t="float"),
    "scipy_cblas_ddot64_": _BLAS_DOT.format(t="double"),
    # PyAV's import: av._core records each library's version, configuration and
    # licence, and registers libavdevice's devices.
    "avdevice_version": "return 0;",
    "avdevice_configuration": 'return (long)"not in this bundle";',
    "avdevice_license": 'return (long)"not in this bundle";',
    "avdevice_register_all": "return 0;",
    # ... and the same of libavformat, whose muxers and demuxers it lists
    # (av.format's formats_available: an empty list here).
    "avformat_version": "return 0;",
    "avformat_configuration": 'return (long)"not in this bundle";',
    "avformat_license": 'return (long)"not in this bundle";',
    "avformat_network_init": "return 0;",
    "av_muxer_iterate": "return 0;",
    "av_demuxer_iterate": "return 0;",
}


def is_stubbed(dest_name: str) -> bool:
    """``dest_name`` (a path inside the bundle) is replaced by a stub."""
    name = PurePosixPath(dest_name).name
    return any(fnmatch.fnmatch(name, pattern) for pattern, _why in STUBBED_LIBRARIES)


def is_system_library(dest_name: str) -> bool:
    """A library left to the system (``SYSTEM_LIBRARIES``)."""
    return PurePosixPath(dest_name).name in SYSTEM_LIBRARIES


def is_icu_data(dest_name: str) -> bool:
    """ICU's data library, which the bundle carries trimmed (packaging/icu_data.py)."""
    return fnmatch.fnmatch(PurePosixPath(dest_name).name, "libicudata.so.*")


def read_version(root: Path = ROOT) -> str:
    """``conference_gui.__version__``, read from the source without importing it."""
    tree = ast.parse((root / PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise LookupError(f"no __version__ = '...' in {PACKAGE}/__init__.py")


def data_files(root: Path = ROOT) -> list[tuple[str, str]]:
    """``(source file, folder in the bundle)`` for every asset, globs expanded."""
    files: list[tuple[str, str]] = []
    for pattern, dest in DATA_PATTERNS:
        files.extend((str(path), dest) for path in sorted(root.glob(pattern)) if path.is_file())
    return files


def package_dirs(root: Path = ROOT) -> dict[str, Path]:
    """Import package → source folder, as pyproject's ``[tool.setuptools.package-dir]`` maps it."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = config.get("tool", {}).get("setuptools", {}).get("package-dir", {})
    dirs = {PACKAGE: root / PACKAGE}
    dirs.update({name: root / folder for name, folder in mapping.items() if name})
    return dirs


def stage_sources(dest: Path, root: Path = ROOT) -> Path:
    """Copy the Python sources into ``dest`` laid out as they are installed; return ``dest``.

    PyInstaller's import analysis only searches ``sys.path`` folders: it sees
    neither setuptools' editable-install finder nor the package-dir mapping that
    installs ``resources/`` as ``conference_gui.assets``. A staged tree has the
    installed layout, and the spec analyses that. Only ``*.py`` files are
    copied: data files get into the bundle through :func:`data_files` alone.
    """
    if dest.exists():
        shutil.rmtree(dest)
    # Parents before children, so a mapped sub-package lands inside its parent.
    for name, src in sorted(package_dirs(root).items(), key=lambda item: item[0].count(".")):
        target = dest.joinpath(*name.split("."))
        shutil.copytree(
            src,
            target,
            ignore=_only_python,
            dirs_exist_ok=True,
        )
    return dest


def _only_python(folder: str, names: list[str]) -> set[str]:
    return {
        name
        for name in names
        if name == "__pycache__" or (not name.endswith(".py") and not Path(folder, name).is_dir())
    }


def is_excluded_qt_file(dest_name: str) -> bool:
    """True if a collected file (by its path in the bundle) matches :data:`EXCLUDED_QT_FILES`."""
    posix = str(PurePosixPath(*Path(dest_name).parts))
    return any(fnmatch.fnmatchcase(posix, pattern) for pattern in EXCLUDED_QT_FILES)


TocEntry = tuple[str, str, str]  # (name in the bundle, source path, typecode)


def _reached(
    start: Iterable[TocEntry], dependencies: Callable[[TocEntry], list[TocEntry]]
) -> set[str]:
    """Names of the binaries ``start`` reaches through ``dependencies`` (itself included)."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        entry = stack.pop()
        if entry[0] in seen or entry[2] not in ("BINARY", "EXTENSION"):
            continue
        seen.add(entry[0])
        stack.extend(dependencies(entry))
    return seen


def prune(
    toc: Iterable[TocEntry],
    drop: Callable[[str], bool],
    needed: Callable[[str], Iterable[str]],
) -> tuple[list[TocEntry], list[TocEntry]]:
    """Remove the entries ``drop`` selects, and the libraries only they needed.

    PyInstaller collects a Qt plugin's link-time dependencies along with it
    (the GTK theme plugin brings cairo, pango, gio...), so dropping the plugin
    afterwards must also drop what nothing else needs. ``needed(source)`` lists
    a binary's ``DT_NEEDED`` sonames; dependencies are matched to entries by
    file name. Python extension modules and every entry no dropped binary
    depends on are roots; a dependency of a dropped entry survives only if a
    root still reaches it. Symbolic links to removed files go too.

    Returns ``(kept, removed)``. Raises ``ValueError`` if an entry ``drop``
    selects is needed by something that stays: the bundle would not load.
    """
    entries = list(toc)
    by_soname = {PurePosixPath(e[0]).name: e for e in entries if e[2] in ("BINARY", "EXTENSION")}
    deps: dict[str, list[TocEntry]] = {}

    def dependencies(entry: TocEntry) -> list[TocEntry]:
        if entry[0] not in deps:
            deps[entry[0]] = [by_soname[n] for n in needed(entry[1]) if n in by_soname]
        return deps[entry[0]]

    def closure(start: Iterable[TocEntry]) -> set[str]:
        return _reached(start, dependencies)

    dropped = [e for e in entries if e[2] != "SYMLINK" and drop(e[0])]
    dropped_names = {e[0] for e in dropped}
    candidates = closure(dropped) - dropped_names
    roots = [
        e
        for e in entries
        if e[0] not in dropped_names and (e[0] not in candidates or e[2] == "EXTENSION")
    ]
    still_needed = closure(roots)
    broken = sorted(dropped_names & still_needed)
    if broken:
        raise ValueError(f"excluded files are needed by files that stay: {broken}")
    removed_names = dropped_names | (candidates - still_needed)
    kept: list[TocEntry] = []
    removed: list[TocEntry] = []
    for entry in entries:
        gone = entry[0] in removed_names or (entry[2] == "SYMLINK" and entry[1] in removed_names)
        (removed if gone else kept).append(entry)
    return kept, removed


def orphans(
    toc: Iterable[TocEntry],
    replaced: Iterable[str],
    needed: Callable[[str], Iterable[str]],
) -> set[str]:
    """Entries that only the ``replaced`` entries' originals needed.

    A stub needs nothing, so a library reached only through a stubbed original
    (OpenBLAS's libgfortran) can go. Returns destination names; entries that
    are not binaries and ``replaced`` themselves are never returned."""
    entries = list(toc)
    gone = set(replaced)
    by_soname = {PurePosixPath(e[0]).name: e for e in entries if e[2] in ("BINARY", "EXTENSION")}

    def deps(entry: TocEntry) -> list[TocEntry]:
        if entry[0] in gone:
            return []
        return [by_soname[n] for n in needed(entry[1]) if n in by_soname]

    def closure(start: Iterable[TocEntry]) -> set[str]:
        return _reached(start, deps)

    originals = [e for e in entries if e[0] in gone]
    candidates: set[str] = set()
    for entry in originals:
        candidates |= closure(by_soname[n] for n in needed(entry[1]) if n in by_soname)
    candidates -= gone
    candidates -= {e[0] for e in entries if e[2] == "EXTENSION"}
    roots = [e for e in entries if e[0] not in candidates]
    return candidates - closure(roots)


# --- stripping -------------------------------------------------------------------
# PyInstaller's COLLECT(strip=True) runs binutils' strip on every collected
# library. That breaks libraries that auditwheel repaired with patchelf (the
# manylinux wheels of numpy, PyAV, cryptography, ...): patchelf appends load
# segments that no section covers, strip drops or shifts their bytes, and the
# loader refuses the result ("ELF load command address/offset not
# page-aligned"; numpy's OpenBLAS was the first to fail). So the spec strips
# itself: only files that carry symbols, and a stripped copy is used only if
# its load segments are exactly the original's; otherwise the original goes in.


@dataclass(frozen=True, slots=True)
class LoadSegment:
    """One ``PT_LOAD`` program header of an ELF file."""

    offset: int
    vaddr: int
    filesz: int
    memsz: int
    flags: int
    align: int


@dataclass(frozen=True, slots=True)
class ElfInfo:
    segments: tuple[LoadSegment, ...]
    sections: frozenset[str]  # names of the sections that hold bytes

    @property
    def has_symbols(self) -> bool:
        """A symbol table or debug info that strip would remove."""
        return ".symtab" in self.sections or any(s.startswith(".debug_") for s in self.sections)


_PT_LOAD = 1


def read_elf(path: Path) -> ElfInfo | None:
    """Load segments and section names of a 64-bit little-endian ELF file (None otherwise)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    try:
        phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 0x36)
        segments = []
        for i in range(phnum):
            p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_align = (
                struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
            )
            if p_type == _PT_LOAD:
                segments.append(LoadSegment(p_offset, p_vaddr, p_filesz, p_memsz, p_flags, p_align))
        names: set[str] = set()
        if shoff and shnum and shstrndx < shnum:
            str_off = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 0x18)[0]
            for i in range(shnum):
                name_off = struct.unpack_from("<I", data, shoff + i * shentsize)[0]
                size = struct.unpack_from("<Q", data, shoff + i * shentsize + 0x20)[0]
                end = data.index(b"\0", str_off + name_off)
                if size:  # an emptied section (compact_elf) holds nothing
                    names.add(data[str_off + name_off : end].decode("ascii", "replace"))
    except (struct.error, ValueError):
        return None
    return ElfInfo(tuple(segments), frozenset(names))


def same_load_layout(original: ElfInfo, stripped: ElfInfo) -> bool:
    """True if ``stripped`` maps exactly what ``original`` maps, and legally.

    Every load segment keeps its address, sizes and flags, and its file offset
    stays congruent to its address modulo its alignment (what the loader checks).
    """
    if len(original.segments) != len(stripped.segments):
        return False
    for a, b in zip(original.segments, stripped.segments, strict=True):
        if (a.vaddr, a.filesz, a.memsz, a.flags) != (b.vaddr, b.filesz, b.memsz, b.flags):
            return False
        if b.align > 1 and (b.offset - b.vaddr) % b.align:
            return False
    return True


_SHF_ALLOC = 0x2
_SHT_NOBITS = 8


def _droppable(name: str) -> bool:
    return name in (".symtab", ".strtab") or name.startswith((".debug", ".zdebug"))


def compact_elf(data: bytes) -> bytes | None:
    """``data`` without its symbol table and debug sections, every other byte kept and
    moved only by whole pages; None if there is nothing to drop or the file is unusual.

    For the libraries binutils' strip breaks (see above): patchelf put load
    segments *after* the debug sections, and strip does not move them right.
    Here the file is cut into blocks that must stay whole (the headers, every
    segment's bytes, every kept section, the section header table); the
    blocks keep their order and each moves down by a multiple of the load
    alignment (of 8 for blocks outside every load segment), so every offset
    stays congruent to its address. Headers are rewritten to the new offsets;
    dropped sections stay in the table with size 0, so no index changes.
    """
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    try:
        phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 0x36)
        if not shoff or not shnum or shstrndx >= shnum or phentsize < 56 or shentsize < 64:
            return None
        phdrs = [struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize) for i in range(phnum)]
        shdrs = [
            list(struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize))
            for i in range(shnum)
        ]
        str_off = shdrs[shstrndx][4]

        def name(sh: list[int]) -> str:
            start = str_off + sh[0]
            return data[start : data.index(b"\0", start)].decode("ascii", "replace")

        names = [name(sh) for sh in shdrs]
    except (struct.error, ValueError):
        return None
    loads = [(p[2], p[2] + p[5], p[7]) for p in phdrs if p[0] == _PT_LOAD]
    page = max([a for _, _, a in loads] + [4096])
    dropped = {
        i
        for i, sh in enumerate(shdrs)
        if i and i != shstrndx and sh[5] and sh[1] != _SHT_NOBITS
        and not sh[2] & _SHF_ALLOC and _droppable(names[i])
        and not any(p[2] < sh[4] + sh[5] and sh[4] < p[2] + p[5] for p in phdrs if p[5])
    }  # fmt: skip
    if not dropped:
        return None
    keep = [(0, 64), (phoff, phoff + phnum * phentsize), (shoff, shoff + shnum * shentsize)]
    keep += [(p[2], p[2] + p[5]) for p in phdrs if p[5]]
    keep += [
        (sh[4], sh[4] + sh[5])
        for i, sh in enumerate(shdrs)
        if i and i not in dropped and sh[5] and sh[1] != _SHT_NOBITS
    ]
    blocks: list[list[int]] = []
    for start, end in sorted(keep):
        if blocks and start <= blocks[-1][1]:
            blocks[-1][1] = max(blocks[-1][1], end)
        else:
            blocks.append([start, end])
    if blocks[-1][1] > len(data):
        return None
    moved: list[tuple[int, int, int]] = []  # (old start, old end, new start)
    cur = 0
    for start, end in blocks:
        align = page if any(a < end and start < b for a, b, _ in loads) else 8
        new = cur + (start - cur) % align
        moved.append((start, end, new))
        cur = new + end - start
    out = bytearray(cur)
    for start, end, new in moved:
        out[new : new + end - start] = data[start:end]

    def at(offset: int) -> int:
        """The new place of an old offset; one between blocks goes with the next block."""
        for start, end, new in moved:
            if start <= offset <= end:
                return new + offset - start
            if offset < start:
                return new
        return cur

    new_phoff, new_shoff = at(phoff), at(shoff)
    struct.pack_into("<QQ", out, 0x20, new_phoff, new_shoff)
    for i, p in enumerate(phdrs):
        struct.pack_into("<Q", out, new_phoff + i * phentsize + 8, at(p[2]))
    for i, sh in enumerate(shdrs):
        sh[4] = at(sh[4])
        if i in dropped:
            sh[5] = 0
        struct.pack_into("<IIQQQQIIQQ", out, new_shoff + i * shentsize, *sh)
    return bytes(out)


def _has_integrity_file(path: Path) -> bool:
    """FIPS-style checksum files (``.libgcrypt.so.20.hmac``): the library must stay as it is
    (PyInstaller's own rule)."""
    return path.with_name(f".{path.name}.hmac").is_file() or path.with_suffix(".chk").is_file()


@dataclass(frozen=True, slots=True)
class StripResult:
    name: str
    before: int
    after: int  # == before: kept as it was
    note: str  # "stripped", "no symbols", "layout changed: kept", ...


def strip_binaries(
    toc: Iterable[TocEntry], folder: Path, tool: str = "strip"
) -> tuple[list[TocEntry], list[StripResult]]:
    """Strip the binaries of ``toc`` that carry symbols into ``folder``; returns the toc
    pointing at the stripped copies, and what happened to each binary.

    ``strip --strip-unneeded`` (what Debian does to shared libraries): the
    dynamic symbols stay. A copy whose load segments differ from the original
    (see :func:`same_load_layout`) is thrown away and the original is used.
    """
    out: list[TocEntry] = []
    results: list[StripResult] = []
    for entry in toc:
        name, source, kind = entry
        if kind not in ("BINARY", "EXTENSION"):
            out.append(entry)
            continue
        src = Path(source)
        before = src.stat().st_size
        info = read_elf(src)
        note = ""
        if info is None:
            note = "not ELF64"
        elif not info.has_symbols:
            note = "no symbols"
        elif _has_integrity_file(src):
            note = "checksum file: kept"
        if note:
            out.append(entry)
            results.append(StripResult(name, before, before, note))
            continue
        assert info is not None
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [tool, "--strip-unneeded", "-o", str(target), str(src)],
            capture_output=True,
            text=True,
            check=False,
        )
        stripped = read_elf(target) if done.returncode == 0 else None
        note = "stripped"
        if stripped is None or not same_load_layout(info, stripped):
            # strip would move a load segment (patchelf-repaired): cut the symbols out
            # without moving anything the loader maps, or keep the original.
            compact = compact_elf(src.read_bytes())
            if compact is not None:
                target.write_bytes(compact)
                stripped = read_elf(target)
            if compact is None or stripped is None or not same_load_layout(info, stripped):
                target.unlink(missing_ok=True)
                out.append(entry)
                note = "strip failed: kept" if done.returncode else "layout changed: kept"
                results.append(StripResult(name, before, before, note))
                continue
            note = "symbols cut out (strip would move segments)"
        os.chmod(target, 0o755)
        out.append((name, str(target), kind))
        results.append(StripResult(name, before, target.stat().st_size, note))
    return out, results


def version_tuple(version: str) -> tuple[int, int, int, int]:
    """``"1.2.3"`` → ``(1, 2, 3, 0)``, for Windows' fixed four-number file version."""
    numbers = []
    for part in version.split(".")[:4]:
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        numbers.append(int(digits or 0))
    while len(numbers) < 4:
        numbers.append(0)
    return (numbers[0], numbers[1], numbers[2], numbers[3])


def windows_version_info(version: str) -> str:
    """The text of a PyInstaller version file (``EXE(version=...)``) for ``version``."""
    numbers = version_tuple(version)
    strings = {
        "CompanyName": "conference-gui",
        "FileDescription": "conference-gui meeting client",
        "FileVersion": version,
        "InternalName": APP_NAME,
        "OriginalFilename": f"{APP_NAME}.exe",
        "ProductName": "conference-gui",
        "ProductVersion": version,
    }
    structs = ",\n".join(
        f"          StringStruct({key!r}, {value!r})" for key, value in strings.items()
    )
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={numbers},
    prodvers={numbers},
    mask=0x3f,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0)
  ),
  kids=[
    StringFileInfo([
      StringTable(
        '040904B0',
        [
{structs}
        ])
    ]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
