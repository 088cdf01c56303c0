"""Stub libraries and ICU's trimmed data (packaging/stubs.py, packaging/icu_data.py):
real shared objects made by the C compiler, loaded by the real dynamic loader."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.packaging.support import load_packaging_module

stubs = load_packaging_module("stubs")
layout = load_packaging_module("bundle_layout")
icu_data = load_packaging_module("icu_data")

ORIGINAL = """
int work(int x) { return x * 2; }
int probe(void) { return 7; }
int unused(void) { return 1; }
int table[256] = {1};
"""
USER = """
extern int work(int); extern int probe(void); extern int table[256];
int use_probe(void) { return probe(); }
int use_work(void) { return work(table[0]); }
"""


def cc() -> str:
    found = shutil.which("cc") or shutil.which("gcc")
    if found is None or not sys.platform.startswith("linux"):
        pytest.fail("stubs are built with a C compiler on Linux (Debian: gcc)")
    return found


def build(folder: Path, name: str, source: str, *flags: str) -> Path:
    c = folder / f"{name}.c"
    c.write_text(source)
    out = folder / name
    subprocess.run([cc(), "-shared", "-fPIC", "-o", str(out), str(c), *flags], check=True)
    return out


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """liborig.so.1 (versioned ORIG_1) and libuser.so, which imports three of its four symbols."""
    (tmp_path / "orig.map").write_text(
        "ORIG_1 { global: work; probe; unused; table; local: *; };\n"
    )
    original = build(
        tmp_path, "liborig.so.1", ORIGINAL,
        "-Wl,-soname,liborig.so.1", f"-Wl,--version-script={tmp_path / 'orig.map'}",
    )
    user = build(
        tmp_path, "libuser.so", USER, f"-L{tmp_path}", "-l:liborig.so.1", "-Wl,-rpath,$ORIGIN"
    )
    return original, user


def call(library: Path, function: str) -> subprocess.CompletedProcess[str]:
    code = f"import ctypes; print(ctypes.CDLL({str(library)!r}).{function}())"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_the_stub_defines_what_users_import_with_their_versions(pair: tuple[Path, Path]) -> None:
    original, user = pair
    users = [stubs.read_dynamic(user)]
    out = original.parent / "stub" / "liborig.so.1"
    defined = stubs.build_stub(original, users, out, {"probe": "return 0;"}, cc=cc())
    assert [e.name for e in defined] == ["probe", "table", "work"]  # not "unused"
    info = stubs.read_dynamic(out)
    assert info is not None and info.soname == "liborig.so.1"
    assert info.needed == ["libc.so.6"]
    assert {n: (e.kind, e.version) for n, e in info.exports.items()} == {
        "probe": ("function", "ORIG_1"),
        "work": ("function", "ORIG_1"),
        "table": ("object", "ORIG_1"),
    }
    assert info.exports["table"].size == 256 * 4


def test_a_stubbed_probe_answers_and_any_other_call_aborts_naming_itself(
    pair: tuple[Path, Path],
) -> None:
    """The user library loads against the stub; probe() says "not here" (0); work()
    aborts with a line that names the symbol and the library."""
    original, user = pair
    assert call(user, "use_work").stdout.strip() == "2"  # with the real library
    stub = original.parent / "stub.so"
    stubs.build_stub(original, [stubs.read_dynamic(user)], stub, {"probe": "return 0;"}, cc=cc())
    stub.replace(original)

    assert call(user, "use_probe").stdout.strip() == "0"
    aborted = call(user, "use_work")
    assert aborted.returncode == -6  # SIGABRT
    assert "conference-gui: work (liborig.so.1) is not in this bundle" in aborted.stderr


def test_the_blas_stub_computes_the_dot_products_numpy_needs(tmp_path: Path) -> None:
    """numpy's import checks ones(2, float32).dot(...) (and float64 dot products work
    too): the OpenBLAS stub's two loops give BLAS's answers, strides included."""
    source = "".join(
        f"{t} scipy_cblas_{p}dot64_(long n, const {t} *x, long ix, const {t} *y, long iy)"
        " { return -1; }\n"
        for t, p in (("float", "s"), ("double", "d"))
    )
    original = build(tmp_path, "libblas.so", source, "-Wl,-soname,libblas.so")
    user = build(
        tmp_path, "libuser.so",
        "float scipy_cblas_sdot64_(); double scipy_cblas_ddot64_();\n"
        "void *refs[] = { (void *)scipy_cblas_sdot64_, (void *)scipy_cblas_ddot64_ };\n",
        f"-L{tmp_path}", "-l:libblas.so",
    )
    stub = tmp_path / "stub" / "libblas.so"
    stubs.build_stub(original, [stubs.read_dynamic(user)], stub, layout.STUB_BODIES, cc=cc())
    code = textwrap.dedent(f"""
        import ctypes
        lib = ctypes.CDLL({str(stub)!r})
        kinds = (("scipy_cblas_sdot64_", ctypes.c_float), ("scipy_cblas_ddot64_", ctypes.c_double))
        for name, t in kinds:
            f = getattr(lib, name)
            f.restype = t
            p = ctypes.POINTER(t)
            f.argtypes = [ctypes.c_long, p, ctypes.c_long, p, ctypes.c_long]
            x = (t * 4)(1, 2, 3, 4)
            y = (t * 4)(5, 6, 7, 8)
            print(f(3, x, 1, y, 1), f(2, x, 2, y, 1), f(3, x, -1, y, 1), f(0, x, 1, y, 1))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # 1*5+2*6+3*7 = 38; x strided (1, 3): 1*5+3*6 = 23; x backwards (3, 2, 1): 15+12+7 = 34
    assert out.stdout.split("\n")[:2] == ["38.0 23.0 34.0 0.0", "38.0 23.0 34.0 0.0"]


