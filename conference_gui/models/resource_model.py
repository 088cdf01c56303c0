"""The one Qt model of a meeting's shared files.

A thin adapter over :class:`ResourceLedger`: the ledger decides what the rows
are; this class only translates its row notifications into Qt's
begin/end calls. The Resources dock's list and the control bar's badge both
observe this one model, so they cannot disagree.
"""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QObject, Qt

from conference_gui.domain.resources import Resource, ResourceLedger
from conference_gui.domain.units import format_size
from conference_gui.models.row_model import RowListModel


class ResourceRole(enum.IntEnum):
    RESOURCE = Qt.ItemDataRole.UserRole + 1  # the Resource object itself
    ID = enum.auto()
    NAME = enum.auto()
    SIZE = enum.auto()
    CONTENT_TYPE = enum.auto()
    UPLOADER_NAME = enum.auto()
    UPLOADED_AT = enum.auto()
    CAN_DELETE = enum.auto()


class ResourceListModel(RowListModel[Resource]):
    """Rows of the session's resources, newest first.

    Signals:
        count_changed(int): the number of rows, after every change (the badge's number).
    """

    roles = ResourceRole

    def __init__(self, parent: QObject | None = None) -> None:
        self.ledger = ResourceLedger()
        super().__init__(self.ledger, parent)
        self._viewer_id: str | None = None
        self._viewer_is_host = False

    # -- who is looking (decides CAN_DELETE) ---------------------------------
    def set_viewer(self, user_id: str, is_host: bool) -> None:
        if (user_id, is_host) == (self._viewer_id, self._viewer_is_host):
            return
        self._viewer_id, self._viewer_is_host = user_id, is_host
        self.emit_all_changed([ResourceRole.CAN_DELETE])

    def can_delete(self, resource: Resource) -> bool:
        return self._viewer_is_host or resource.uploaded_by.id == self._viewer_id

    def row_data(self, res: Resource, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return res.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{res.name}\n{format_size(res.size)} · {res.uploaded_by.name}"
        if role == ResourceRole.RESOURCE:
            return res
        if role == ResourceRole.ID:
            return res.id
        if role == ResourceRole.NAME:
            return res.name
        if role == ResourceRole.SIZE:
            return res.size
        if role == ResourceRole.CONTENT_TYPE:
            return res.content_type
        if role == ResourceRole.UPLOADER_NAME:
            return res.uploaded_by.name
        if role == ResourceRole.UPLOADED_AT:
            return res.uploaded_at
        if role == ResourceRole.CAN_DELETE:
            return self.can_delete(res)
        return None

    def resource_at(self, row: int) -> Resource:
        return self.ledger[row]
