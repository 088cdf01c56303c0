"""Stand-in libraries for the ones the bundle must link but the app never calls.

PyAV's libavcodec links every codec library FFmpeg was built with (x265,
SVT-AV1, dav1d, ...), numpy links OpenBLAS, Qt's FFmpeg camera back end links
Qt Quick for one ``qobject_cast``. The loader needs those files and the
symbols the bundle imports from them, nothing more. A *stub* is a tiny
library with the same soname and version nodes that defines exactly the
symbols the rest of the bundle imports from the original: each function
writes ``conference-gui: <symbol> (<library>) is not in this bundle`` to
stderr and aborts, each data object is zeroed memory of the original's size.
A few functions are *probes* that a library's user calls to ask whether a
feature is there (FFmpeg's libx265 wrapper asks ``x265_api_get`` for each bit
depth when the codec list is first built): they answer 0 ("not available")
without a word. ``docs/PACKAGING.md`` ("Size") lists the stubs,
what each saves, and what would abort.

Linux (ELF64, little-endian) only; building a stub needs a C compiler.
Nothing here imports PyInstaller.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_SHT_DYNSYM = 11
_SHT_DYNAMIC = 6
_SHT_GNU_VERDEF = 0x6FFFFFFD
_SHT_GNU_VERNEED = 0x6FFFFFFE
_SHT_GNU_VERSYM = 0x6FFFFFFF
_DT_NEEDED = 1
_DT_SONAME = 14
_STT_OBJECT = 1
_STT_FUNC = 2
_STT_TLS = 6
_STT_GNU_IFUNC = 10
_VER_FLG_BASE = 1
_SHN_ABS = 0xFFF1


@dataclass(frozen=True, slots=True)
class Export:
    """A symbol a library defines for others."""

    name: str
    kind: str  # "function" or "object"
    size: int
    version: str | None  # None: unversioned
    default: bool = True  # name@@version (False: name@version, an older one kept for old users)


@dataclass(frozen=True, slots=True)
class Import:
    name: str
    version: str | None
    file: str | None  # the soname the version is required from


@dataclass(slots=True)
class DynamicInfo:
    """What the dynamic loader sees of one shared object."""

    soname: str | None = None
    needed: list[str] = field(default_factory=list)
    exports: dict[str, Export] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)
    version_nodes: list[str] = field(default_factory=list)  # defined, in order, base excluded


def _cstr(data: bytes, offset: int) -> str:
    return data[offset : data.index(b"\0", offset)].decode("utf-8", "replace")


def read_dynamic(path: Path) -> DynamicInfo | None:
    """Soname, ``DT_NEEDED``, exported and imported dynamic symbols with their versions
    of a 64-bit little-endian ELF file; None for anything else."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    try:
        return _parse_dynamic(data)
    except (struct.error, ValueError, IndexError):
        return None


