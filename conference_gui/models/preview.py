"""Image previews of shared files.

Bytes are fetched by the window's :class:`ApiClient` into a private cache
folder and decoded into a ``QImage`` on a worker thread (QImage, unlike
QPixmap, may be built off the GUI thread), so a large photo never stalls the
window. PDFs are not previewed: rendering them needs QtPdf, which is not in
PySide6-Essentials, and the bundle should not grow for it.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QImage, QImageReader

from conference_gui.domain.resources import Resource
from conference_gui.services.http_client import ApiClient, ApiError

MAX_PREVIEW_BYTES = 40 * 1000 * 1000
_READABLE = {f.toStdString().lower() for f in QImageReader.supportedImageFormats()}


def can_preview(resource: Resource) -> bool:
    """Images Qt can decode, small enough to load whole."""
    if resource.size > MAX_PREVIEW_BYTES:
        return False
    ext = resource.name.rpartition(".")[2].lower()
    kind, _, subtype = resource.content_type.lower().partition("/")
    return kind == "image" and (ext in _READABLE or subtype in _READABLE)


class PreviewLoader(QObject):
    """Loads previews; one per window, sharing its API client."""

    def __init__(self, api: ApiClient, session_id: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._api = api
        self._session_id = session_id
        self._cache = tempfile.TemporaryDirectory(prefix="conference-gui-preview-")
        self.destroyed.connect(lambda *_: self._cache.cleanup())

    async def load(self, resource: Resource) -> QImage:
        """The decoded image; raises ApiError with a message a person can read."""
        if not can_preview(resource):
            raise ApiError(0, "no_preview", self.tr("No preview for “%s”.") % resource.name)
        target = Path(self._cache.name) / resource.id
        if not target.exists():
            await self._api.download(self._session_id, resource.id, target)
        image = await asyncio.get_running_loop().run_in_executor(None, QImage, str(target))
        if image.isNull():
            raise ApiError(
                0, "bad_image", self.tr("“%s” is not an image Qt can show.") % resource.name
            )
        return image

    def close(self) -> None:
        self._cache.cleanup()
