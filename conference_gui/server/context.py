"""The parts of one running server, built once by ``build_app`` and handed around."""

from __future__ import annotations

from dataclasses import dataclass

from .auth import TokenService
from .blobs import BlobStore
from .config import ServerConfig
from .events import EventBus
from .meeting import MeetingRegistry
from .resources import ResourceService
from .storage import Storage


@dataclass(frozen=True, slots=True)
class ServerContext:
    config: ServerConfig
    storage: Storage
    blobs: BlobStore
    tokens: TokenService
    bus: EventBus
    meetings: MeetingRegistry
    resources: ResourceService
