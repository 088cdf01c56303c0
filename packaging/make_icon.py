"""Render the application icon from ``resources/icons/participants.svg``.

Usage: ``python packaging/make_icon.py OUT_DIR`` writes

* ``conference-gui.png``  256×256, for Linux desktop files and the about box;
* ``conference-gui.ico``  16…256 px, PNG-compressed entries (Windows ``EXE(icon=...)``);
* ``conference-gui.icns`` when Qt's icns image plugin can write it (macOS ``BUNDLE``).

The glyph is one of the app's own stroke icons drawn in white on a rounded
accent-coloured square; every size is rendered from the SVG at that size, so
small sizes stay crisp. The spec runs this at build time, so no binary icon is
committed. Qt runs offscreen: no display needed.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QImageWriter, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
GLYPH = ROOT / "resources" / "icons" / "participants.svg"
BACKGROUND = QColor("#2f6fdf")
FOREGROUND = QColor("#ffffff")
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
NAME = "conference-gui"


def render(size: int, glyph: Path = GLYPH) -> QImage:
    """The icon at ``size``×``size`` pixels (ARGB32, premultiplied)."""
    renderer = QSvgRenderer(str(glyph))
    if not renderer.isValid():
        raise ValueError(f"not a valid SVG: {glyph}")

    # The glyph alone, then recoloured: its strokes are black in the file.
    margin = size * 0.2
    glyph_image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    glyph_image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(glyph_image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(glyph_image.rect(), FOREGROUND)
    painter.end()

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(BACKGROUND)
    radius = size * 0.22
    painter.drawRoundedRect(QRectF(0, 0, size, size), radius, radius)
    painter.drawImage(0, 0, glyph_image)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(b"PNG"))
    if not writer.write(image):
        raise OSError(f"could not encode PNG: {writer.errorString()}")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding one PNG-compressed image per size (Vista and later)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    entries = b""
    blobs = b""
    offset = 6 + 16 * len(pngs)
    for size, blob in sorted(pngs.items()):
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def write_icons(out_dir: Path) -> list[Path]:
    """Write the icon files into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = {size: png_bytes(render(size)) for size in ICO_SIZES}
    written = []

    png = out_dir / f"{NAME}.png"
    png.write_bytes(pngs[256])
    written.append(png)

    ico = out_dir / f"{NAME}.ico"
    ico.write_bytes(ico_bytes(pngs))
    written.append(ico)

    icns = out_dir / f"{NAME}.icns"
    if b"icns" in {bytes(f.data()) for f in QImageWriter.supportedImageFormats()}:
        writer = QImageWriter(str(icns), b"icns")
        if writer.write(render(512)):
            written.append(icns)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: make_icon.py OUT_DIR", file=sys.stderr)
        return 2
    app = QGuiApplication.instance() or QGuiApplication([])
    for path in write_icons(Path(argv[0])):
        print(path)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
