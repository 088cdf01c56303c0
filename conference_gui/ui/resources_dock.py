"""The Resources dock: the meeting's shared files, live.

A view over the window's one :class:`ResourceListModel`; it keeps no rows of
its own, so hiding, floating or reopening it never needs a refetch. User
intent (upload, download, delete) goes to the :class:`ResourceController`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt, QUrl
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QProgressBar,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from conference_gui.domain.resources import Resource
from conference_gui.domain.units import format_size
from conference_gui.models.preview import PreviewLoader, can_preview
from conference_gui.models.resource_filter import ResourceFilterModel, SortOrder
from conference_gui.models.resource_model import ResourceListModel, ResourceRole
from conference_gui.models.resources_controller import ResourceController, Transfer, TransferState
from conference_gui.services.http_client import ApiError
from conference_gui.services.settings import AppSettings
from conference_gui.services.socket_service import SocketService
from conference_gui.tasks import TaskKeeper
from conference_gui.ui.icons import icon
from conference_gui.ui.item_views import paint_placeholder
from conference_gui.ui.preview_dialog import PreviewDialog
from conference_gui.ui.resource_delegate import ResourceDelegate


class ResourceListView(QListView):
    """The list, with a hint painted when it is empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resourceList")
        self.setUniformItemSizes(True)  # one row height: no re-measuring all rows per insert
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegate(ResourceDelegate(self))
        self.setAccessibleName(self.tr("Shared files"))

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        filtered = (
            isinstance(model, ResourceFilterModel) and model.filterRegularExpression().pattern()
        )
        paint_placeholder(
            self,
            self.tr("No file matches the filter.")
            if filtered
            else self.tr("No files shared yet.\nDrop files here or click Upload."),
        )


class TransferRow(QWidget):
    """One upload or download: name, progress, cancel; a message when it ends."""

    def __init__(self, transfer: Transfer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transfer = transfer
        self.setObjectName("transferRow")
        verb = self.tr("Uploading") if transfer.kind == "upload" else self.tr("Downloading")
        self.label = QLabel(f"{verb} {transfer.name}", self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(8)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setIcon(icon("close"))
        self.cancel_button.setToolTip(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel %s") % transfer.name)
        self.cancel_button.clicked.connect(transfer.cancel)
        self.open_button = QToolButton(self)
        self.open_button.setText(self.tr("Show in folder"))
        self.open_button.hide()
        self.open_button.clicked.connect(self._show_in_folder)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.label, 1)
        top.addWidget(self.open_button)
        top.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.addLayout(top)
        lay.addWidget(self.bar)
        transfer.changed.connect(self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        t = self.transfer
        if t.total > 0:
            self.bar.setValue(int(1000 * min(t.done, t.total) / t.total))
        self.bar.setToolTip(f"{format_size(t.done)} / {format_size(t.total)}")
        if not t.finished:
            return
        self.bar.hide()
        self.cancel_button.setIcon(icon("close"))
        self.cancel_button.setToolTip(self.tr("Dismiss"))
        self.cancel_button.clicked.disconnect()
        self.cancel_button.clicked.connect(self.deleteLater)
        if t.state is TransferState.DONE:
            done = self.tr("Shared") if t.kind == "upload" else self.tr("Saved")
            self.label.setText(f"{done} {t.name}")
            if t.kind == "download" and t.path is not None:
                self.open_button.show()
        else:
            self.label.setText(t.message or t.state.value)

    def _show_in_folder(self) -> None:
        if self.transfer.path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.transfer.path.parent)))


