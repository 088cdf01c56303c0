"""A private PulseAudio daemon for device tests: a null sink and a microphone on its monitor.

Everything played to the null sink ``main`` comes back on the source ``mic``
(a remap of the sink's monitor: Qt does not list monitors as microphones), so
the real capture and playback paths can hear each other with no hardware.
The daemon gets its own runtime, state and home folders and one unix socket;
clients reach it through ``PULSE_SERVER`` only, and never autospawn another.

As root (CI), PulseAudio needs ``--system=false`` and logs "This program is
not intended to be run as root": expected, and kept in :attr:`PulseDaemon.log`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

MAIN_SINK = "main"
MAIN_SINK_NAME = "Main Output"
MIC = "mic"
MIC_NAME = "Main Microphone"


def available() -> bool:
    return shutil.which("pulseaudio") is not None and shutil.which("pactl") is not None


def _props(description: str) -> str:
    # Quoted for PulseAudio's module argument parser (names with spaces).
    return f"\"device.description='{description}'\""


class PulseDaemon:
    """``pulseaudio`` as a child process of the test, on a socket in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "native"
        self.log = root / "pulseaudio.log"
        for sub in ("run", "state", "home"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        client_conf = root / "client.conf"
        client_conf.write_text("autospawn = no\n", encoding="utf-8")
        #: The environment a client (Qt, pactl) needs to reach this daemon and no other.
        self.client_env = {
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_CLIENTCONFIG": str(client_conf),
        }
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        env = {
            **os.environ,
            "HOME": str(self.root / "home"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            "PULSE_RUNTIME_PATH": str(self.root / "run" / "pulse"),
            "PULSE_STATE_PATH": str(self.root / "state"),
        }
        args = [
            "pulseaudio",
            "-n",  # no default.pa: only the modules below
            "--daemonize=no",
            "--system=false",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--disable-shm=yes",
            "--log-target=stderr",
            "-L",
            f"module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
            "-L",
            f"module-null-sink sink_name={MAIN_SINK} sink_properties={_props(MAIN_SINK_NAME)}",
            "-L",
            f"module-remap-source master={MAIN_SINK}.monitor source_name={MIC} "
            f"source_properties={_props(MIC_NAME)}",
        ]
        with open(self.log, "wb") as log:
            self._proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"pulseaudio exited: {self.log.read_text(errors='replace')}")
            if self.socket.exists() and self._ready():
                sinks = self.pactl("list", "short", "sinks")
                sources = self.pactl("list", "short", "sources")
                if f"\t{MAIN_SINK}\t" not in f"\t{sinks}" or f"\t{MIC}\t" not in sources:
                    self.stop()  # a module did not load (PulseAudio starts anyway)
                    raise RuntimeError(f"pulseaudio devices missing: {self.log.read_text()}")
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pulseaudio did not start: {self.log.read_text(errors='replace')}")

    def _ready(self) -> bool:
        done = subprocess.run(
            ["pactl", "info"], env={**os.environ, **self.client_env}, capture_output=True
        )
        return done.returncode == 0

    def pactl(self, *args: str) -> str:
        done = subprocess.run(
            ["pactl", *args],
            env={**os.environ, **self.client_env},
            capture_output=True,
            text=True,
            timeout=10,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()

    def load_sink(self, name: str, description: str) -> int:
        """A new null sink (a speaker appearing, e.g. a headset plugged in); its module id."""
        return int(
            self.pactl(
                "load-module",
                "module-null-sink",
                f"sink_name={name}",
                f"sink_properties={_props(description)}",
            )
        )

    def load_mic(self, name: str, description: str, master: str = f"{MAIN_SINK}.monitor") -> int:
        """A new microphone hearing ``master``; its module id."""
        return int(
            self.pactl(
                "load-module",
                "module-remap-source",
                f"master={master}",
                f"source_name={name}",
                f"source_properties={_props(description)}",
            )
        )

    def unload(self, module: int) -> None:
        """Unplug: remove the device a module made."""
        self.pactl("unload-module", str(module))

    def client_streams(self, kind: str) -> list[str]:
        """Streams that clients opened ("sink-inputs" or "source-outputs"), not modules'."""
        lines = self.pactl("list", "short", kind).splitlines()
        return [line for line in lines if "protocol-native.c" in line.split("\t")]

    def module_with(self, argument: str) -> int:
        """The loaded module whose arguments contain ``argument`` ("source_name=mic")."""
        for line in self.pactl("list", "short", "modules").splitlines():
            fields = line.split("\t")
            if len(fields) > 2 and argument in fields[2].split():
                return int(fields[0])
        raise KeyError(argument)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
