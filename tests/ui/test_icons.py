"""Icons: every SVG loads from the installed package, renders crisp and follows the palette."""

from __future__ import annotations

import gc
import importlib.resources

import pytest
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap

from conference_gui.ui.icons import file_type_icon_name, icon, icon_names

REQUIRED = {
    "resources", "participants", "chat", "polls", "raise-hand", "leave", "upload", "download",
    "delete", "copy", "check", "close", "warning", "info",
    "file-generic", "file-image", "file-pdf", "file-text", "file-archive", "file-audio",
    "file-video", "file-code", "file-spreadsheet", "file-presentation",
}  # fmt: skip
ALL_ICONS = sorted(icon_names())
OOXML = "application/vnd.openxmlformats-officedocument"


def _palette(window: str, text: str, disabled_text: str) -> QPalette:
    palette = QPalette(QColor(window))
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        palette.setColor(group, QPalette.ColorRole.WindowText, QColor(text))
    palette.setColor(
        QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor(disabled_text)
    )
    return palette


LIGHT = ("#f5f5f5", "#1a1a1a", "#9a9a9a")
DARK = ("#202124", "#e8eaed", "#5f6368")


def _opaque_colors(pixmap: QPixmap) -> set[str]:
    """Colours of the fully opaque pixels (the stroke cores, free of antialiasing)."""
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_ARGB32)
    found: set[str] = set()
    for y in range(image.height()):
        for x in range(image.width()):
            color = image.pixelColor(x, y)
            if color.alpha() == 255:
                found.add(color.name())
    return found


def _coverage(pixmap: QPixmap) -> int:
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_ARGB32)
    return sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() > 0
    )


def test_every_required_icon_ships_in_the_package() -> None:
    assert set(ALL_ICONS) >= REQUIRED
    folder = importlib.resources.files("conference_gui.assets") / "icons"
    for name in REQUIRED:
        svg = (folder / f"{name}.svg").read_text(encoding="utf-8")
        assert 'viewBox="0 0 24 24"' in svg
        assert "#000000" in svg  # single recolourable ink


@pytest.mark.parametrize("name", ALL_ICONS)
def test_icon_renders_at_every_size_and_scale(qapp: QGuiApplication, name: str) -> None:
    ico = icon(name, _palette(*LIGHT))
    assert not ico.isNull()
    for side in (16, 48):
        for dpr in (1.0, 2.0):
            pixmap = ico.pixmap(QSize(side, side), dpr)
            assert pixmap.devicePixelRatio() == dpr
            # Rendered at the device size, not scaled up from a smaller one.
            assert pixmap.size() == QSize(round(side * dpr), round(side * dpr))
            covered = _coverage(pixmap)
            assert 0 < covered < pixmap.width() * pixmap.height(), (name, side, dpr)


@pytest.mark.parametrize("name", ["resources", "raise-hand", "file-pdf"])
def test_stroke_colour_follows_the_palette(qapp: QGuiApplication, name: str) -> None:
    light = _palette(*LIGHT)
    dark = _palette(*DARK)
    light_ink = _opaque_colors(icon(name, light).pixmap(48))
    dark_ink = _opaque_colors(icon(name, dark).pixmap(48))
    assert light_ink == {QColor(LIGHT[1]).name()}
    assert dark_ink == {QColor(DARK[1]).name()}

    disabled = icon(name, dark).pixmap(QSize(48, 48), QIcon.Mode.Disabled)
    assert _opaque_colors(disabled) == {QColor(DARK[2]).name()}


def test_icon_without_palette_follows_the_application_palette(qapp: QGuiApplication) -> None:
    original = QGuiApplication.palette()
    try:
        for colors in (LIGHT, DARK):
            QGuiApplication.setPalette(_palette(*colors))
            assert _opaque_colors(icon("chat").pixmap(32)) == {QColor(colors[1]).name()}
    finally:
        QGuiApplication.setPalette(original)