class ResourcesDock(QDockWidget):
    """Dock (objectName ``resourcePanel``) listing the meeting's files."""

    def __init__(
        self,
        socket: SocketService,
        model: ResourceListModel,
        controller: ResourceController,
        parent: QWidget | None = None,
        *,
        preview: PreviewLoader | None = None,
        settings: AppSettings | None = None,
    ) -> None:
        super().__init__(self.tr("Resources"), parent)
        self.setObjectName("resourcePanel")
        self._settings = settings
        self.file_dialog: QFileDialog | None = None
        self._socket = socket
        self._model = model
        self._controller = controller
        self._preview = preview
        self._tasks = TaskKeeper("preview")
        self.preview_dialog: PreviewDialog | None = None
        self.confirm_box: QMessageBox | None = None

        body = QWidget(self)
        body.setAcceptDrops(True)
        body.dragEnterEvent = self._drag_enter  # type: ignore[method-assign]
        body.dropEvent = self._drop  # type: ignore[method-assign]
        self.setAcceptDrops(True)

        self.upload_button = QToolButton(body)
        self.upload_button.setObjectName("uploadButton")
        self.upload_button.setIcon(icon("upload"))
        self.upload_button.setText(self.tr("Upload…"))
        self.upload_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.upload_button.setToolTip(self.tr("Share files with the meeting (Ctrl+U)"))
        self.upload_action = QAction(self.tr("Upload…"), self)
        self.upload_action.setShortcut(QKeySequence("Ctrl+U"))
        self.upload_action.triggered.connect(self.choose_files)
        self.upload_button.clicked.connect(self.choose_files)
        self.addAction(self.upload_action)

        self.download_button = QToolButton(body)
        self.download_button.setObjectName("downloadButton")
        self.download_button.setIcon(icon("download"))
        self.download_button.setToolTip(self.tr("Download the selected files"))
        self.download_button.setAccessibleName(self.tr("Download"))
        self.download_button.clicked.connect(self.download_selected)
        self.delete_button = QToolButton(body)
        self.delete_button.setObjectName("deleteButton")
        self.delete_button.setIcon(icon("delete"))
        self.delete_button.setToolTip(self.tr("Delete the selected files"))
        self.delete_button.setAccessibleName(self.tr("Delete"))
        self.delete_button.clicked.connect(self.confirm_delete_selected)

        header = QHBoxLayout()
        header.addWidget(self.upload_button)
        header.addStretch(1)
        header.addWidget(self.download_button)
        header.addWidget(self.delete_button)

        self.filter_edit = QLineEdit(body)
        self.filter_edit.setObjectName("resourceFilter")
        self.filter_edit.setPlaceholderText(self.tr("Filter by name"))
        self.filter_edit.setAccessibleName(self.tr("Filter shared files by name"))
        self.filter_edit.setClearButtonEnabled(True)
        self.sort_box = QComboBox(body)
        self.sort_box.setObjectName("resourceSort")
        self.sort_box.setAccessibleName(self.tr("Sort shared files"))
        for label, order in (
            (self.tr("Newest"), SortOrder.NEWEST),
            (self.tr("Name"), SortOrder.NAME),
            (self.tr("Size"), SortOrder.SIZE),
        ):
            self.sort_box.addItem(label, order.value)
        filters = QHBoxLayout()
        filters.addWidget(self.filter_edit, 1)
        filters.addWidget(self.sort_box)

        self.proxy = ResourceFilterModel(model, self)
        self.filter_edit.textChanged.connect(self.proxy.set_filter_text)
        self.sort_box.currentIndexChanged.connect(
            lambda _: self.proxy.set_order(SortOrder(self.sort_box.currentData()))
        )
        self.view = ResourceListView(body)
        self.view.setModel(self.proxy)
        self.view.doubleClicked.connect(self._on_double_clicked)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)
        model.modelReset.connect(self._update_actions)
        model.rowsRemoved.connect(self._update_actions)
        model.dataChanged.connect(self._update_actions)

        self.transfers = QVBoxLayout()
        self.transfers.setContentsMargins(0, 0, 0, 0)
        self.transfers.setSpacing(0)

        lay = QVBoxLayout(body)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(header)
        lay.addLayout(filters)
        lay.addWidget(self.view, 1)
        lay.addLayout(self.transfers)
        self.setWidget(body)

        controller.transfer_started.connect(self._on_transfer_started)
        socket.state_changed.connect(self._update_actions)
        self._update_actions()

    # -- enabling ---------------------------------------------------------------
    def _selected_ids(self) -> list[str]:
        return [i.data(ResourceRole.ID) for i in self.view.selectionModel().selectedRows()]

    def _update_actions(self, *_: object) -> None:
        online = self._socket.is_ready
        self.upload_button.setEnabled(online)
        self.upload_action.setEnabled(online)
        rows = self.view.selectionModel().selectedRows()
        self.download_button.setEnabled(bool(rows))
        # Delete is offered only when every selected file may be deleted by us.
        self.delete_button.setEnabled(
            online and bool(rows) and all(i.data(ResourceRole.CAN_DELETE) for i in rows)
        )

    # -- upload -----------------------------------------------------------------
    def choose_files(self) -> None:
        """The file dialog opens where the person last picked files (else Documents)."""
        folder = self._settings.upload_dir() if self._settings is not None else Path.home()
        dialog = QFileDialog(self, self.tr("Share files"), str(folder))
        dialog.setObjectName("shareFilesDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setViewMode(QFileDialog.ViewMode.Detail)
        dialog.filesSelected.connect(self._files_chosen)
        dialog.resize(820, 520)  # room for name, size, type and date, none of them cut
        self.file_dialog = dialog
        dialog.open()
        _fit_columns(dialog)

    def _files_chosen(self, files: list[str]) -> None:
        paths = [Path(f) for f in files]
        if paths and self._settings is not None:
            self._settings.set_upload_dir(paths[0].parent)
        self.upload(paths)

    def upload(self, paths: list[Path]) -> list[Transfer]:
        if not self._socket.is_ready:
            self._controller.error_message.emit(
                self.tr("Not connected: files can be shared once the meeting is back.")
            )
            return []
        return self._controller.upload_files(paths)

    def _drag_enter(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def _drop(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.upload(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self._drag_enter(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._drop(event)

    def _on_transfer_started(self, transfer: Transfer) -> None:
        row = TransferRow(transfer, self.widget())
        self.transfers.addWidget(row)
        if transfer.kind == "upload":
            # Finished uploads need no message: the file appears in the list.
            transfer.changed.connect(
                lambda: row.deleteLater() if transfer.state is TransferState.DONE else None
            )

    # -- download ---------------------------------------------------------------
    def download_selected(self) -> None:
        for rid in self._selected_ids():
            self._controller.download(rid)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        res = index.data(ResourceRole.RESOURCE)
        if self._preview is not None and isinstance(res, Resource) and can_preview(res):
            self.preview(res)
        else:
            self._controller.download(index.data(ResourceRole.ID))

    # -- preview ----------------------------------------------------------------
    def preview(self, resource: Resource) -> None:
        """Show an image in its own window; fetching and decoding stay off the GUI thread."""
        if self._preview is None:
            return
        self._tasks.spawn(self._show_preview(self._preview, resource))

    async def shutdown(self) -> None:
        """Cancel a preview still loading (window closing)."""
        await self._tasks.shutdown()

    async def _show_preview(self, loader: PreviewLoader, resource: Resource) -> None:
        try:
            image = await loader.load(resource)
        except ApiError as exc:
            self._controller.error_message.emit(exc.message)
            return
        self.preview_dialog = PreviewDialog(resource.name, image, self)
        self.preview_dialog.show()

    # -- delete -----------------------------------------------------------------
    def confirm_delete_selected(self) -> None:
        ids = [i for i in self._selected_ids() if i in self._model.ledger]
        if not ids:
            return
        names = [self._model.ledger.get(i).name for i in ids]  # type: ignore[union-attr]
        text = (
            self.tr("Delete “%s” for everyone in the meeting?") % names[0]
            if len(names) == 1
            else self.tr("Delete %d files for everyone in the meeting?") % len(names)
        )
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Delete"), text, parent=self)
        box.setObjectName("confirmDelete")
        box.setTextFormat(Qt.TextFormat.PlainText)
        # Buttons say what they do ("Delete", "Cancel"), not "Yes".
        delete = box.addButton(self.tr("Delete"), QMessageBox.ButtonRole.DestructiveRole)
        delete.setObjectName("confirmDeleteButton")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        delete.clicked.connect(lambda: self._delete(ids))
        box.finished.connect(lambda _: setattr(self, "confirm_box", None))
        self.confirm_box = box
        box.open()

    def _delete(self, ids: list[str]) -> None:
        self._controller.request_delete(ids)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        menu = QMenu(self)
        res = index.data(ResourceRole.RESOURCE)
        if self._preview is not None and isinstance(res, Resource) and can_preview(res):
            menu.addAction(self.tr("Preview"), lambda: self.preview(res))
        menu.addAction(icon("download"), self.tr("Download"), self.download_selected)
        if index.data(ResourceRole.CAN_DELETE) and self._socket.is_ready:
            menu.addAction(icon("delete"), self.tr("Delete…"), self.confirm_delete_selected)
        menu.popup(self.view.viewport().mapToGlobal(pos))


def _fit_columns(dialog: QFileDialog) -> None:
    """Qt's own file dialog (where there is no native one) starts with columns too
    narrow for a date: size them to their contents once the folder is listed."""
    for view in dialog.findChildren(QTreeView):
        header = view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, header.count()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
