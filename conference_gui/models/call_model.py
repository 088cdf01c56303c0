"""The call for one window: who is on the stage, what we send, and how loud each one is.

:class:`CallController` joins the call engine (through :class:`CallService`)
whenever the socket's join ack says this window holds the user's call, keeps
the stage's tiles in step with the roster, turns the microphone / camera /
screen toggles into what the engine sends, announces each change with
``media-state`` (and again after every rejoin), and samples audio levels ten
times a second for the tiles' meters and speaking outlines.

:class:`StageModel` is the Qt list model over the stage's tiles; the video
grid renders it.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from conference_gui.domain.call import CallInfo, MediaState, SpeakingDetector
from conference_gui.domain.meeting import JoinAck, Participant
from conference_gui.domain.sfu import MEDIA_SERVER_LOST, too_big_for_mesh
from conference_gui.domain.stage import Stage, Tile, tiles_for
from conference_gui.media.exchange import FrameSlot, LevelMeter, PcmRing, PcmSource
from conference_gui.models.me import Me
from conference_gui.models.participants_model import ParticipantListModel
from conference_gui.models.row_model import RowListModel
from conference_gui.services.call_service import CallService
from conference_gui.services.socket_service import RequestError, SocketService
from conference_gui.tasks import TaskKeeper

log = logging.getLogger(__name__)

#: How often levels and speaking flags are sampled for the screen.
LEVEL_INTERVAL_MS = 100

#: After a reconnect, how long a peer that is missing from the join ack keeps its
#: connection and tile (it is probably rejoining too: a restarted server lists
#: whoever came back first).
REJOIN_GRACE_S = 10.0


class CallDevices(Protocol):
    """What the call needs of this machine's devices (``services.media.MediaDevices``)."""

    @property
    def microphone_source(self) -> PcmSource: ...
    @property
    def mic_level(self) -> LevelMeter: ...
    @property
    def camera_frames(self) -> FrameSlot: ...
    @property
    def playback(self) -> PcmRing: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def set_camera_enabled(self, enabled: bool) -> None: ...


class TileRole(enum.IntEnum):
    TILE = Qt.ItemDataRole.UserRole + 1
    PARTICIPANT_ID = enum.auto()
    SOURCE = enum.auto()
    IS_SELF = enum.auto()
    MIC_ON = enum.auto()
    CAMERA_ON = enum.auto()
    HAND_RAISED = enum.auto()


class StageModel(RowListModel[Tile]):
    """The stage's tiles as a list model (one row per tile, you first)."""

    roles = TileRole

    def __init__(self, stage: Stage, parent: QObject | None = None) -> None:
        super().__init__(stage, parent)
        self.stage = stage

    def row_data(self, tile: Tile, role: int) -> Any:
        getters: dict[int, Callable[[], object]] = {
            Qt.ItemDataRole.DisplayRole: lambda: tile.name,
            TileRole.TILE: lambda: tile,
            TileRole.PARTICIPANT_ID: lambda: tile.participant_id,
            TileRole.SOURCE: lambda: tile.source,
            TileRole.IS_SELF: lambda: tile.is_self,
            TileRole.MIC_ON: lambda: tile.mic_on,
            TileRole.CAMERA_ON: lambda: tile.camera_on,
            TileRole.HAND_RAISED: lambda: tile.hand_raised,
        }
        getter = getters.get(role)
        return getter() if getter is not None else None


