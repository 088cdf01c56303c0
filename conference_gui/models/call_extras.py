"""Units of the call that sit beside its core: who is in the spotlight, the
"you're talking while muted" hint with push-to-talk, and connection quality.

Each observes :class:`CallController` (and, for quality, the engine's
statistics) and says what changed with a signal; the call feature shows it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from conference_gui.domain.quality import GOOD, Numbers, describe, judge, uplink_poor
from conference_gui.domain.stage import SCREEN
from conference_gui.models.call_model import CallController

#: "Talking": the own microphone's level above this (0..1 of full scale, RMS).
TALK_LEVEL = 0.02
#: Sound for this long while muted shows the hint (under a second, as asked).
TALK_AFTER_S = 0.4
#: Silence for this long hides it again.
QUIET_AFTER_S = 2.0
#: How often connection quality is judged.
QUALITY_INTERVAL_MS = 2000


class Spotlight(QObject):
    """Who the speaker view shows large: the participant you pinned, else someone
    sharing a screen (the speaker among the sharers, else the first), else the
    one who spoke last. A speaker keeps the spotlight through a pause, until
    someone else is heard; the speaking detector's hysteresis already keeps a
    cough from taking it.

    Signals:
        focus_changed(str): the participant to show large ("" for nobody yet).
    """

    focus_changed = Signal(str)

    def __init__(self, call: CallController, me_id: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call = call
        self._me = me_id
        self._speaker = ""
        self._pinned = ""
        self._told = ""
        self._was_speaking: set[str] = set()
        call.levels_changed.connect(self._on_levels)
        call.model.rowsInserted.connect(self._restage)
        call.model.rowsRemoved.connect(self._restage)
        call.model.modelReset.connect(self._restage)

    @property
    def focus(self) -> str:
        return self._pinned or self._sharer() or self._speaker

    @property
    def pinned(self) -> str:
        return self._pinned

    @property
    def speaker(self) -> str:
        return self._speaker

    def pin(self, participant_id: str) -> None:
        """Pin for yourself (others are not told); pinning the pinned one unpins."""
        self._pinned = "" if participant_id == self._pinned else participant_id
        self._tell()

    def _sharer(self) -> str:
        sharers = [t.participant_id for t in self._call.stage
                   if t.source == SCREEN and not t.is_self]
        if not sharers:
            return ""
        return self._speaker if self._speaker in sharers else sharers[0]

    def _on_levels(self) -> None:
        now_speaking = {
            t.participant_id for t in self._call.stage
            if not t.is_self and self._call.speaking(t.participant_id)
        }
        started = now_speaking - self._was_speaking
        self._was_speaking = now_speaking
        if started:
            # Several at once: keep the current speaker if among them, else any one.
            self._speaker = self._speaker if self._speaker in started else sorted(started)[0]
        elif now_speaking and self._speaker not in now_speaking:
            # The spotlight's owner went quiet while another talks on (and has been
            # talking since before): the one talking takes it.
            self._speaker = sorted(now_speaking)[0]
        self._tell()

    def _restage(self, *_: object) -> None:
        present = {t.participant_id for t in self._call.stage}
        if self._speaker not in present:
            self._speaker = ""
        if self._pinned not in present:
            self._pinned = ""
        self._tell()

    def _tell(self) -> None:
        focus = self.focus
        if focus != self._told:
            self._told = focus
            self.focus_changed.emit(focus)


class MutedTalk(QObject):
    """Notices you talking while muted, and lets you talk while you hold a key.

    Signals:
        hint_changed(bool): show (or hide) "You're talking while muted".
        push_to_talk_changed(bool): talking through push-to-talk now.
    """

    hint_changed = Signal(bool)
    push_to_talk_changed = Signal(bool)

    def __init__(self, call: CallController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call = call
        self._hint = False
        self._loud_since: float | None = None
        self._quiet_since: float | None = None
        self._holding = False
        call.levels_changed.connect(self._on_levels)
        call.sending_changed.connect(self._on_sending)

    @property
    def hint(self) -> bool:
        return self._hint

    @property
    def holding(self) -> bool:
        return self._holding

    def _on_levels(self) -> None:
        now = time.monotonic()
        if self._call.sending.audio:
            self._set_hint(False)
            return
        loud = self._call.level(self._call_me()) >= TALK_LEVEL
        if loud:
            self._quiet_since = None
            self._loud_since = self._loud_since or now
            if now - self._loud_since >= TALK_AFTER_S:
                self._set_hint(True)
        else:
            self._loud_since = None
            self._quiet_since = self._quiet_since or now
            if now - self._quiet_since >= QUIET_AFTER_S:
                self._set_hint(False)

    def _call_me(self) -> str:
        return self._call.me_id

    def _on_sending(self, *_: object) -> None:
        if self._call.sending.audio and not self._holding:
            self._set_hint(False)

    def _set_hint(self, on: bool) -> None:
        if on != self._hint:
            self._hint = on
            self.hint_changed.emit(on)

    # -- push-to-talk -------------------------------------------------------------------
    def press(self) -> bool:
        """The push-to-talk key went down: talk if muted. True when it took effect."""
        if self._holding or self._call.sending.audio or not self._call.active:
            return False
        self._holding = True
        self._call.set_microphone(True)
        self.push_to_talk_changed.emit(True)
        return True

    def release(self) -> None:
        """The key came up: muted again."""
        if not self._holding:
            return
        self._holding = False
        self._call.set_microphone(False)
        self.push_to_talk_changed.emit(False)


class CallQuality(QObject):
    """Connection quality per participant, and whether our own uplink is the problem.

    Signals:
        changed(): :meth:`of` has new answers.
        uplink_changed(bool): our own connection looks poor (towards everyone).
    """

    changed = Signal()
    uplink_changed = Signal(bool)

    def __init__(self, call: CallController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call = call
        self._judged: dict[str, tuple[str, str]] = {}
        self._silent_since: dict[str, float] = {}
        self._uplink_poor = False
        self._timer = QTimer(self)
        self._timer.setInterval(QUALITY_INTERVAL_MS)
        self._timer.timeout.connect(self.sample)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def of(self, participant_id: str) -> tuple[str, str]:
        """(good / poor / lost, the numbers in words); good and "" while unknown."""
        return self._judged.get(participant_id, (GOOD, ""))

    @property
    def uplink_poor(self) -> bool:
        return self._uplink_poor

    def sample(self) -> None:
        now = time.monotonic()
        numbers: dict[str, Numbers] = {}
        stats = self._call.service.stats()
        for pid in list(self._silent_since):
            if pid not in stats:
                del self._silent_since[pid]
        for pid, s in stats.items():
            if s.bitrate_in > 0:
                self._silent_since.pop(pid, None)
                silent = 0.0
            else:  # nothing arrived over the last interval (at least)
                since = self._silent_since.setdefault(pid, now - QUALITY_INTERVAL_MS / 1000)
                silent = now - since
            numbers[pid] = Numbers(
                s.state, s.rtt, s.loss, s.jitter, s.bitrate_in, s.bitrate_out, silent_for=silent
            )
        judged = {pid: (judge(n), describe(n)) for pid, n in numbers.items()}
        if judged != self._judged:
            self._judged = judged
            self.changed.emit()
        poor = uplink_poor(list(numbers.values()))
        if poor != self._uplink_poor:
            self._uplink_poor = poor
            self.uplink_changed.emit(poor)