def test_paint_uses_the_device_pixel_ratio(qapp: QGuiApplication) -> None:
    """QIcon.paint (what styles call) renders at the painter's device pixel ratio."""
    image = QImage(96, 96, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(2.0)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    icon("close", _palette(*LIGHT)).paint(painter, QRect(0, 0, 48, 48))
    painter.end()
    # The 48-logical-pixel icon fills the 96-device-pixel image: the cross runs
    # from (6, 6) to (18, 18) in SVG units, i.e. device pixels 24..72.
    assert image.pixelColor(28, 28).alpha() == 255
    assert image.pixelColor(68, 68).alpha() == 255
    assert image.pixelColor(68, 28).alpha() == 255
    assert image.pixelColor(48, 12).alpha() == 0
    assert image.pixelColor(16, 16).alpha() == 0
    # Rendered at 96 device pixels, not a 48 px pixmap scaled up.
    crisp = icon("close", _palette(*LIGHT)).pixmap(QSize(48, 48), 2.0).toImage()
    assert image.convertToFormat(crisp.format()) == crisp


def test_icons_are_cached_per_name_and_colour(qapp: QGuiApplication) -> None:
    light = _palette(*LIGHT)
    assert icon("chat", light).cacheKey() == icon("chat", _palette(*LIGHT)).cacheKey()
    assert icon("chat", light).cacheKey() != icon("chat", _palette(*DARK)).cacheKey()


def test_detached_copy_keeps_working(qapp: QGuiApplication) -> None:
    """QIcon.addPixmap on a copy detaches it (QIconEngine.clone) without crashing."""
    copy = QIcon(icon("chat", _palette(*LIGHT)))
    extra = QPixmap(8, 8)
    extra.fill(Qt.GlobalColor.red)
    copy.addPixmap(extra, QIcon.Mode.Active)
    gc.collect()
    assert _opaque_colors(copy.pixmap(24)) == {QColor(LIGHT[1]).name()}
    del copy
    gc.collect()
    assert not icon("chat", _palette(*LIGHT)).pixmap(24).isNull()


def test_unknown_icon_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="no-such-icon") as excinfo:
        icon("no-such-icon")
    assert "raise-hand" in str(excinfo.value)
    assert "file-pdf" in str(excinfo.value)


@pytest.mark.parametrize(
    ("content_type", "filename", "expected"),
    [
        ("image/png", "photo.png", "file-image"),
        ("image/heic", "IMG_0001", "file-image"),
        ("application/octet-stream", "scan.JPG", "file-image"),
        ("application/pdf", "slides.pdf", "file-pdf"),
        ("application/pdf", "noextension", "file-pdf"),
        ("text/plain; charset=utf-8", "notes.txt", "file-text"),
        ("text/plain", "README", "file-text"),
        (f"{OOXML}.wordprocessingml.document", "a.docx", "file-text"),
        ("application/zip", "bundle.zip", "file-archive"),
        ("application/gzip", "backup.tar.gz", "file-archive"),
        ("", "logs.7z", "file-archive"),
        ("audio/mpeg", "song.mp3", "file-audio"),
        ("audio/ogg", "x", "file-audio"),
        ("video/mp4", "talk.mp4", "file-video"),
        ("", "clip.MKV", "file-video"),
        ("text/x-python", "main.py", "file-code"),
        ("application/json", "data.json", "file-code"),
        ("application/ld+json", "x", "file-code"),
        ("text/csv", "table.csv", "file-spreadsheet"),
        ("application/vnd.ms-excel", "old", "file-spreadsheet"),
        (f"{OOXML}.presentationml.presentation", "deck", "file-presentation"),
        ("", "deck.odp", "file-presentation"),
        ("application/octet-stream", "blob.bin", "file-generic"),
        ("", "", "file-generic"),
        ("application/x-unknown", "weird.name.", "file-generic"),
        ("APPLICATION/PDF", "C:\\Users\\me\\Report", "file-pdf"),
    ],
)  # fmt: skip
def test_file_type_icon_name(content_type: str, filename: str, expected: str) -> None:
    assert file_type_icon_name(content_type, filename) == expected
    assert expected in icon_names()
