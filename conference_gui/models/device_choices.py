"""The choices a device picker offers: the system default first, then each device.

One model per kind (camera, microphone, speaker), kept live from the
:class:`DeviceCatalog`: a device plugged in appears, one unplugged goes. A
*chosen* device that is unplugged keeps a row of its own, "Name (not
connected)", so the choice stays visible and remembered while the system
default stands in (the device layer uses it again when it comes back).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QObject, Qt, Signal

from conference_gui.models.row_model import Index
from conference_gui.services.media.catalog import DeviceCatalog, DeviceKind


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    device_id: str | None  # None: the system default
    label: str
    present: bool = True


class ChoiceRole(enum.IntEnum):
    DEVICE_ID = Qt.ItemDataRole.UserRole + 1  # str, or None for the system default
    PRESENT = Qt.ItemDataRole.UserRole + 2


class DeviceChoiceModel(QAbstractListModel):
    """Rows: "System default (<its name>)", then the devices by name.

    ``catalog`` may be ``None`` (nothing can be listed): then only the system
    default and the remembered choice are offered.

    Signals:
        choices_changed(): the rows were rebuilt (a device came or went);
            emitted after the model's reset.
    """

    choices_changed = Signal()

    def __init__(
        self,
        kind: DeviceKind,
        catalog: DeviceCatalog | None,
        wanted: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self._catalog = catalog
        self._wanted = wanted
        self._names: dict[str, str] = {}  # every device seen: an unplugged one keeps its name
        self._rows: list[DeviceChoice] = []
        self._rows = self._build()
        if catalog is not None:
            catalog.changed.connect(self._on_catalog_changed)

    # -- Qt model API -------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0 or not 0 <= index.row() < len(self._rows):
            return None
        choice = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return choice.label
        if role == ChoiceRole.DEVICE_ID:
            return choice.device_id
        if role == ChoiceRole.PRESENT:
            return choice.present
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names.update({int(r): QByteArray(r.name.lower().encode()) for r in ChoiceRole})
        return names

    # -- reading ----------------------------------------------------------------------------
    def choices(self) -> list[DeviceChoice]:
        return list(self._rows)

    def row_of(self, device_id: str | None) -> int:
        return next((i for i, c in enumerate(self._rows) if c.device_id == device_id), 0)

    def device_id_at(self, row: int) -> str | None:
        return self._rows[row].device_id if 0 <= row < len(self._rows) else None

    # -- keeping up ---------------------------------------------------------------------
    def set_wanted(self, device_id: str | None) -> None:
        """The remembered choice (kept listed even while it is unplugged)."""
        if device_id != self._wanted:
            self._wanted = device_id
            self._rebuild()

    def _on_catalog_changed(self, kind: str) -> None:
        if kind == self.kind.value:
            self._rebuild()

    def _rebuild(self) -> None:
        rows = self._build()
        if rows == self._rows:
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()
        self.choices_changed.emit()

    def _build(self) -> list[DeviceChoice]:
        devices = self._catalog.devices(self.kind) if self._catalog is not None else []
        for d in devices:
            self._names[d.id] = d.name
        default = (
            self.tr("System default (%s)") % devices[0].name if devices
            else self.tr("System default")
        )
        rows = [DeviceChoice(None, default)]
        rows += [DeviceChoice(d.id, d.name) for d in devices]
        wanted = self._wanted
        if wanted and all(d.id != wanted for d in devices):
            name = self._names.get(wanted) or self.tr("The chosen device")
            rows.append(DeviceChoice(wanted, self.tr("%s (not connected)") % name, False))
        return rows
