"""The one thread the media devices run on, and the base of what runs there.

Capture and playback are steady streams of small jobs (a mic buffer every
20 ms, a camera frame every 33 ms, a speaker top-up every 10 ms). On the GUI
thread any of them could wait behind a layout or a paint, and a paint behind
them; so every device object lives on one dedicated ``QThread`` with its own
event loop, and the GUI thread only exchanges signals with it. Media never
passes through the GUI thread: workers write straight into the thread-safe
exchange points (:mod:`conference_gui.media.exchange`) that the call engine
and the tiles read.

Workers are created on the GUI thread, moved here, and from then on touched
only through queued signals. :meth:`DeviceThread.stop` runs every worker's
:meth:`DeviceWorker.shutdown` *on the device thread* (Qt objects must die on
the thread they live on: a QTimer or QAudioSink destroyed elsewhere warns or
crashes), then ends the thread and waits for it, for a bounded time: the GUI
thread never waits on the device thread without a deadline (a device stuck in
its driver, or waiting for the GUI thread itself, would otherwise hang the app).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

#: Device threads that did not end in time. Kept referenced for the process's life:
#: a QThread destroyed while it runs aborts the process.
_STRAYS: list[QThread] = []

#: The device thread's name (the OS shows its first 15 characters, e.g. in top -H).
THREAD_NAME = "cgui-devices"


class DeviceWorker(QObject):
    """Something that lives on the device thread.

    Subclasses close their devices in :meth:`close_devices`; the rest of the
    teardown is here.

    Qt objects a worker is done with (a timer, an audio source, a camera and its
    session) are retired (:meth:`retire`), not deleted, while the window runs. Destroying
    an object made in Python on this thread makes Qt ask PySide, under Qt's
    signal-slot lock, whether Python overrides a method, which needs the GIL;
    if the GUI thread holds the GIL just then and waits for that same lock (any
    ``connect``), both wait for ever (seen: a window being built while another
    window's device thread deleted a timer). Retired objects die with their
    worker at :meth:`DeviceThread.stop`, while the GUI thread waits in the join
    with the GIL released.
    """

    def close_devices(self) -> None:
        """Stop and release every device this worker holds (on the device thread)."""

    def retire(self, *objects: QObject | None) -> None:
        """Keep ``objects`` (already stopped and disconnected) until this worker
        is destroyed, instead of destroying them now (see the class's note)."""
        for obj in objects:
            if obj is not None and obj.parent() is not self:
                obj.setParent(self)

    @Slot()
    def shutdown(self) -> None:
        self.close_devices()
        self.deleteLater()  # done by the thread as it finishes, on the thread


class _Quitter(QObject):
    """Lives on the device thread; ends its event loop once the workers are done."""

    @Slot()
    def quit(self) -> None:
        thread = self.thread()
        self.deleteLater()
        thread.quit()


class DeviceThread(QObject):
    """Owns the device thread: start it, hand it workers, stop it and everything on it.

    Lives on the GUI thread. Not restartable: a stopped thread stays stopped
    (make a new one), which keeps "which workers are alive" simple.
    """

    _shutdown_requested = Signal()
    _quit_requested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName(THREAD_NAME)
        self._stopped = False
        self._adopted = 0
        self._quitter = _Quitter()
        self._quitter.moveToThread(self._thread)
        self._quit_requested.connect(self._quitter.quit)  # queued: runs on the device thread

    @property
    def qthread(self) -> QThread:
        return self._thread

    @property
    def is_running(self) -> bool:
        return self._thread.isRunning()

    def start(self) -> None:
        if self._stopped:
            raise RuntimeError("a stopped device thread cannot start again")
        if not self._thread.isRunning():
            self._thread.start()

    def adopt(self, worker: DeviceWorker) -> None:
        """Move ``worker`` (created here, with no parent) onto the device thread."""
        if self._stopped:
            raise RuntimeError("the device thread has stopped")
        worker.moveToThread(self._thread)
        self._adopted += 1
        # Queued: runs on the device thread, before the quitter (posted after it).
        self._shutdown_requested.connect(worker.shutdown)

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Shut every worker down on the device thread, end the thread and join it.

        Waits for as long as the devices take to close (a few milliseconds),
        at most ``timeout_ms``: the workers' shutdowns and then the thread's
        end are queued on the device thread, and only the join waits here.
        Returns whether the thread ended; one that did not is logged and kept
        (never destroyed while it runs).
        """
        if self._stopped:
            return True
        self._stopped = True
        if self._adopted and not self._thread.isRunning():
            # Workers moved here but never run: they still die on this thread.
            self._thread.start()
        if self._thread.isRunning():
            self._shutdown_requested.emit()
            self._quit_requested.emit()
        ended = bool(self._thread.wait(timeout_ms))
        if not ended:
            log.error("the device thread did not end within %d ms; left running", timeout_ms)
            _STRAYS.append(self._thread)
        return ended
