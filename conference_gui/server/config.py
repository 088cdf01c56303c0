"""Server configuration: one immutable value handed to ``build_app``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "conference-gui"


def default_data_dir() -> Path:
    """The per-user data folder; ``appauthor=False`` avoids a doubled folder on Windows."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


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

    def __post_init__(self) -> None:
        # Accept str paths from callers; everything below works with Path.
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.max_upload_mb <= 0:
            raise ValueError("max_upload_mb must be positive")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be within 0..65535")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