class CallController(QObject):
    """The call feature's brain (no widgets).

    Signals:
        sending_changed(MediaState): what this window sends now (the toggles follow it).
        levels_changed(): :meth:`level` / :meth:`speaking` have new values.
        active_changed(bool): this window holds the user's call (false: another window does).
        mode_changed(str): "mesh" or "sfu".
        call_notice(str key, str text): a stage notice about the call's size or its media
            server ("" clears it); key "crowded".
        error_message(str): something failed that the person should read.
    """

    sending_changed = Signal(object)
    levels_changed = Signal()
    active_changed = Signal(bool)
    mode_changed = Signal(str)
    call_notice = Signal(str, str)
    error_message = Signal(str)

    def __init__(
        self,
        socket: SocketService,
        roster: ParticipantListModel,
        me: Me,
        service: CallService,
        devices: CallDevices,
        *,
        want: MediaState,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._socket = socket
        self._roster = roster
        self._me = me
        self.service = service
        self.devices = devices
        self.stage = Stage()
        self.model = StageModel(self.stage, self)
        self._want = want
        self._active = False
        self._mode = "mesh"
        self._mode_reason: str | None = None
        self._crowded_text = ""
        self._announced: MediaState | None = None
        self._tasks = TaskKeeper("call")
        self._levels: dict[str, float] = {}
        self._speaking: dict[str, bool] = {}
        self._detectors: dict[str, SpeakingDetector] = {}
        self._peer_states: dict[str, str] = {}
        #: peers missing from the last join ack but still connected: (who, until when)
        self._absent: dict[str, tuple[Participant, float]] = {}
        self._grace_timer = QTimer(self)
        self._grace_timer.setSingleShot(True)
        self._grace_timer.timeout.connect(self._end_grace)
        service.peer_state_changed.connect(self._on_peer_state)

        for signal in (roster.modelReset, roster.rowsInserted, roster.rowsRemoved,
                       roster.rowsMoved, roster.dataChanged):
            signal.connect(self._sync_stage)
        socket.joined.connect(self._on_joined)
        socket.participant_joined.connect(self._on_participant_joined)
        socket.participant_left.connect(self._on_participant_left)
        socket.call_moved.connect(self._on_call_moved)
        socket.call_mode_changed.connect(self._on_call_mode)

        self._level_timer = QTimer(self)
        self._level_timer.setInterval(LEVEL_INTERVAL_MS)
        self._level_timer.timeout.connect(self._sample_levels)

    # -- what the person asks for -----------------------------------------------------
    @property
    def sending(self) -> MediaState:
        return self._want

    @property
    def active(self) -> bool:
        return self._active

    @property
    def me_id(self) -> str:
        return self._me.id

    @property
    def mode(self) -> str:
        return self._mode

    def start(self) -> None:
        """Open the devices and the engine, and send what the person wants from the start."""
        self.devices.start()
        self.devices.set_camera_enabled(self._want.video)
        self.service.set_sources(
            microphone=self.devices.microphone_source,
            camera=self.devices.camera_frames,
            playback=self.devices.playback,
        )
        self.service.set_sending(self._want)
        self._level_timer.start()
        self._sync_stage()

    def set_microphone(self, on: bool) -> None:
        self._set_want(MediaState(on, self._want.video, self._want.screen))

    def set_camera(self, on: bool) -> None:
        self._set_want(MediaState(self._want.audio, on, self._want.screen))

    def set_screen_sharing(self, on: bool) -> None:
        self._set_want(MediaState(self._want.audio, self._want.video, on))

    def _set_want(self, want: MediaState) -> None:
        if want == self._want:
            return
        camera_changed = want.video != self._want.video
        self._want = want
        if camera_changed:
            self.devices.set_camera_enabled(want.video)
        self.service.set_sending(want)
        self.sending_changed.emit(want)
        self._sync_stage()
        self._announce()

    def _announce(self) -> None:
        """Tell the meeting what we send (``media-state``), once per change."""
        if self._active and self._socket.is_ready and self._announced != self._want:
            self._tasks.spawn(self._send_media_state(self._want))

    async def _send_media_state(self, media: MediaState) -> None:
        try:
            await self._socket.send_media_state(media)
        except RequestError as exc:
            if exc.code != "offline":  # offline: the next join ack announces it again
                self.error_message.emit(self.tr("Could not tell the others: %s") % exc.message)
            return
        self._announced = media
        if media != self._want:  # changed again while the request was out
            self._announce()

    # -- the call connection -------------------------------------------------------------
    def _on_joined(self, ack: JoinAck) -> None:
        self._announced = None  # a rejoining client announces anew
        listed = {p.id for p in ack.participants}
        if self._active:
            now = time.monotonic()
            for tile in self.stage:
                pid = tile.participant_id
                known = self._roster.roster.get(pid)
                if (pid not in listed and not tile.is_self and known is not None
                        and self._peer_states.get(pid) == "connected"):
                    self._absent[pid] = (known, now + REJOIN_GRACE_S)
        for pid in listed:
            self._absent.pop(pid, None)
        if self._absent:
            self._grace_timer.start(int(REJOIN_GRACE_S * 1000) + 50)
        self._take_part(ack.call, [*listed, *self._absent])

    def call_moved_here(self, call: CallInfo) -> None:
        """The call was claimed for this window ("Use this window" answered)."""
        self._on_call_moved(call)

    def _on_call_moved(self, call: CallInfo) -> None:
        self._announced = None
        self._take_part(call, [p.id for p in self._roster.roster])

    def _take_part(self, call: CallInfo, people: list[str]) -> None:
        self._set_mode(call.mode, None)
        changed = call.active != self._active
        self._active = call.active
        if call.active:
            self.service.set_mode(call.mode)
            self.service.join(self._me.id, [p for p in people if p != self._me.id])
            self._announce()
        else:
            self.service.leave()
        if changed:
            self.active_changed.emit(call.active)
        self._sync_stage()

    def _on_call_mode(self, event: Any) -> None:
        """``call-mode``: the server moved the call to the SFU or back to the mesh."""
        self._set_mode(str(event.mode), event.reason)
        if self._active:
            self.service.set_mode(self._mode)

    def _set_mode(self, mode: str, reason: str | None) -> None:
        self._mode_reason = reason
        if mode != self._mode:
            self._mode = mode
            self.mode_changed.emit(mode)
        self._show_crowded()

    def _show_crowded(self) -> None:
        """Say when the call is bigger than a mesh carries well, or lost its media server."""
        people = len({p.id for p in self._roster.roster} | {self._me.id})
        if self._mode == "mesh" and self._mode_reason == MEDIA_SERVER_LOST:
            text = self.tr("The media server is unreachable: the call continues peer to peer, "
                           "which may strain your computer.")
        elif too_big_for_mesh(people, self._mode):
            text = self.tr("This call has grown too big for peer-to-peer calls (%d people): "
                           "pictures may stutter. A media server (SFU) would help.") % people
        else:
            text = ""
        if text != self._crowded_text:
            self._crowded_text = text
            self.call_notice.emit("crowded", text)

    def _on_participant_joined(self, p: Participant) -> None:
        if p.id != self._me.id:
            if self._absent.pop(p.id, None) is not None:
                self._sync_stage()
                return  # still connected: nothing to offer anew
            self.service.peer_joined(p.id)

    def _on_participant_left(self, participant_id: str) -> None:
        if participant_id != self._me.id:
            self._absent.pop(participant_id, None)
            self.service.peer_left(participant_id)
            self._detectors.pop(participant_id, None)
            self._sync_stage()

    def _on_peer_state(self, participant_id: str, state: str) -> None:
        self._peer_states[participant_id] = state

    def _end_grace(self) -> None:
        """Peers that did not come back after a reconnect have left after all."""
        now = time.monotonic()
        for pid, (_, until) in list(self._absent.items()):
            if until <= now:
                del self._absent[pid]
                self.service.peer_left(pid)
        if self._absent:
            self._grace_timer.start(200)
        self._sync_stage()

    # -- the stage ------------------------------------------------------------------------
    def _sync_stage(self, *_: object) -> None:
        people = list(self._roster.roster)
        if not any(p.id == self._me.id for p in people) and self._me.participant is not None:
            people.insert(0, self._me.participant)
        listed = {p.id for p in people}
        people += [p for pid, (p, _) in self._absent.items() if pid not in listed]
        # Our own tile shows what we send; before the first join, what we will send.
        ours = self._want if self._active or not self._me.known else None
        self.stage.show(tiles_for(people, self._me.id, ours))
        self._show_crowded()

    def remote_slot(self, participant_id: str, source: str) -> FrameSlot:
        return self.service.remote_slot(participant_id, source)

    def self_slot(self) -> FrameSlot:
        return self.devices.camera_frames

    # -- levels ---------------------------------------------------------------------------
    def level(self, participant_id: str) -> float:
        return self._levels.get(participant_id, 0.0)

    def speaking(self, participant_id: str) -> bool:
        return self._speaking.get(participant_id, False)

    def _sample_levels(self) -> None:
        now = time.monotonic()
        levels = self.service.levels()
        levels[self._me.id] = self.devices.mic_level.level(now)
        speaking: dict[str, bool] = {}
        for tile in self.stage:
            pid = tile.participant_id
            if pid in speaking:
                continue
            detector = self._detectors.setdefault(pid, SpeakingDetector())
            if not tile.mic_on:
                # Muted: not speaking, at once and whatever the microphone hears
                # (that is the "talking while muted" hint's business).
                detector.reset()
                speaking[pid] = False
                continue
            speaking[pid] = detector.update(levels.get(pid, 0.0), now)
        if levels != self._levels or speaking != self._speaking:
            self._levels, self._speaking = levels, speaking
            self.levels_changed.emit()

    # -- life ------------------------------------------------------------------------------
    async def shutdown(self) -> None:
        self._level_timer.stop()
        self._grace_timer.stop()
        await self._tasks.shutdown()
        await self.service.stop()
        self.devices.stop()