def _parse_dynamic(data: bytes) -> DynamicInfo:
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
    ]

    def by_type(kind: int) -> tuple[int, ...] | None:
        return next((s for s in sections if s[1] == kind), None)

    def strings(section: tuple[int, ...]) -> int:
        return int(sections[section[6]][4])  # sh_link's section offset

    info = DynamicInfo()
    dynamic = by_type(_SHT_DYNAMIC)
    if dynamic is not None:
        base = strings(dynamic)
        for off in range(dynamic[4], dynamic[4] + dynamic[5], 16):
            tag, value = struct.unpack_from("<qQ", data, off)
            if tag == _DT_NEEDED:
                info.needed.append(_cstr(data, base + value))
            elif tag == _DT_SONAME:
                info.soname = _cstr(data, base + value)

    versions: dict[int, str] = {}  # version index -> name (defined or needed)
    needed_from: dict[int, str] = {}  # version index -> the file it is needed from
    verdef = by_type(_SHT_GNU_VERDEF)
    if verdef is not None:
        base, off = strings(verdef), verdef[4]
        for _ in range(verdef[7]):  # sh_info: number of entries
            _ver, flags, ndx, _cnt, _hash, aux, nxt = struct.unpack_from("<HHHHIII", data, off)
            name = _cstr(data, base + struct.unpack_from("<I", data, off + aux)[0])
            if not flags & _VER_FLG_BASE:
                versions[ndx] = name
                info.version_nodes.append(name)
            if not nxt:
                break
            off += nxt
    verneed = by_type(_SHT_GNU_VERNEED)
    if verneed is not None:
        base, off = strings(verneed), verneed[4]
        for _ in range(verneed[7]):
            _ver, cnt, file_off, aux, nxt = struct.unpack_from("<HHIII", data, off)
            file = _cstr(data, base + file_off)
            a = off + aux
            for _ in range(cnt):
                _hash, _flags, other, name_off, anext = struct.unpack_from("<IHHII", data, a)
                versions[other] = _cstr(data, base + name_off)
                needed_from[other] = file
                a += anext
            if not nxt:
                break
            off += nxt

    dynsym = by_type(_SHT_DYNSYM)
    if dynsym is None:
        return info
    versym = by_type(_SHT_GNU_VERSYM)
    base = strings(dynsym)
    for i in range(1, dynsym[5] // 24):
        name_off, st_info, _other, shndx, _value, size = struct.unpack_from(
            "<IBBHQQ", data, dynsym[4] + i * 24
        )
        name = _cstr(data, base + name_off)
        vs = struct.unpack_from("<H", data, versym[4] + i * 2)[0] if versym else 1
        index, hidden = vs & 0x7FFF, bool(vs & 0x8000)
        kind, bind = st_info & 0xF, st_info >> 4
        if shndx == 0:
            if name and bind in (1, 2):  # global or weak reference
                info.imports.append(Import(name, versions.get(index), needed_from.get(index)))
            continue
        if bind not in (1, 2, 10) or kind not in (_STT_OBJECT, _STT_FUNC, _STT_TLS, _STT_GNU_IFUNC):
            continue  # locals, and the linker's own markers (_end, _edata: no type)
        if shndx == _SHN_ABS and name in info.version_nodes:
            continue  # a version node's own marker symbol
        if kind == _STT_TLS:
            raise ValueError(f"{name}: thread-local data cannot be stubbed")
        export = Export(
            name,
            "object" if kind == _STT_OBJECT else "function",
            size,
            versions.get(index),
            not hidden,
        )
        if export.default or name not in info.exports:
            info.exports[name] = export
    return info


def imported_from(library: DynamicInfo, users: Iterable[DynamicInfo]) -> list[Export]:
    """The exports of ``library`` that ``users`` import, in a stable order.

    A versioned import counts only if its version is required from this library's
    soname; an unversioned one matches by name (the loader would bind it so)."""
    wanted: set[str] = set()
    for user in users:
        for imp in user.imports:
            export = library.exports.get(imp.name)
            if export is None:
                continue
            if imp.version is not None and imp.file not in (None, library.soname):
                continue
            wanted.add(imp.name)
    return [library.exports[n] for n in sorted(wanted)]


def stub_sources(
    soname: str,
    exports: Iterable[Export],
    bodies: Mapping[str, str],
    version_nodes: Iterable[str],
) -> tuple[str, str | None]:
    """C source and version script (None if the original had no versions) of a stub.

    ``bodies`` maps a function to the C statements it runs instead of aborting; its
    parameters are not declared, so a body may only ``return`` a constant, or be a
    whole definition (starting with the return type) that names the function by
    ``SYMBOL``, which is replaced by a C name bound to the symbol."""
    exports = list(exports)
    lines = [
        "/* Generated by packaging/stubs.py: a stand-in for " + soname + ". */",
        "#include <stdlib.h>",
        "#include <string.h>",
        "#include <unistd.h>",
        f'static const char lib[] = "{soname}";',
        "static void say(const char *s) { if (write(2, s, strlen(s)) < 0) { } }",
        "static long missing(const char *name) {",
        '    say("conference-gui: "); say(name); say(" ("); say(lib);',
        '    say(") is not in this bundle\\n");',
        "    abort();",
        "}",
    ]
    symver: list[str] = []
    for i, e in enumerate(exports):
        label = e.name.replace("\\", "\\\\").replace('"', '\\"')
        impl = f"stub_{i}"
        asm_name = label if e.default or e.version is None else impl
        if e.kind == "object":
            size = max(e.size, 1)
            lines.append(
                f'__attribute__((aligned(16))) char {impl}[{size}] __asm__("{asm_name}");'
            )
        elif "SYMBOL" in bodies.get(e.name, ""):
            definition = bodies[e.name].replace("SYMBOL", impl)
            lines.append(definition.split("{", 1)[0].strip() + f' __asm__("{asm_name}");')
            lines.append(definition)
        else:
            body = bodies.get(e.name, f'return missing("{label}");')
            lines.append(f'long {impl}(void) __asm__("{asm_name}");')
            lines.append(f"long {impl}(void) {{ {body} }}")
        if not e.default and e.version is not None:
            symver.append(f'__asm__(".symver {impl}, {label}@{e.version}");')
    lines.extend(symver)
    nodes = list(dict.fromkeys(version_nodes))
    if not nodes:
        return "\n".join(lines) + "\n", None
    members: dict[str, list[str]] = {n: [] for n in nodes}
    for e in exports:
        if e.version is not None and e.default:
            members.setdefault(e.version, []).append(e.name)
    script = []
    names = list(members)
    for n in names:
        body = "".join(f"    {s};\n" for s in members[n])
        local = "  local: *;\n" if n == names[-1] else ""
        script.append(f"{n} {{\n  global:\n{body}{local}}};" if body else f"{n} {{\n{local}}};")
    return "\n".join(lines) + "\n", "\n".join(script) + "\n"


def build_stub(
    original: Path,
    users: Iterable[DynamicInfo],
    out: Path,
    bodies: Mapping[str, str] | None = None,
    cc: str = "cc",
) -> list[Export]:
    """Write a stub of ``original`` to ``out`` holding what ``users`` import from it.

    Returns the symbols it defines. Raises ``ValueError`` for a file that cannot be
    stubbed and ``RuntimeError`` if the compiler fails."""
    library = read_dynamic(original)
    if library is None or library.soname is None:
        raise ValueError(f"{original}: not a shared library with a soname")
    exports = imported_from(library, users)
    source, script = stub_sources(library.soname, exports, bodies or {}, library.version_nodes)
    out.parent.mkdir(parents=True, exist_ok=True)
    c_file = out.with_name(out.name + ".c")
    c_file.write_text(source, encoding="utf-8")
    command = [cc, "-shared", "-fPIC", "-O1", "-s", f"-Wl,-soname,{library.soname}"]
    if script is not None:
        map_file = out.with_name(out.name + ".map")
        map_file.write_text(script, encoding="utf-8")
        command.append(f"-Wl,--version-script={map_file}")
    command += ["-o", str(out), str(c_file)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"stub of {library.soname}: {done.stderr.strip()[-2000:]}")
    return exports

