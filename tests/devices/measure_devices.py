"""Measure the device layer for docs/CALLS.md ("Devices"): CPU and conversion cost.

Not a test (pytest does not collect it). Each measurement runs in a fresh
process with its own private PulseAudio daemon (``tests/devices/pulse.py``),
on the same null sink and microphone the real-device tests use::

    .venv/bin/python -m tests.devices.measure_devices cpu --seconds 30 --runs 3
    .venv/bin/python -m tests.devices.measure_devices convert

``cpu`` compares, for microphone capture + speaker playback at 48 kHz mono
int16, the process CPU of

* ``harness``: only the stand-in for the call engine (a Qt event loop that
  writes a tone into the playback ring every 10 ms and drains the microphone
  ring every 20 ms): the floor, subtracted from the others;
* ``qt``: the app's ``MediaDevices`` (QtMultimedia on the device thread);
* ``fake``: ``MediaDevices`` with fake devices (``--fake-media``: the drawn
  camera at 30 fps, the tone, the silent speaker);
* ``sounddevice``: the minimal PortAudio equivalent (``sounddevice`` input and
  output streams with callbacks that write/read the same rings and level
  meter), through ALSA's PulseAudio plugin as PortAudio 19.6 does on Linux.
  Needs ``sounddevice`` importable (e.g. ``pip install --target DIR
  sounddevice`` and ``PYTHONPATH=DIR``) and ``libportaudio2``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.devices.pulse import PulseDaemon


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def _run_variant(variant: str, seconds: float) -> dict[str, Any]:
    """In this process: set up ``variant``, let it settle, measure CPU for ``seconds``."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QGuiApplication

    from conference_gui.media.exchange import SAMPLE_RATE, LevelMeter, PcmRing, ToneSource
    from conference_gui.services.media import MediaDevices
    from conference_gui.services.settings import AppSettings

    app = QGuiApplication.instance() or QGuiApplication([])
    tone = ToneSource(1000.0, 0.3)
    keep: list[Any] = []
    underflows = [0]
    if variant in ("qt", "fake"):
        settings = AppSettings.at(Path(tempfile.mkdtemp()) / "s.ini")
        devices = MediaDevices(settings, fake=variant == "fake", name="bench")
        devices.start()
        playback, mic, level = devices.playback, devices.microphone_ring, devices.mic_level
        keep.append(devices)
    else:
        playback, mic, level = PcmRing(SAMPLE_RATE // 4), PcmRing(SAMPLE_RATE // 10), LevelMeter()
        if variant == "sounddevice":
            keep.extend(_sounddevice_streams(playback, mic, level, underflows))

    t0 = time.monotonic()
    fed = [0]
    heard = [0]

    def feed() -> None:  # the engine writing the mix of the others' sound
        due = int((time.monotonic() - t0) * SAMPLE_RATE) - fed[0]
        if due > 0:
            playback.write(tone.read(due))
            fed[0] += due

    def drain() -> None:  # the engine reading the microphone
        heard[0] += int(mic.read(mic.capacity).size)

    timers = []
    for interval, slot in ((10, feed), (20, drain)):
        timer = QTimer()
        timer.setInterval(interval)
        timer.timeout.connect(slot)
        timer.start()
        timers.append(timer)

    def spin(s: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(s * 1000), loop.quit)
        loop.exec()

    spin(2.0)  # settle (the null sink lowers its latency in the first second)
    cpu0, wall0, heard0 = _cpu_seconds(), time.monotonic(), heard[0]
    spin(seconds)
    cpu, wall = _cpu_seconds() - cpu0, time.monotonic() - wall0
    result = {
        "variant": variant,
        "cpu_percent": round(100 * cpu / wall, 2),
        "mic_samples_per_s": round((heard[0] - heard0) / wall),
        "mic_level": round(level.level(), 3),
        "underruns": keep[0].speaker.underruns
        if keep and variant != "sounddevice"
        else underflows[0],
    }
    for timer in timers:
        timer.stop()
    if variant in ("qt", "fake"):
        keep[0].stop()
    else:
        for stream in keep:
            stream.stop()
            stream.close()
    del app
    return result


def _sounddevice_streams(playback: Any, mic: Any, level: Any, underflows: list[int]) -> list[Any]:
    import sounddevice as sd

    def on_input(indata: Any, _frames: int, _time: Any, _status: Any) -> None:
        samples = indata[:, 0].copy()
        mic.write(samples)
        level.push(samples)

    def on_output(outdata: Any, frames: int, _time: Any, status: Any) -> None:
        if status.output_underflow:
            underflows[0] += 1
        got = playback.read(frames)
        outdata[: got.size, 0] = got
        outdata[got.size :, 0] = 0

    common = {"samplerate": 48_000, "channels": 1, "dtype": "int16", "device": "pulse"}
    streams = [
        sd.InputStream(callback=on_input, blocksize=960, latency=0.02, **common),
        sd.OutputStream(callback=on_output, blocksize=480, latency=0.05, **common),
    ]
    for stream in streams:
        stream.start()
    return streams


def cpu(seconds: float, runs: int, variants: list[str]) -> None:
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for _ in range(runs):
        for variant in variants:
            root = Path(tempfile.mkdtemp(prefix="cgui-pulse-"))
            daemon = PulseDaemon(root)
            daemon.start()
            try:
                done = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "tests.devices.measure_devices",
                        "one",
                        variant,
                        "--seconds",
                        str(seconds),
                    ],
                    env={**os.environ, **daemon.client_env, "QT_QPA_PLATFORM": "offscreen"},
                    capture_output=True,
                    text=True,
                    timeout=seconds + 60,
                    check=True,
                )
            finally:
                daemon.stop()
            line = done.stdout.strip().splitlines()[-1]
            results[variant].append(json.loads(line))
            print(line, flush=True)
    for variant, rows in results.items():
        cpus = [r["cpu_percent"] for r in rows]
        print(f"{variant}: median CPU {statistics.median(cpus):.2f} % of one core (runs: {cpus})")