def test_only_libraries_reached_through_a_stubbed_original_go() -> None:
    """ext -> libA (stubbed) -> libB -> libC; libD -> libC: libB goes, libC stays."""
    toc = [
        ("ext.so", "ext.so", "EXTENSION"),
        ("libA.so", "libA.so", "BINARY"),
        ("libB.so", "libB.so", "BINARY"),
        ("libC.so", "libC.so", "BINARY"),
        ("libD.so", "libD.so", "BINARY"),
        ("libB.so.link", "libB.so", "SYMLINK"),
    ]
    needs = {"ext.so": ["libA.so"], "libA.so": ["libB.so"], "libB.so": ["libC.so"],
             "libD.so": ["libC.so"], "libC.so": []}
    assert layout.orphans(toc, {"libA.so"}, lambda s: needs[s]) == {"libB.so"}
    assert layout.orphans(toc, set(), lambda s: needs[s]) == set()


def test_the_stub_list_is_what_the_spec_replaces() -> None:
    assert layout.is_stubbed("av.libs/libx265-f5385bb8.so.216")
    assert layout.is_stubbed("av.libs/libx264-d6533a8d.so.165")
    assert layout.is_stubbed("av.libs/libavformat-4639def2.so.62.12.102")
    assert not layout.is_stubbed("PySide6/Qt/lib/libavformat.so.61")  # Qt's FFmpeg stays
    assert not layout.is_stubbed("av.libs/libvpx-edb6de90.so.12.0.0")  # the call's codec
    assert not layout.is_stubbed("av.libs/libopus-114e2b1a.so.0.11.1")
    assert layout.is_system_library("libpulse.so.0")
    assert layout.is_icu_data("PySide6/Qt/lib/libicudata.so.73")


@pytest.mark.parametrize(
    ("item", "dropped"),
    [
        ("icudt73l/lang/de.res", True),
        ("icudt73l/brkitr/cjdict.dict", True),
        ("icudt73l/zone/fr.res", True),
        ("icudt73l/de.res", True),
        ("icudt73l/zh_Hant_HK.res", True),
        ("icudt73l/coll/de.res", False),
        ("icudt73l/coll/ucadata.icu", False),
        ("icudt73l/root.res", False),
        ("icudt73l/pool.res", False),
        ("icudt73l/supplementalData.res", False),
        ("icudt73l/zoneinfo64.res", False),
        ("icudt73l/ibm-943_P15A-2003.cnv", False),
        ("icudt73l/cnvalias.icu", False),
        ("icudt73l/nfc.nrm", False),
    ],
)
def test_icu_keeps_what_qt_asks_for(item: str, dropped: bool) -> None:
    assert icu_data.dropped(item) is dropped


def test_icu_data_is_rebuilt_with_the_kept_items(tmp_path: Path) -> None:
    """PySide6's own libicudata: its package read and written back is byte for byte the
    same; the trimmed library holds exactly the kept items, under the same symbol."""
    import PySide6

    original = Path(PySide6.__file__).parent / "Qt" / "lib" / "libicudata.so.73"
    symbol, package = icu_data.extract(original)
    assert symbol == "icudt73_dat"
    header, items = icu_data.read_package(package)
    assert icu_data.write_package(header, items) == package
    out = tmp_path / "libicudata.so.73"
    before, after = icu_data.trim_library(original, out, cc=cc())
    assert (before, after) == (len(items), sum(not icu_data.dropped(n) for n, _ in items))
    assert out.stat().st_size < original.stat().st_size / 2
    symbol2, package2 = icu_data.extract(out)
    assert symbol2 == symbol
    _, kept = icu_data.read_package(package2)
    assert kept == [(n, b) for n, b in items if not icu_data.dropped(n)]
    assert stubs.read_dynamic(out).soname == "libicudata.so.73"
