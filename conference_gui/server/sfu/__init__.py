"""The SFU: a Janus Gateway (VideoRoom) brokered by the server (docs/WIRE.md, "The SFU").

``janus.py`` speaks Janus's WebSocket API, ``rooms.py`` remembers which Janus
and room serve a meeting (PostgreSQL with several nodes), ``broker.py``
decides the call's mode and turns the clients' ``sfu-*`` events into Janus
requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .broker import SfuBroker, SfuSettings
from .janus import JanusTarget
from .rooms import MemoryRooms, RoomDirectory

if TYPE_CHECKING:
    from ..config import ServerConfig
    from ..meeting import MeetingRegistry
    from ..storage import Storage


def make_broker(config: ServerConfig, storage: Storage, meetings: MeetingRegistry) -> SfuBroker:
    """The node's broker: disabled (always mesh) without ``--janus-url``."""
    targets = tuple(JanusTarget.parse(url) for url in config.janus_urls)
    rooms: RoomDirectory = MemoryRooms()
    if targets and type(storage).__name__ == "PostgresStorage":
        from ..pg_storage import PostgresStorage
        from .rooms import PgRooms

        assert isinstance(storage, PostgresStorage)
        rooms = PgRooms(storage)
    settings = SfuSettings(targets=targets, mesh_delay=config.sfu_mesh_delay)
    return SfuBroker(settings, meetings, rooms)


__all__ = ["JanusTarget", "SfuBroker", "SfuSettings", "make_broker"]
