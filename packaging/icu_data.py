"""ICU's data library, cut down to what Qt asks of ICU.

PySide6's wheel brings ICU with its whole data package (``libicudata.so.73``,
31 MB): every locale's names of languages, regions, currencies and units,
break-iteration dictionaries, transliterators, spelled-out numbers. Qt 6
formats numbers and dates from its own CLDR tables; ``libQt6Core`` calls ICU
only for collation (``ucol_*``: ``QCollator``, sorting in file dialogs), legacy
text encodings (``ucnv_*``: ``QStringConverter``), case mapping
(``u_strToUpper``/``Lower``) and time-zone display names (``ucal_*``). So the
bundle's data package keeps the collation tree, every converter, the
normalisation and property files and the supplemental tables, and drops the
trees nothing in Qt opens (``DROPPED_TREES``), the per-locale bundles of the
main tree (calendar and number formats: Qt's own) and the time-zone names
(``QTimeZone::displayName`` then answers from Qt's own data, as on systems
built without ICU).

The library is rebuilt from the trimmed package: one read-only symbol
``icudtNN_dat`` holding it, as ICU's own ``pkgdata`` makes it. Linux only.
"""

from __future__ import annotations

import re
import struct
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

# Trees of the package (the folder inside icudtNNl/) nothing Qt calls reads.
DROPPED_TREES: tuple[str, ...] = (
    "brkitr",  # break iterators and their dictionaries (Qt segments text itself)
    "curr",  # currency names
    "lang",  # language names
    "region",  # region names
    "unit",  # unit names
    "rbnf",  # spelled-out numbers
    "translit",  # transliterators
    "zone",  # time-zone names
)
# A locale bundle of the main tree ("de.res", "zh_Hant_HK.res"), as opposed to
# the shared tables beside them (root, pool, supplementalData, zoneinfo64, ...).
_LOCALE_BUNDLE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]+)*\.res")
_ALIGN = 16
_FILL = b"\xaa"  # what ICU's own package tool pads with


def dropped(item: str) -> bool:
    """``item`` is a package path such as ``icudt73l/coll/de.res``."""
    parts = item.split("/")
    if len(parts) > 2:
        return parts[1] in DROPPED_TREES
    return bool(_LOCALE_BUNDLE.fullmatch(parts[-1]))


def read_package(data: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The header and the (name, bytes) items of an ICU common data package ("CmnD")."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", data, 0)
    if (magic1, magic2) != (0xDA, 0x27) or data[12:16] != b"CmnD" or data[8] != 0:
        raise ValueError("not a little-endian ICU common data package")
    count = struct.unpack_from("<I", data, header_size)[0]
    entries = [struct.unpack_from("<II", data, header_size + 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_off, data_off) in enumerate(entries):
        start = header_size + name_off
        name = data[start : data.index(b"\0", start)].decode("ascii")
        end = header_size + entries[i + 1][1] if i + 1 < count else len(data)
        items.append((name, data[header_size + data_off : end]))
    return data[:header_size], items


def write_package(header: bytes, items: Iterable[tuple[str, bytes]]) -> bytes:
    """A package holding ``items`` (kept in name order: ICU searches the table by halves)."""
    items = sorted(items)
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    toc_size = 4 + 8 * len(items)
    offset = _pad(toc_size + len(names))
    table = [struct.pack("<I", len(items))]
    body = []
    name_off = toc_size
    for name, blob in items:
        table.append(struct.pack("<II", name_off, offset))
        name_off += len(name) + 1
        body.append(blob + _FILL * (_pad(len(blob)) - len(blob)))
        offset += _pad(len(blob))
    toc = b"".join(table) + names
    return header + toc + _FILL * (_pad(len(toc)) - len(toc)) + b"".join(body)


def _pad(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def extract(library: Path) -> tuple[str, bytes]:
    """The data symbol's name (``icudt73_dat``) and its bytes, from ``libicudataNN``."""
    data = library.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError(f"{library}: not a 64-bit little-endian ELF file")
    symbol, value, size = _data_symbol(data)
    start = _file_offset(data, value)
    return symbol, data[start : start + size]


def _data_symbol(data: bytes) -> tuple[str, int, int]:
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for i in range(shnum):
        sh = struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
        if sh[1] != 11:  # SHT_DYNSYM
            continue
        strtab = struct.unpack_from("<Q", data, shoff + sh[6] * shentsize + 0x18)[0]
        for off in range(sh[4], sh[4] + sh[5], 24):
            name_off, _info, _other, _shndx, value, size = struct.unpack_from("<IBBHQQ", data, off)
            end = data.index(b"\0", strtab + name_off)
            name = data[strtab + name_off : end].decode("ascii", "replace")
            if re.fullmatch(r"icudt\d+_dat", name):
                return name, value, size
    raise ValueError("no icudtNN_dat symbol")


def _file_offset(data: bytes, vaddr: int) -> int:
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _f, p_offset, p_vaddr, _pa, p_filesz, _m, _a = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize
        )
        if p_type == 1 and p_vaddr <= vaddr < p_vaddr + p_filesz:
            return p_offset + vaddr - p_vaddr
    raise ValueError(f"address {vaddr:#x} is in no loaded segment")


def trim_library(
    library: Path,
    out: Path,
    drop: Callable[[str], bool] = dropped,
    cc: str = "cc",
) -> tuple[int, int]:
    """Write ``library`` without the items ``drop`` selects to ``out`` (same soname: its
    file name); returns the package's item counts (before, after)."""
    soname = library.name
    symbol, package = extract(library)
    header, items = read_package(package)
    kept = [(name, blob) for name, blob in items if not drop(name)]
    out.parent.mkdir(parents=True, exist_ok=True)
    dat = out.with_name(out.name + ".dat")
    dat.write_bytes(write_package(header, kept))
    asm = out.with_name(out.name + ".S")
    asm.write_text(
        "\t.section .rodata\n"
        f"\t.globl {symbol}\n"
        f"\t.type {symbol}, @object\n"
        "\t.balign 16\n"
        f"{symbol}:\n"
        f'\t.incbin "{dat.name}"\n'
        f"\t.size {symbol}, . - {symbol}\n"
        '\t.section .note.GNU-stack,"",@progbits\n',
        encoding="ascii",
    )
    done = subprocess.run(
        [cc, "-shared", "-nostdlib", "-s", f"-Wl,-soname,{soname}", "-o", str(out), asm.name],
        cwd=asm.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{soname}: {done.stderr.strip()[-2000:]}")
    return len(items), len(kept)
