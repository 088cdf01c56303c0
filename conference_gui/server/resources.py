"""Adding and removing resources: bytes, database row, revision and event together.

``Storage.ordered`` spans "commit to the database, then publish", so events
leave in revision order - from this node, and with PostgreSQL from all nodes -
and a listening client sees R, R+1, R+2 ... rather than a gap it would have to
refetch for. Byte I/O stays outside it.
"""

from __future__ import annotations

from .auth import Identity
from .blobs import BlobStore
from .errors import ApiError
from .events import EventBus, ResourceDeleted, ResourceUploaded
from .ids import new_id, utc_now_iso
from .storage import ResourceRecord, Storage
from .uploads import ReceivedUpload


class ResourceService:
    def __init__(self, storage: Storage, blobs: BlobStore, bus: EventBus) -> None:
        self._storage = storage
        self._blobs = blobs
        self._bus = bus

    async def add(self, uploader: Identity, upload: ReceivedUpload) -> tuple[ResourceRecord, int]:
        resource = ResourceRecord(
            id=new_id(),
            session_id=uploader.session_id,
            name=upload.name,
            size=upload.size,
            content_type=upload.content_type,
            uploader_id=uploader.user_id,
            uploader_name=uploader.name,
            uploaded_at=utc_now_iso(),
        )
        await upload.blob.commit(resource.id)
        async with self._storage.ordered(resource.session_id):
            try:
                revision = await self._storage.add_resource(resource)
            except Exception:
                await self._blobs.remove(resource.id)
                raise
            await self._bus.publish(ResourceUploaded(resource.session_id, resource, revision))
        return resource, revision

    async def get(self, session_id: str, resource_id: str) -> ResourceRecord:
        resource = await self._storage.get_resource(session_id, resource_id)
        if resource is None:
            raise ApiError(404, "not_found", "No such resource in this session")
        return resource

    async def delete(self, actor: Identity, resource_id: str) -> int:
        """Delete if ``actor`` uploaded it or is the host; returns the new revision."""
        resource = await self.get(actor.session_id, resource_id)
        if not actor.is_host and resource.uploader_id != actor.user_id:
            raise ApiError(403, "forbidden", "Only the uploader or the host can delete this")
        async with self._storage.ordered(actor.session_id):
            revision = await self._storage.delete_resource(actor.session_id, resource_id)
            if revision is None:  # someone else deleted it a moment ago
                raise ApiError(404, "not_found", "No such resource in this session")
            await self._bus.publish(
                ResourceDeleted(
                    actor.session_id, resource_id, revision, (actor.user_id, actor.name)
                )
            )
        await self._blobs.remove(resource_id)
        return revision
