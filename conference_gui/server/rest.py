"""HTTP handlers of wire contract v1 (plus ``/api/info`` and ``/api/health``).

Handlers validate, call the storage/services and answer; changes are
published on the event bus by the services, never sent to sockets from here.
"""

from __future__ import annotations

import asyncio
import hmac
import json

from aiohttp import web

from conference_gui import __version__

from .auth import Identity, Role, bearer_token
from .context import ServerContext
from .errors import ApiError
from .ids import new_id, new_invite, utc_now_iso
from .names import clean_display_name, clean_title, content_disposition
from .storage import SessionNotFound, SessionRecord
from .uploads import receive_upload
from .validation import expect_object, get_str
from .wire import resource_json, session_json

_MAX_RAW_FIELD = 1000


class RestApi:
    def __init__(self, ctx: ServerContext) -> None:
        self._ctx = ctx

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

    @staticmethod
    async def _json_object(request: web.Request) -> dict[str, object]:
        try:
            payload = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "bad_request", "The body must be a JSON object") from None
        return expect_object(payload)

    @staticmethod
    def _name(body: dict[str, object]) -> str:
        name = clean_display_name(get_str(body, "name", max_length=_MAX_RAW_FIELD))
        if not name:
            raise ApiError(422, "invalid", "'name' must not be blank")
        return name

    def _session_answer(self, session: SessionRecord, name: str, role: Role) -> dict[str, object]:
        identity = Identity(new_id(), session.id, name, role)
        return {
            "session": session_json(session),
            "userId": identity.user_id,
            "token": self._ctx.tokens.issue(identity),
        }

    # --- handlers -------------------------------------------------------------
    async def info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"version": __version__, "maxUploadBytes": self._ctx.config.max_upload_bytes}
        )

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def create_session(self, request: web.Request) -> web.Response:
        body = await self._json_object(request)
        title = clean_title(get_str(body, "title", max_length=_MAX_RAW_FIELD))
        if not title:
            raise ApiError(422, "invalid", "'title' must not be blank")
        name = self._name(body)
        session = SessionRecord(new_id(), title, new_invite(), utc_now_iso())
        await self._ctx.storage.create_session(session)
        answer = self._session_answer(session, name, "host")
        answer["invite"] = session.invite
        return web.json_response(answer, status=201)

    async def join_session(self, request: web.Request) -> web.Response:
        body = await self._json_object(request)
        name = self._name(body)
        invite = get_str(body, "invite", max_length=_MAX_RAW_FIELD)
        session = await self._ctx.storage.get_session(request.match_info["sid"])
        if session is None:
            raise ApiError(404, "not_found", "No such session")
        if not hmac.compare_digest(invite.encode(), session.invite.encode()):
            raise ApiError(403, "forbidden", "The invite code is not valid for this session")
        return web.json_response(self._session_answer(session, name, "participant"))

    async def list_resources(self, request: web.Request) -> web.Response:
        identity = self._identity(request)
        try:
            listing = await self._ctx.storage.list_resources(identity.session_id)
        except SessionNotFound:
            raise ApiError(404, "not_found", "No such session") from None
        return web.json_response({
            "revision": listing.revision,
            "resources": [resource_json(r) for r in listing.resources],
        })

    async def upload_resource(self, request: web.Request) -> web.Response:
        identity = self._identity(request)
        if await self._ctx.storage.get_session(identity.session_id) is None:
            raise ApiError(404, "not_found", "No such session")
        upload = await receive_upload(request, self._ctx.blobs,
                                      self._ctx.config.max_upload_bytes)
        resource, revision = await self._ctx.resources.add(identity, upload)
        return web.json_response(
            {"resource": resource_json(resource), "revision": revision}, status=201
        )

    async def download_resource(self, request: web.Request) -> web.StreamResponse:
        identity = self._identity(request)
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
        identity = self._identity(request)
        revision = await self._ctx.resources.delete(identity, request.match_info["rid"])
        return web.json_response({"revision": revision})
