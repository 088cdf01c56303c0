"""HTTP handlers of wire contract v1 (plus ``/api/info`` and ``/api/health``).

Handlers validate, call the storage/services and answer; changes are
published on the event bus by the services, never sent to sockets from here.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from aiohttp import web

from conference_gui import __version__
from conference_gui import protocol as wire

from .auth import Identity, Role, bearer_token
from .context import ServerContext
from .errors import ApiError, ended_error
from .ids import new_id, new_invite, utc_now_iso
from .limits import RateLimiter, per_minute
from .names import clean_display_name, clean_title, content_disposition
from .storage import SessionNotFound, SessionRecord
from .uploads import Budget, Progress, UploadGate, receive_upload
from .validation import parse_body
from .wire import resource_wire, session_wire


class RateLimited(ApiError):
    """429 with a Retry-After header (the error middleware adds it)."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(429, "rate_limited",
                         f"Too many {what} from this address; try again in {retry_after} s")
        self.headers = {"Retry-After": str(retry_after)}


def answer(value: Any, status: int = 200) -> web.Response:
    """A protocol value as a JSON answer."""
    return web.Response(body=wire.encode(value), status=status, content_type="application/json")


class RestApi:
    def __init__(self, ctx: ServerContext) -> None:
        self._ctx = ctx
        config = ctx.config
        self._creates = per_minute(config.create_rate)
        self._invite_failures = per_minute(config.invite_failure_rate)
        self._uploads = UploadGate(config.uploads_per_user, config.uploads_total)

    def routes(self) -> list[web.RouteDef]:
        base = "/api/sessions/{sid}"
        return [
            web.get("/api/info", self.info),
            web.get("/api/health", self.health),
            web.post("/api/sessions", self.create_session),
            web.post(f"{base}/join", self.join_session),
            web.get(f"{base}/resources", self.list_resources),
            web.post(f"{base}/resources", self.upload_resource),
            web.get(f"{base}/resources/{{rid}}/content", self.download_resource),
            web.delete(f"{base}/resources/{{rid}}", self.delete_resource),
        ]

    # --- helpers ------------------------------------------------------------
    def _identity(self, request: web.Request) -> Identity:
        """The caller, who must hold a token of the session in the path (else 401/403)."""
        identity = self._ctx.tokens.verify(bearer_token(request.headers.get("Authorization")))
        if identity.session_id != request.match_info["sid"]:
            raise ApiError(403, "forbidden", "This token does not open that session")
        return identity

    async def _live(self, request: web.Request) -> Identity:
        """:meth:`_identity` of a session that exists (404) and was not ended (410)."""
        identity = self._identity(request)
        _check_live(await self._ctx.storage.get_session(identity.session_id))
        return identity

    async def _body(self, request: web.Request) -> bytes:
        """A whole JSON body, which must arrive within ``json_body_seconds`` (slowloris)."""
        try:
            return await asyncio.wait_for(request.read(), self._ctx.config.json_body_seconds)
        except TimeoutError:
            raise ApiError(408, "timeout", "The request body did not arrive in time") from None

    @staticmethod
    def _client(request: web.Request) -> str:
        return request.remote or "unknown"

    @staticmethod
    def _rate_limited(limiter: RateLimiter, key: str, what: str) -> ApiError:
        return RateLimited(what, limiter.retry_after(key))

    @staticmethod
    def _name(raw: str) -> str:
        name = clean_display_name(raw)
        if not name:
            raise ApiError(422, "invalid", "'name' must not be blank")
        return name

    def _identity_for(self, session: SessionRecord, name: str, role: Role
                      ) -> tuple[Identity, str]:
        identity = Identity(new_id(), session.id, name, role)
        return identity, self._ctx.tokens.issue(identity)

    # --- handlers -------------------------------------------------------------
    async def info(self, request: web.Request) -> web.Response:
        return answer(wire.ServerInfo(version=__version__,
                                      max_upload_bytes=self._ctx.config.max_upload_bytes))

    async def health(self, request: web.Request) -> web.Response:
        return answer(wire.Ok())

    async def create_session(self, request: web.Request) -> web.Response:
        body = parse_body(await self._body(request), wire.CreateSessionBody)
        title = clean_title(body.title)
        if not title:
            raise ApiError(422, "invalid", "'title' must not be blank")
        name = self._name(body.name)
        client = self._client(request)
        if not self._creates.allow(client):
            raise self._rate_limited(self._creates, client, "meetings created")
        session = SessionRecord(new_id(), title, new_invite(), utc_now_iso())
        await self._ctx.storage.create_session(session)
        identity, token = self._identity_for(session, name, "host")
        return answer(wire.SessionCreated(session=session_wire(session),
                                          user_id=identity.user_id, token=token,
                                          invite=session.invite), status=201)

    async def join_session(self, request: web.Request) -> web.Response:
        body = parse_body(await self._body(request), wire.JoinSessionBody)
        name = self._name(body.name)
        client = self._client(request)
        if self._invite_failures.blocked(client):  # guessing: refused before looking
            raise self._rate_limited(self._invite_failures, client, "wrong invite codes")
        session = await self._ctx.storage.get_session(request.match_info["sid"])
        if session is None:
            self._invite_failures.allow(client)
            raise ApiError(404, "not_found", "No such session")
        if not hmac.compare_digest(body.invite.encode(), session.invite.encode()):
            self._invite_failures.allow(client)
            raise ApiError(403, "forbidden", "The invite code is not valid for this session")
        if session.ended_at is not None:
            raise ended_error()
        identity, token = self._identity_for(session, name, "participant")
        return answer(wire.SessionJoined(session=session_wire(session),
                                         user_id=identity.user_id, token=token))

    async def list_resources(self, request: web.Request) -> web.Response:
        identity = await self._live(request)
        try:
            listing = await self._ctx.storage.list_resources(identity.session_id)
        except SessionNotFound:
            raise ApiError(404, "not_found", "No such session") from None
        return answer(wire.ResourceList(
            revision=listing.revision,
            resources=[resource_wire(r) for r in listing.resources]))

    async def upload_resource(self, request: web.Request) -> web.Response:
        identity = self._identity(request)
        storage = self._ctx.storage
        # Both reads at once: one trip to the storage's thread instead of two.
        session, (used_meeting, used_total) = await asyncio.gather(
            storage.get_session(identity.session_id), storage.usage(identity.session_id))
        _check_live(session)
        config = self._ctx.config
        with self._uploads.slot(identity.session_id, identity.user_id) as ticket:
            inflight_meeting = self._uploads.inflight.get(identity.session_id, 0)
            budget = Budget(
                meeting_room=config.meeting_quota_bytes - used_meeting - inflight_meeting,
                total_room=config.disk_quota_bytes - used_total - self._uploads.inflight_total(),
                meeting_quota=config.meeting_quota_bytes)
            budget.check(1)  # already full: say so before reading anything
            upload = await receive_upload(
                request, self._ctx.blobs, config.max_upload_bytes, budget=budget, ticket=ticket,
                progress=Progress(config.upload_stall_seconds, config.upload_min_bytes))
            resource, revision = await self._ctx.resources.add(identity, upload)
        return answer(wire.ResourceStored(resource=resource_wire(resource), revision=revision),
                      status=201)

    async def download_resource(self, request: web.Request) -> web.StreamResponse:
        identity = await self._live(request)
        resource = await self._ctx.resources.get(identity.session_id, request.match_info["rid"])
        path = self._ctx.blobs.path(resource.id)
        if not await asyncio.to_thread(path.is_file):  # listed, but its bytes are gone
            raise ApiError(404, "not_found", "The content of this resource is missing")
        return web.FileResponse(path, headers={
            "Content-Type": resource.content_type,
            "Content-Disposition": content_disposition(resource.name),
            "X-Content-Type-Options": "nosniff",
        })

    async def delete_resource(self, request: web.Request) -> web.Response:
        identity = await self._live(request)
        revision = await self._ctx.resources.delete(identity, request.match_info["rid"])
        return answer(wire.RevisionAnswer(revision=revision))


def _check_live(session: SessionRecord | None) -> None:
    """A session that exists (else 404) and was not ended (else 410)."""
    if session is None:
        raise ApiError(404, "not_found", "No such session")
    if session.ended_at is not None:
        raise ended_error()
