"""A real Janus Gateway for tests and benches, on a private address of the test's own.

Janus (libnice) never gathers loopback candidates, so the caller first adds a
veth pair with an address of its choosing inside the private network
namespace (``tests.netns.add_veth_pair``); Janus then listens and gathers on
that address only. The configuration is written here, from nothing of the
system's: only the VideoRoom plugin and the WebSocket transport are loaded
(a plugin folder of symlinks), the Admin API and the HTTP transport are off,
no event handlers or loggers, an ``api_secret`` and the VideoRoom's
``admin_key`` of the test's own. Nothing else is reachable from outside the
namespace.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

JANUS = shutil.which("janus") or "/usr/bin/janus"
LIB = Path("/usr/lib/x86_64-linux-gnu/janus")


def find_lib() -> Path:
    """Where Debian put the plugins (multiarch)."""
    for candidate in (LIB, *Path("/usr/lib").glob("*/janus")):
        if (candidate / "plugins" / "libjanus_videoroom.so").exists():
            return candidate
    raise FileNotFoundError("janus's VideoRoom plugin is not installed (apt-get install janus)")


def available() -> bool:
    try:
        find_lib()
    except FileNotFoundError:
        return False
    return os.path.exists(JANUS)


@dataclass
class JanusProcess:
    """One running Janus; :attr:`url` is what ``--janus-url`` takes (secrets included)."""

    address: str
    port: int
    folder: Path
    rtp_ports: tuple[int, int]
    api_secret: str
    admin_key: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return (f"ws://{self.address}:{self.port}/?apisecret={self.api_secret}"
                f"&adminkey={self.admin_key}")

    @property
    def log_path(self) -> Path:
        return self.folder / "janus.log"

    def write_config(self) -> None:
        lib = find_lib()
        conf = self.folder / "conf"
        plugins, transports, empty = (self.folder / "plugins", self.folder / "transports",
                                      self.folder / "empty")
        for folder in (conf, plugins, transports, empty):
            folder.mkdir(parents=True, exist_ok=True)
        for link, target in ((plugins / "libjanus_videoroom.so",
                              lib / "plugins" / "libjanus_videoroom.so"),
                             (transports / "libjanus_websockets.so",
                              lib / "transports" / "libjanus_websockets.so")):
            if not link.exists():
                link.symlink_to(target)
        low, high = self.rtp_ports
        (conf / "janus.jcfg").write_text(f"""
general: {{
    configs_folder = "{conf}"
    plugins_folder = "{plugins}"
    transports_folder = "{transports}"
    events_folder = "{empty}"
    loggers_folder = "{empty}"
    debug_level = 4
    interface = "{self.address}"
    api_secret = "{self.api_secret}"
    admin_secret = "{secrets.token_hex(16)}"
    session_timeout = 60
}}
media: {{
    rtp_port_range = "{low}-{high}"
}}
nat: {{
    nice_debug = false
    ice_enforce_list = "{self.address}"
    ignore_mdns = true
}}
plugins: {{}}
transports: {{}}
events: {{ broadcast = false }}
""")
        (conf / "janus.transport.websockets.jcfg").write_text(f"""
general: {{
    json = "plain"
    ws = true
    ws_port = {self.port}
    ws_ip = "{self.address}"
    wss = false
}}
admin: {{
    admin_ws = false
    admin_wss = false
}}
""")
        (conf / "janus.plugin.videoroom.jcfg").write_text(f"""
general: {{
    admin_key = "{self.admin_key}"
    lock_rtp_forward = true
}}
""")

    def start(self, timeout: float = 15.0) -> JanusProcess:
        self.write_config()
        conf = self.folder / "conf"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [JANUS, "-F", str(conf), "-C", str(conf / "janus.jcfg")],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"janus exited with {self.process.returncode}:\n"
                                   + self.log_tail())
            with contextlib.suppress(OSError), socket.create_connection(
                    (self.address, self.port), timeout=0.5):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("janus did not listen in time:\n" + self.log_tail())

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        """SIGKILL: what a crashed media server looks like."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


def start_janus(folder: Path, address: str, port: int = 18188,
                rtp_ports: tuple[int, int] = (20000, 20999)) -> JanusProcess:
    folder.mkdir(parents=True, exist_ok=True)
    return JanusProcess(address=address, port=port, folder=folder, rtp_ports=rtp_ports,
                        api_secret=secrets.token_hex(12),
                        admin_key=secrets.token_hex(12)).start()
