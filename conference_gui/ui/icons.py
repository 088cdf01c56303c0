"""Theme-aware SVG icons from ``conference_gui.assets/icons``.

The SVGs in ``resources/icons`` are single-colour 24×24 stroke drawings. They
are rendered with :class:`QSvgRenderer` at exactly the requested size ×
device-pixel ratio (so they are crisp at any scale) and then tinted with the
palette's text colour, so the same file reads well in light and dark themes.

``icon(name)`` follows the *application* palette live: the colour is looked
up when the icon is painted, so switching theme needs no reload.
``icon(name, palette)`` freezes the colours of that palette (for a widget
with its own palette).

Rendered pixmaps are kept in Qt's own :class:`QPixmapCache` (keyed by name,
colour, size, scale and mode); the parsed SVGs and ``QIcon`` objects are
cached per (name, colours).
"""

from __future__ import annotations

import functools
import importlib.resources
import posixpath
from dataclasses import dataclass
from typing import ClassVar

import shiboken6
from PySide6.QtCore import QByteArray, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QIcon,
    QIconEngine,
    QImage,
    QPainter,
    QPalette,
    QPixmap,
    QPixmapCache,
)
from PySide6.QtSvg import QSvgRenderer

__all__ = ["file_type_icon_name", "icon", "icon_names"]

_ICON_PACKAGE = "conference_gui.assets"
_ICON_FOLDER = "icons"

# Sizes advertised through QIcon.availableSizes(); the engine renders any size.
_NOMINAL_SIZES = (16, 24, 32, 48)


@functools.cache
def icon_names() -> frozenset[str]:
    """Names of every icon shipped in ``conference_gui.assets/icons``."""
    folder = importlib.resources.files(_ICON_PACKAGE) / _ICON_FOLDER
    return frozenset(
        entry.name.removesuffix(".svg")
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".svg")
    )


def _check_name(name: str) -> None:
    known = icon_names()
    if name not in known:
        raise KeyError(f"unknown icon {name!r}; known icons: {', '.join(sorted(known))}")


@functools.cache
def _svg_bytes(name: str) -> bytes:
    _check_name(name)
    resource = importlib.resources.files(_ICON_PACKAGE) / _ICON_FOLDER / f"{name}.svg"
    return resource.read_bytes()


@dataclass(frozen=True)
class _Colors:
    """Tint per QIcon mode, as ``QColor.rgba()`` values (hashable cache keys)."""

    normal: int
    disabled: int
    selected: int

    @classmethod
    def from_palette(cls, palette: QPalette) -> _Colors:
        active, disabled = QPalette.ColorGroup.Active, QPalette.ColorGroup.Disabled
        return cls(
            normal=palette.color(active, QPalette.ColorRole.WindowText).rgba(),
            disabled=palette.color(disabled, QPalette.ColorRole.WindowText).rgba(),
            selected=palette.color(active, QPalette.ColorRole.HighlightedText).rgba(),
        )

    def for_mode(self, mode: QIcon.Mode) -> QColor:
        if mode == QIcon.Mode.Disabled:
            rgba = self.disabled
        elif mode == QIcon.Mode.Selected:
            rgba = self.selected
        else:
            rgba = self.normal
        return QColor.fromRgba(rgba)


