"""One object the call feature is given: every device, started and stopped together.

:class:`MediaDevices` builds the catalog, the device thread and the three
devices, remembers the person's choices in :class:`AppSettings`, and hands
out the exchange points the call engine and the tiles use:

========================  ===============================================  ==========
attribute                 what                                             who reads
========================  ===============================================  ==========
``microphone_source``     48 kHz mono int16 from the microphone (PcmRing)  engine
``mic_level``             the microphone's level, also while muted         self tile, Preferences
``camera_frames``         latest BGRA picture of the camera (FrameSlot)    engine, self tile
``playback``              the mix to play (PcmRing; the engine writes it)  speaker
``speaker_level``         level of what the speaker plays                  Preferences
``screen_frames``         latest BGRA picture of the shared screen         engine
========================  ===============================================  ==========

``screen`` (:class:`ScreenCapture`) shares a screen or a window on the same
device thread; it starts only when asked (:meth:`ScreenCapture.start`), not
with :meth:`MediaDevices.start`.

Threading: this object, the catalog and the three device handles live on the
GUI thread and emit all their signals there. The devices run on one
dedicated thread (``cgui-devices``); the exchange points are thread-safe and
never block. Nothing here converts or copies media on the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from conference_gui.media.exchange import FrameSlot, LevelMeter, PcmRing, PcmSource, ToneSource
from conference_gui.services.media.camera import CameraCapture
from conference_gui.services.media.catalog import DeviceCatalog, DeviceKind
from conference_gui.services.media.device_handle import DeviceHandle
from conference_gui.services.media.device_thread import DeviceThread
from conference_gui.services.media.microphone import MicrophoneCapture
from conference_gui.services.media.screen import ScreenCapture
from conference_gui.services.media.speaker import SpeakerPlayback
from conference_gui.services.settings import AppSettings


class MediaDevices(QObject):
    """Camera, microphone and speaker for a call (real ones, or fakes with ``fake``).

    ``fake`` (``--fake-media``) makes the camera the synthetic picture with
    ``name`` drawn in and the microphone a tone (:attr:`tone`). The speaker is
    faked too unless ``fake_speaker=False``: a fake speaker plays nowhere at
    the real pace, so a machine without a sound server (CI) never touches the
    audio system; pass ``False`` to hear a call made with fake devices.

    Signals (all on the GUI thread):
        device_fell_back(str kind, str old name, str new name): the device of
            that :class:`DeviceKind` in use was unplugged; ``new name`` took over.
        device_problem(str kind, str state, str message): a device's state
            changed (``message`` is the sentence to show, "" when all is well:
            "No camera found", "The camera is in use by another program", ...).
        device_changed(str kind, str device id, str name): now using this device.
        devices_changed(str kind): the list of that kind changed (Preferences' pickers).
    """

    device_fell_back = Signal(str, str, str)
    device_problem = Signal(str, str, str)
    device_changed = Signal(str, str, str)
    devices_changed = Signal(str)

    def __init__(
        self,
        settings: AppSettings,
        *,
        fake: bool,
        name: str,
        fake_speaker: bool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self.fake = fake
        faked = {DeviceKind.CAMERA, DeviceKind.MICROPHONE} if fake else set()
        if fake if fake_speaker is None else fake_speaker:
            faked.add(DeviceKind.SPEAKER)
        self.catalog = DeviceCatalog(fake=faked, parent=self)
        self.device_thread = DeviceThread(self)
        self.tone = ToneSource()
        self.microphone = MicrophoneCapture(
            self.catalog, self.device_thread, tone=self.tone, parent=self
        )
        self.camera = CameraCapture(self.catalog, self.device_thread, name=name, parent=self)
        self.speaker = SpeakerPlayback(self.catalog, self.device_thread, parent=self)
        self.screen = ScreenCapture(self.device_thread, parent=self)
        self.microphone.set_device(settings.microphone_id())
        self.camera.set_device(settings.camera_id())
        self.speaker.set_device(settings.speaker_id())
        self._camera_enabled = True
        self._camera_preview = False
        self._started = False
        self.catalog.changed.connect(self.devices_changed)
        for handle in self.handles():
            self._relay(handle)

    # -- exchange points ---------------------------------------------------------------
    @property
    def microphone_source(self) -> PcmSource:
        return self.microphone.ring

    @property
    def microphone_ring(self) -> PcmRing:
        return self.microphone.ring

    @property
    def mic_level(self) -> LevelMeter:
        return self.microphone.level

    @property
    def camera_frames(self) -> FrameSlot:
        return self.camera.frames

    @property
    def screen_frames(self) -> FrameSlot:
        return self.screen.frames

    @property
    def playback(self) -> PcmRing:
        return self.speaker.ring

    @property
    def speaker_level(self) -> LevelMeter:
        return self.speaker.level

    def handles(self) -> tuple[DeviceHandle, ...]:
        return (self.microphone, self.camera, self.speaker)

    # -- life ------------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._started

    def start(self) -> None:
        """Start the device thread, the microphone, the speaker, and the camera if enabled."""
        if self._started:
            return
        self._started = True
        self.device_thread.start()
        self.microphone.start()
        self.speaker.start()
        self._apply_camera()

    def stop(self) -> None:
        """Close every device and end the device thread (blocks for a few ms). Final."""
        self.screen.stop()
        self.screen.thumbnails.stop()
        for handle in self.handles():
            handle.stop()
        self.device_thread.stop()
        self._started = False

    def set_camera_enabled(self, enabled: bool) -> None:
        """Camera on or off. Off really stops the camera: its light goes out."""
        self._camera_enabled = enabled
        self._apply_camera()

    def set_camera_preview(self, on: bool) -> None:
        """Keep the camera running for a preview (Preferences) even while it is off.

        What is *sent* does not change: the call sends the camera only while
        it is enabled (the engine's own switch); this only runs the device.
        """
        self._camera_preview = on
        self._apply_camera()

    def _apply_camera(self) -> None:
        if not self._started:
            return
        if self._camera_enabled or self._camera_preview:
            self.camera.start()
        else:
            self.camera.stop()

    @property
    def camera_enabled(self) -> bool:
        return self._camera_enabled

    # -- choices (Preferences) -----------------------------------------------------------
    def set_microphone(self, device_id: str | None) -> None:
        self._settings.set_microphone_id(device_id)
        self.microphone.set_device(device_id)

    def set_camera(self, device_id: str | None) -> None:
        self._settings.set_camera_id(device_id)
        self.camera.set_device(device_id)

    def set_speaker(self, device_id: str | None) -> None:
        self._settings.set_speaker_id(device_id)
        self.speaker.set_device(device_id)

    def play_test_sound(self) -> None:
        self.speaker.play_test_sound()

    def _relay(self, handle: DeviceHandle) -> None:
        kind = handle.kind.value
        handle.fell_back.connect(lambda old, new: self.device_fell_back.emit(kind, old, new))
        handle.state_changed.connect(
            lambda state, message: self.device_problem.emit(kind, state, message)
        )
        handle.device_changed.connect(
            lambda device_id, name: self.device_changed.emit(kind, device_id, name)
        )
