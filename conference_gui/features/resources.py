"""Resources: the files shared in the meeting — dock, badge button, upload, toasts.

The dock's list and the button's badge are two views of one
:class:`ResourceListModel`, fed by one :class:`ResourceController` over the
session's socket, so they can never disagree.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QObject, QTimer

from conference_gui.domain.resources import Resource, ResourceDeleted, ResourceUploaded
from conference_gui.domain.wording import plural
from conference_gui.models.preview import PreviewLoader
from conference_gui.models.resource_filter import UnseenResources
from conference_gui.models.resource_model import ResourceListModel
from conference_gui.models.resources_controller import ResourceController
from conference_gui.session import MeetingSession
from conference_gui.ui.main_window import MainWindow
from conference_gui.ui.resources_dock import ResourcesDock

#: Files shared within this long are announced in one toast.
SHARED_TOAST_DELAY_MS = 250


class ResourcesFeature(QObject):
    """Installs the Resources dock and its button into a meeting window.

    Parts: ``model``, ``controller``, ``preview``, ``dock``, ``button``, ``unseen``.
    """

    name = "resources"

    def __init__(self, session: MeetingSession, window: MainWindow) -> None:
        super().__init__(window)
        self._session = session
        self._window = window
        self.model = ResourceListModel(self)
        # Before the controller: this slot then runs while the row still exists.
        session.socket.resource_deleted.connect(self._collect_removed)
        self._removed: list[tuple[str, str]] = []  # (who, file name)
        self.controller = ResourceController(
            session.socket,
            session.api,
            self.model,
            session.info.session_id,
            session.me,
            self,
            download_dir=session.download_dir,
        )
        self.preview = PreviewLoader(session.api, session.info.session_id, self)
        self.dock = ResourcesDock(
            session.socket, self.model, self.controller, window, preview=self.preview,
            settings=session.settings,
        )
        window.add_dock(self.dock, shortcut="Ctrl+Shift+R", visible=True)
        window.add_meeting_action(self.dock.upload_action)
        self.button = window.control_bar.add_dock_button(
            "resourcesButton",
            self.tr("Resources"),
            "resources",
            self.dock.toggleViewAction(),
            describe=lambda n: plural(n, self.tr("%n file"), self.tr("%n files")),
        )
        self.model.count_changed.connect(self.button.setBadgeCount)
        self.button.setBadgeCount(self.model.rowCount())
        self.controller.error_message.connect(window.show_error)
        window.preferences_applied.connect(self._apply_settings)

        # The badge's accent and "N new" until the dock has been seen.
        self.unseen = UnseenResources(self.model, session.me.id, self)
        self.dock.visibilityChanged.connect(self.unseen.set_watching)
        self.unseen.set_watching(self.dock.isVisible())
        self.unseen.changed.connect(self._describe)
        self.button.badgeCountChanged.connect(self._describe)
        self._describe()

        # One toast per burst of files others shared.
        self._toasted: deque[str] = deque(maxlen=200)
        self._shared: list[Resource] = []
        self._shared_timer = QTimer(self)
        self._shared_timer.setSingleShot(True)
        self._shared_timer.setInterval(SHARED_TOAST_DELAY_MS)
        self._shared_timer.timeout.connect(self._toast_shared)
        self._removed_timer = QTimer(self)
        self._removed_timer.setSingleShot(True)
        self._removed_timer.setInterval(SHARED_TOAST_DELAY_MS)
        self._removed_timer.timeout.connect(self._toast_removed)
        session.socket.resource_uploaded.connect(self._collect_shared)
        session.on_shutdown(self.name, self.shutdown)

    def _apply_settings(self) -> None:
        self.controller.download_dir = self._session.settings.download_dir()

    def _describe(self, *_: object) -> None:
        """The badge counts every file; a separate dot and the words say how many are new."""
        count, new = self.model.rowCount(), self.unseen.count
        self.button.setBadgeNew(new)
        files = plural(count, self.tr("%n file"), self.tr("%n files"))
        text = self.tr("Resources, %s") % files
        tip = text
        if new:
            text += ", " + plural(new, self.tr("%n new"), self.tr("%n new"))
            tip = self.tr("Resources: %1 new of %2").replace("%1", str(new)).replace(
                "%2", files
            )
        self.button.setAccessibleName(text)
        self.button.setToolTip(tip)

    def _collect_shared(self, event: ResourceUploaded) -> None:
        """Collect files others shared; one toast per burst, shown after the event's frame.

        Building a toast costs milliseconds on the GUI thread: done per event,
        a burst of uploads would both flood the screen and slow the list.
        """
        res = event.resource
        if res.uploaded_by.id == self._session.me.id or res.id in self._toasted:
            return
        self._toasted.append(res.id)
        self._shared.append(res)
        if not self._shared_timer.isActive():
            self._shared_timer.start()

    def _collect_removed(self, event: ResourceDeleted) -> None:
        """Files others removed: told briefly, like shared ones ("Ann removed notes.txt")."""
        by = event.deleted_by
        gone = self.model.ledger.get(event.resource_id)
        if by is None or gone is None or by.id == self._session.me.id:
            return
        self._removed.append((by.name, gone.name))
        if not self._removed_timer.isActive():
            self._removed_timer.start()

    def _toast_removed(self) -> None:
        removed, self._removed = self._removed, []
        if not removed:
            return
        people = {who for who, _ in removed}
        if len(removed) == 1:
            text = self.tr("%s removed %s") % removed[0]
        elif len(people) == 1:
            text = self.tr("%s removed %d files") % (removed[0][0], len(removed))
        else:
            text = self.tr("%d files were removed") % len(removed)
        self._window.notify(text, "delete")

    def _toast_shared(self) -> None:
        shared, self._shared = self._shared, []
        if not shared:
            return
        people = {r.uploaded_by.name for r in shared}
        if len(shared) == 1:
            text = self.tr("%s shared %s") % (shared[0].uploaded_by.name, shared[0].name)
        elif len(people) == 1:
            text = self.tr("%s shared %d files") % (shared[0].uploaded_by.name, len(shared))
        else:
            text = self.tr("%d files were shared") % len(shared)
        self._window.notify(text, "resources", important=True)

    async def shutdown(self) -> None:
        self._shared_timer.stop()
        self._removed_timer.stop()
        await self.dock.shutdown()
        await self.controller.shutdown()
        self.preview.close()