class _TintedSvgIconEngine(QIconEngine):
    """Renders one SVG at the exact requested size and tints it with one colour."""

    _live_clones: ClassVar[set[_TintedSvgIconEngine]] = set()

    def __init__(self, name: str, colors: _Colors | None) -> None:
        # colors=None: use the application palette at paint time (live theme changes).
        super().__init__()
        self._name = name
        self._colors = colors
        self._renderer: QSvgRenderer | None = None

    # -- QIconEngine API -------------------------------------------------
    def clone(self) -> QIconEngine:
        """Called by QIcon::detach() (e.g. ``addPixmap`` on a copy); C++ owns the result.

        PySide does not hand ownership of a virtual's return value to C++: the
        Python wrapper would be collected on return and the QIcon left with a
        dangling engine. So clones are kept referenced here until C++ deletes
        them (which invalidates the wrapper), then pruned.
        """
        live = _TintedSvgIconEngine._live_clones
        live.difference_update([engine for engine in live if not shiboken6.isValid(engine)])
        twin = _TintedSvgIconEngine(self._name, self._colors)
        live.add(twin)
        return twin

    def key(self) -> str:
        return "conference_gui.tinted_svg"

    def iconName(self) -> str:
        return self._name

    def isNull(self) -> bool:
        return False

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:
        side = min(size.width(), size.height())
        return QSize(side, side)

    def availableSizes(
        self, mode: QIcon.Mode = QIcon.Mode.Normal, state: QIcon.State = QIcon.State.Off
    ) -> list[QSize]:
        return [QSize(side, side) for side in _NOMINAL_SIZES]

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        """A pixmap of ``size`` logical pixels for a screen of ratio ``scale``."""
        scale = max(scale, 1.0)
        logical = self.actualSize(size, mode, state)
        physical = QSize(round(logical.width() * scale), round(logical.height() * scale))
        color = self._color(mode)
        cache_key = (
            f"conference_gui.icon:{self._name}:{color.rgba():08x}:"
            f"{physical.width()}x{physical.height()}@{scale:g}"
        )
        cached = QPixmap()
        if QPixmapCache.find(cache_key, cached) and not cached.isNull():
            return cached
        pixmap = QPixmap.fromImage(self._render(physical, color))
        pixmap.setDevicePixelRatio(scale)
        QPixmapCache.insert(cache_key, pixmap)
        return pixmap

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        device = painter.device()
        scale = device.devicePixelRatioF() if device is not None else 1.0
        pixmap = self.scaledPixmap(rect.size(), mode, state, scale)
        logical = pixmap.deviceIndependentSize().toSize()
        # Centre the (square) icon in the rect, on whole logical pixels.
        top_left = rect.topLeft() + QPoint(
            (rect.width() - logical.width()) // 2, (rect.height() - logical.height()) // 2
        )
        painter.drawPixmap(top_left, pixmap)

    # -- helpers ------------------------------------------------------------
    def _color(self, mode: QIcon.Mode) -> QColor:
        colors = self._colors or _Colors.from_palette(QGuiApplication.palette())
        return colors.for_mode(mode)

    def _render(self, physical: QSize, color: QColor) -> QImage:
        image = QImage(physical, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        if physical.isEmpty():
            return image
        if self._renderer is None:
            self._renderer = QSvgRenderer(QByteArray(_svg_bytes(self._name)))
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._renderer.render(painter, QRectF(image.rect()))
            # Keep the drawing's coverage (alpha), replace its colour.
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
            painter.fillRect(image.rect(), color)
        finally:
            painter.end()
        return image


@functools.lru_cache(maxsize=512)
def _cached_icon(name: str, colors: _Colors | None) -> QIcon:
    return QIcon(_TintedSvgIconEngine(name, colors))


def icon(name: str, palette: QPalette | None = None) -> QIcon:
    """The icon ``name`` (an SVG basename in ``resources/icons``), tinted for a palette.

    Without ``palette`` the icon uses the application palette at paint time, so
    it follows theme changes. With a palette it uses that palette's
    ``WindowText`` (normal), disabled ``WindowText`` (Disabled mode) and
    ``HighlightedText`` (Selected mode) colours.

    Raises ``KeyError`` naming the known icons when ``name`` is unknown.
    """
    _check_name(name)
    colors = _Colors.from_palette(palette) if palette is not None else None
    return _cached_icon(name, colors)


# -- file types ------------------------------------------------------------------

_MIME_EXACT: dict[str, str] = {
    "application/pdf": "file-pdf",
    "application/zip": "file-archive",
    "application/x-zip-compressed": "file-archive",
    "application/gzip": "file-archive",
    "application/x-gzip": "file-archive",
    "application/x-tar": "file-archive",
    "application/x-bzip2": "file-archive",
    "application/x-xz": "file-archive",
    "application/x-7z-compressed": "file-archive",
    "application/vnd.rar": "file-archive",
    "application/x-rar-compressed": "file-archive",
    "application/zstd": "file-archive",
    "application/json": "file-code",
    "application/xml": "file-code",
    "application/javascript": "file-code",
    "application/x-python-code": "file-code",
    "application/x-sh": "file-code",
    "application/sql": "file-code",
    "application/vnd.ms-excel": "file-spreadsheet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "file-spreadsheet",
    "application/vnd.oasis.opendocument.spreadsheet": "file-spreadsheet",
    "text/csv": "file-spreadsheet",
    "text/tab-separated-values": "file-spreadsheet",
    "application/vnd.ms-powerpoint": "file-presentation",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "file-presentation"
    ),
    "application/vnd.oasis.opendocument.presentation": "file-presentation",
    "application/msword": "file-text",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "file-text",
    "application/vnd.oasis.opendocument.text": "file-text",
    "application/rtf": "file-text",
    "text/markdown": "file-text",
    "text/html": "file-code",
    "text/css": "file-code",
    "text/javascript": "file-code",
    "text/x-python": "file-code",
    "text/x-script.python": "file-code",
    "text/x-c": "file-code",
    "text/x-java-source": "file-code",
    "image/svg+xml": "file-image",
}

_MIME_FAMILY: dict[str, str] = {
    "image": "file-image",
    "audio": "file-audio",
    "video": "file-video",
    "text": "file-text",
}

_EXTENSION_GROUPS: dict[str, str] = {
    "file-image": "png jpg jpeg gif bmp webp svg tif tiff heic ico",
    "file-pdf": "pdf",
    "file-archive": "zip gz tgz tar bz2 xz 7z rar zst",
    "file-audio": "mp3 wav ogg oga flac m4a aac opus",
    "file-video": "mp4 mkv mov avi webm m4v wmv",
    "file-code": (
        "py js ts tsx jsx c h cpp hpp cc rs go java kt rb php sh bash ps1 "
        "json xml yaml yml toml html htm css sql ipynb"
    ),
    "file-spreadsheet": "csv tsv xls xlsx ods numbers",
    "file-presentation": "ppt pptx odp key",
    "file-text": "txt md rst rtf doc docx odt log",
}
_EXTENSIONS: dict[str, str] = {
    extension: icon_name
    for icon_name, extensions in _EXTENSION_GROUPS.items()
    for extension in extensions.split()
}

# Content types that say nothing about the file: decide by extension instead.
_UNINFORMATIVE_MIME = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def file_type_icon_name(content_type: str, filename: str) -> str:
    """The ``file-*`` icon name for a resource's MIME type and file name.

    The file name's extension wins when it is known (browsers and servers often
    send ``application/octet-stream`` or a vague ``text/plain``), then the exact
    MIME type, then its family (``image/*``, ``audio/*`` …); ``file-generic``
    otherwise. Pure function: no Qt, no I/O.
    """
    extension = posixpath.splitext(filename.replace("\\", "/").lower())[1].lstrip(".")
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime in _UNINFORMATIVE_MIME:
        return "file-generic"
    if mime in _MIME_EXACT:
        return _MIME_EXACT[mime]
    family, _, subtype = mime.partition("/")
    if subtype.endswith(("+json", "+xml")):
        return "file-code"
    if subtype.endswith("+zip"):
        return "file-archive"
    return _MIME_FAMILY.get(family, "file-generic")
