"""``conference-gui --self-check``: the parts of the install a call needs.

Besides opening a meeting window against a temporary embedded server (see
``app._self_check``), the self-check makes a short call between two of the
app's own call engines in this process, over loopback only:

* ICE with the loopback-only policy (``media.ice``: nothing leaves the
  machine, even on one with a network), DTLS and SRTP (cryptography,
  pyOpenSSL, pylibsrtp);
* a synthetic 640×480 picture encoded and decoded (VP8 through PyAV's
  FFmpeg and libvpx), and a tone (Opus), until ``frames`` pictures were
  decoded on the other side and the tone's level is heard there;
* Qt Multimedia's platform plugins (the FFmpeg back end the camera needs)
  load: a bundle without them would open windows but never a camera.

Signaling goes from one engine to the other in memory (as JSON, like the
socket would carry it). Nothing here touches a real camera or microphone.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass

import numpy as np

from conference_gui.media import ice
from conference_gui.media.engine import CallEngine
from conference_gui.media.exchange import FrameSlot, ToneSource, VideoImage

WIDTH, HEIGHT, FPS = 640, 480, 30
#: The tone is sent at 0.3 of full scale; Opus and the RMS window give ~0.2.
HEARD = 0.05


@dataclass(frozen=True, slots=True)
class CallCheck:
    peers: int
    frames: int
    level: float
    seconds: float
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        return (
            f"call: {self.peers} peers, {self.frames} frames decoded, "
            f"audio level {self.level:.2f}"
        )


class _Relay:
    """Each engine's listener: signals go to the other engine, problems are kept."""

    def __init__(self, me: str) -> None:
        self.me = me
        self.other: CallEngine | None = None
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def send_signal(self, to: str, data: dict[str, object]) -> None:
        other = self.other
        if other is not None:
            other.handle_signal(self.me, json.loads(json.dumps(data)))

    def peer_state(self, pid: str, state: str) -> None:
        if state == "failed":
            with self._lock:
                self.problems.append(f"{self.me} → {pid}: connection failed")

    def remote_media(self, pid: str, source: str, receiving: bool) -> None:
        pass

    def problem(self, pid: str | None, message: str) -> None:
        with self._lock:
            self.problems.append(f"{self.me}: {message}")


def _pictures(slot: FrameSlot, stop: threading.Event) -> None:
    """A moving colour gradient, 30 pictures a second, into ``slot`` (a fake camera)."""
    x = np.linspace(0, 255, WIDTH * 2, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, HEIGHT, dtype=np.float32)[:, None]
    base = np.empty((HEIGHT, WIDTH * 2, 4), dtype=np.uint8)
    base[..., 0] = np.broadcast_to(x, (HEIGHT, WIDTH * 2))
    base[..., 1] = np.broadcast_to(y, (HEIGHT, WIDTH * 2))
    base[..., 2] = 128
    base[..., 3] = 255
    n = 0
    due = time.monotonic()
    while not stop.is_set():
        shift = (n * 8) % WIDTH
        slot.put(VideoImage(np.ascontiguousarray(base[:, shift : shift + WIDTH]), time.monotonic()))
        n += 1
        due += 1 / FPS
        stop.wait(max(0.0, due - time.monotonic()))


async def call_check(frames: int = 30, timeout: float = 20.0) -> CallCheck:
    """Call from engine "a" (camera and tone) to engine "b" over loopback; wait
    until ``frames`` pictures were decoded at "b" and the tone is heard there."""
    started = time.monotonic()
    policy = ice.IcePolicy.loopback_only()
    relays = {name: _Relay(name) for name in ("a", "b")}
    engines = {
        name: CallEngine(relays[name], ice=policy, name=f"self-check-call-{name}")
        for name in relays
    }
    relays["a"].other, relays["b"].other = engines["b"], engines["a"]
    camera = FrameSlot()
    stop = threading.Event()
    producer = threading.Thread(
        target=_pictures, args=(camera, stop), name="self-check-camera", daemon=True
    )
    received = engines["b"].remote_slot("a", "camera")
    seen, level = 0, 0.0
    problems: list[str] = []
    try:
        for engine in engines.values():
            engine.start()
        engines["a"].set_camera(camera)
        engines["a"].set_microphone(ToneSource())
        engines["a"].set_sending(True, True, False)
        engines["b"].set_sending(False, False, False)
        producer.start()
        first = received.seq
        engines["a"].join("a", ["b"])
        engines["b"].join("b", ["a"])
        deadline = started + timeout
        while time.monotonic() < deadline:
            seen = received.seq - first
            level = max(level, engines["b"].levels().get("a", 0.0))
            if seen >= frames and level >= HEARD:
                break
            await asyncio.sleep(0.05)
        else:
            problems.append(
                f"no call within {timeout:.0f} s: {seen} of {frames} frames decoded, "
                f"audio level {level:.2f}"
            )
    finally:
        stop.set()
        stopped = await asyncio.gather(
            *(asyncio.to_thread(engine.stop) for engine in engines.values())
        )
        if producer.is_alive():
            await asyncio.to_thread(producer.join, 2.0)
    if not all(stopped):
        problems.append("a call engine did not stop")
    if problems:
        for relay in relays.values():
            problems.extend(relay.problems)
    return CallCheck(2, seen, level, time.monotonic() - started, tuple(problems))


def media_backends() -> tuple[list[str], list[str]]:
    """Load every Qt Multimedia platform plugin there is; returns (loaded, failures).

    Loading proves the plugin and every library it links (for the FFmpeg back
    end: Qt's own FFmpeg, Qt Quick, ...) are present; no device is opened.
    """
    from PySide6.QtCore import QDir, QLibraryInfo, QPluginLoader

    folder = QDir(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath) + "/multimedia")
    loaded: list[str] = []
    failures: list[str] = []
    for name in sorted(folder.entryList(QDir.Filter.Files)):
        loader = QPluginLoader(folder.filePath(name))
        label = name.removeprefix("lib").split(".")[0].removesuffix("mediaplugin")
        if loader.load():
            loaded.append(label)
        else:
            failures.append(f"{name}: {loader.errorString()}")
    if not loaded and not failures:
        failures.append(f"no Qt Multimedia plugin in {folder.path()}")
    return loaded, failures


def text_services() -> list[str]:
    """What Qt asks of ICU works (the bundle carries ICU's data trimmed: packaging/icu_data.py):
    a locale's collation (Swedish sorts Ö after Z), a legacy encoding, a locale's case
    mapping. Returns failures."""
    from PySide6.QtCore import QCollator, QLocale, QStringDecoder

    failures = []
    swedish = QCollator(QLocale("sv_SE"))
    if swedish.compare("Öl", "Zebra") <= 0:
        failures.append("ICU collation: Swedish does not sort Ö after Z")
    if not QStringDecoder("Shift_JIS").isValid():
        failures.append("ICU converters: no Shift_JIS")
    if QLocale("tr_TR").toUpper("i") != "\u0130":
        failures.append("ICU case mapping: Turkish i does not become İ")
    return failures