def convert() -> None:
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtMultimedia import QVideoFrame, QVideoFrameFormat

    from conference_gui.services.media.video_frames import video_frame_to_image

    _app = QGuiApplication.instance() or QGuiApplication([])
    pf = QVideoFrameFormat.PixelFormat
    for name, fmt in (
        ("NV12", pf.Format_NV12),
        ("YUYV", pf.Format_YUYV),
        ("YUV420P", pf.Format_YUV420P),
        ("BGRA8888", pf.Format_BGRA8888),
    ):
        for w, h in ((640, 480), (1280, 720)):
            frame = QVideoFrame(QVideoFrameFormat(QSize(w, h), fmt))
            frame.map(QVideoFrame.MapMode.WriteOnly)
            for i in range(frame.planeCount()):
                np.frombuffer(frame.bits(i), dtype=np.uint8)[:] = 100
            frame.unmap()
            times = []
            for _ in range(60):
                t = time.perf_counter()
                video_frame_to_image(frame, 0.0)
                times.append(time.perf_counter() - t)
            print(f"{name} {w}x{h}: median {statistics.median(times) * 1000:.2f} ms per frame")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p_cpu = sub.add_parser("cpu")
    p_cpu.add_argument("--seconds", type=float, default=30.0)
    p_cpu.add_argument("--runs", type=int, default=3)
    p_cpu.add_argument("--variants", default="harness,qt,sounddevice")
    p_one = sub.add_parser("one")
    p_one.add_argument("variant")
    p_one.add_argument("--seconds", type=float, default=30.0)
    sub.add_parser("convert")
    args = parser.parse_args()
    if args.command == "cpu":
        cpu(args.seconds, args.runs, args.variants.split(","))
    elif args.command == "one":
        import conference_gui.services.media  # its Qt log rule, before QtMultimedia loads

        print(json.dumps(_run_variant(args.variant, args.seconds)))
    else:
        import conference_gui.services.media  # noqa: F401

        convert()


if __name__ == "__main__":
    main()
