"""Server configuration: one immutable value handed to ``build_app``."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import platformdirs

APP_NAME = "conference-gui"


def is_loopback(host: str) -> bool:
    """True for addresses that never leave this machine: 127.0.0.0/8, ::1, localhost."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another host name (or every interface): reachable from elsewhere


def default_data_dir() -> Path:
    """The per-user data folder; ``appauthor=False`` avoids a doubled folder on Windows."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


#: Per participant and event: ``(messages per second, burst)`` (docs/RELIABILITY.md, Limits).
#: A call's start sends an offer, an answer and a few candidates per peer at once,
#: hence signal's burst.
DEFAULT_EVENT_RATES: Mapping[str, tuple[float, float]] = MappingProxyType({
    "join-session": (2.0, 10.0),
    "raise-hand": (2.0, 10.0),
    "lower-hand": (5.0, 20.0),
    "chat-message": (2.0, 10.0),
    "chat-history": (5.0, 20.0),
    "poll-create": (0.5, 5.0),
    "poll-vote": (5.0, 20.0),
    "poll-close": (2.0, 10.0),
    "signal": (50.0, 200.0),
    "media-state": (10.0, 20.0),
    "call-claim": (2.0, 10.0),
    "end-meeting": (1.0, 5.0),
    "reaction": (2.0, 8.0),
    # The SFU (docs/WIRE.md): one publish per mode switch or reconnect; one subscription
    # (subscribe + answer) per other participant, all at once when a call moves.
    "sfu-publish": (1.0, 10.0),
    "sfu-subscribe": (20.0, 200.0),
    "sfu-answer": (20.0, 200.0),
    "sfu-unsubscribe": (20.0, 200.0),
    "sfu-leave": (1.0, 10.0),
})


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything the server needs to know at start; nothing else is read from the environment."""

    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: Path = field(default_factory=default_data_dir)
    max_upload_mb: float = 512
    redis_url: str | None = None
    database_url: str | None = None
    token_ttl_seconds: int = 12 * 3600
    test_hooks: bool = False
    # --- TLS (server/tls.py): HTTPS and WSS unless the server binds loopback only ------
    #: a certificate (PEM) of your own and its key (PEM; may be in the same file)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: plain HTTP on a non-loopback address, on purpose (a proxy in front terminates TLS)
    insecure_http: bool = False
    #: Janus Gateways (``ws://HOST:PORT``) for the SFU; none: every call is a mesh
    janus_urls: tuple[str, ...] = ()
    #: seconds a call must be back to two people before it leaves the SFU
    sfu_mesh_delay: float = 3.0

    # --- limits a participant cannot talk past (docs/RELIABILITY.md, "Limits") ---------
    #: largest Socket.IO message accepted (engine.io ``max_http_buffer_size``)
    max_socket_message_kb: int = 256
    #: engine.io heartbeat: a client that does not answer a ping within the timeout is gone
    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    #: what may wait to be sent to one connection; a slower reader is disconnected
    max_queue_kb: int = 4096
    max_queue_packets: int = 2000
    #: a relayed signal's ``data``, as JSON, and how deeply it may nest
    max_signal_kb: int = 64
    max_signal_depth: int = 32
    #: the newest chat messages in a join ack (older ones: ``chat-history``)
    join_chat_messages: int = 50
    join_chat_kb: int = 256
    #: polls one meeting may hold
    max_polls: int = 50
    #: live Socket.IO connections of one user (one token's user) per server node
    connections_per_user: int = 8
    #: per participant and event: (per second, burst)
    event_rates: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: DEFAULT_EVENT_RATES)
    #: an upload body must bring at least ``upload_min_bytes`` every ``upload_stall_seconds``
    upload_stall_seconds: float = 20.0
    upload_min_bytes: int = 16 * 1024
    #: whole JSON bodies must arrive within this time
    json_body_seconds: float = 30.0
    #: uploads received at the same time, per user and in total
    uploads_per_user: int = 4
    uploads_total: int = 64
    #: disk used by the files of one meeting, and by all files of this data folder
    meeting_quota_mb: float = 2048
    disk_quota_mb: float = 20480
    #: meetings created per client address: (per minute, burst)
    create_rate: tuple[float, float] = (10.0, 10.0)
    #: wrong invite codes per client address: (per minute, burst)
    invite_failure_rate: tuple[float, float] = (10.0, 10.0)

    def __post_init__(self) -> None:
        # Accept str paths from callers; everything below works with Path.
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.max_upload_mb <= 0:
            raise ValueError("max_upload_mb must be positive")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be within 0..65535")
        for name in ("tls_cert", "tls_key"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, Path(getattr(self, name)))
        if self.tls_key is not None and self.tls_cert is None:
            raise ValueError("--tls-key needs --tls-cert")
        if self.insecure_http and self.tls_cert is not None:
            raise ValueError("--insecure-http and --tls-cert contradict each other")

    @property
    def serves_tls(self) -> bool:
        """HTTPS/WSS: with a certificate given, or on any address but loopback unless
        ``insecure_http`` says otherwise (docs/SCALING.md, "TLS")."""
        if self.tls_cert is not None:
            return True
        return not self.insecure_http and not is_loopback(self.host)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def meeting_quota_bytes(self) -> int:
        return int(self.meeting_quota_mb * 1024 * 1024)

    @property
    def disk_quota_bytes(self) -> int:
        return int(self.disk_quota_mb * 1024 * 1024)
