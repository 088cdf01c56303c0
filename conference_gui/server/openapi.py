"""``GET /api/openapi.json``: the REST part of the wire contract as an OpenAPI 3.1 document.

The schemas are generated from the protocol's types (``conference_gui.protocol``,
``msgspec.json.schema_components``) — the same types the server validates
with and the client decodes with — so the document cannot drift from either.
What is written here by hand is only the routing: paths, operations and which
statuses each answers (``docs/WIRE.md``). ``tests/reliability/test_fuzz_rest.py``
fuzzes every operation here and checks the answers against these schemas.

The Socket.IO events are not HTTP operations; their payload schemas are in
``components.schemas`` too, and ``x-socketio`` names them per event.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import msgspec
from aiohttp import web

from conference_gui import __version__
from conference_gui import protocol as wire

PATH = "/api/openapi.json"
_REF = "#/components/schemas/{name}"
_JSON = "application/json"

_ID = {"type": "string", "minLength": 1}
_SID = {"name": "sid", "in": "path", "required": True, "schema": _ID}
_RID = {"name": "rid", "in": "path", "required": True, "schema": _ID}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
# Every route may also answer 405 (wrong method).
_ANY = (405,)

#: Every type whose schema is in the document.
_REST_TYPES: list[type[Any]] = [
    wire.Error, wire.ServerInfo, wire.Ok, wire.CreateSessionBody, wire.JoinSessionBody,
    wire.SessionCreated, wire.SessionJoined, wire.ResourceList, wire.ResourceStored,
    wire.RevisionAnswer,
]


def _ref(kind: type[Any]) -> dict[str, str]:
    return {"$ref": _REF.format(name=kind.__name__)}


def _json_answer(description: str, kind: type[Any]) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": _ref(kind)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": "#/components/responses/Error"} for s in statuses}


def _json_body(kind: type[Any]) -> dict[str, Any]:
    return {"required": True, "content": {_JSON: {"schema": _ref(kind)}}}


_PATHS: dict[str, Any] = {
    "/api/info": {
        "get": {
            "operationId": "info",
            "summary": "Server version and upload limit (addition)",
            "responses": {"200": _json_answer("Server facts", wire.ServerInfo), **_errors(*_ANY)},
        }
    },
    "/api/health": {
        "get": {
            "operationId": "health",
            "summary": "Liveness (addition)",
            "responses": {"200": _json_answer("Alive", wire.Ok), **_errors(*_ANY)},
        }
    },
    "/api/sessions": {
        "post": {
            "operationId": "createSession",
            "summary": "Create a meeting; the creator is its host",
            "requestBody": _json_body(wire.CreateSessionBody),
            "responses": {
                "201": _json_answer("Created", wire.SessionCreated),
                **_errors(400, 413, 415, 422, 429, *_ANY),
            },
        }
    },
    "/api/sessions/{sid}/join": {
        "parameters": [_SID],
        "post": {
            "operationId": "joinSession",
            "summary": "Join with the invite code; role participant",
            "requestBody": _json_body(wire.JoinSessionBody),
            "responses": {
                "200": _json_answer("Joined", wire.SessionJoined),
                **_errors(400, 403, 404, 410, 413, 415, 422, 429, *_ANY),
            },
        },
    },
    "/api/sessions/{sid}/resources": {
        "parameters": [_SID],
        "get": {
            "operationId": "listResources",
            "summary": "The session's resources, newest first, and their revision",
            "security": _BEARER,
            "responses": {
                "200": _json_answer("The list", wire.ResourceList),
                **_errors(401, 403, 404, 410, *_ANY),
            },
        },
        "post": {
            "operationId": "uploadResource",
            "summary": "Share a file (multipart/form-data, field 'file')",
            "security": _BEARER,
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            },
            "responses": {
                "201": _json_answer("Stored", wire.ResourceStored),
                **_errors(400, 401, 403, 404, 408, 410, 413, 415, 422, 429, 507, *_ANY),
            },
        },
    },
    "/api/sessions/{sid}/resources/{rid}/content": {
        "parameters": [_SID, _RID],
        "get": {
            "operationId": "downloadResource",
            "summary": "The bytes, as an attachment",
            "security": _BEARER,
            "responses": {
                "200": {
                    "description": "The file's bytes",
                    "headers": {
                        "Content-Disposition": {
                            "required": True,
                            "schema": {"type": "string", "pattern": "^attachment"},
                        }
                    },
                    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                },
                **_errors(401, 403, 404, 410, *_ANY),
            },
        },
    },
    "/api/sessions/{sid}/resources/{rid}": {
        "parameters": [_SID, _RID],
        "delete": {
            "operationId": "deleteResource",
            "summary": "Delete (uploader or host only)",
            "security": _BEARER,
            "responses": {
                "200": _json_answer("Deleted", wire.RevisionAnswer),
                **_errors(401, 403, 404, 410, *_ANY),
            },
        },
    },
}


@functools.cache
def _components() -> tuple[dict[str, Any], dict[str, Any]]:
    """The schemas of every type, and which schema each Socket.IO event carries."""
    events = sorted({*wire.CLIENT_EVENTS.values(), *wire.SERVER_EVENTS.values(),
                     *wire.CLIENT_ACKS.values()}, key=lambda t: t.__name__)
    _, schemas = msgspec.json.schema_components([*_REST_TYPES, *events], ref_template=_REF)
    socketio = {
        "namespace": "/video",
        "clientToServer": {
            name: {"payload": _ref(kind), "ack": {"oneOf": [_ref(wire.CLIENT_ACKS[name]),
                                                            _ref(wire.Error)]}}
            for name, kind in wire.CLIENT_EVENTS.items()
        },
        "serverToClient": {name: {"payload": _ref(kind)}
                           for name, kind in wire.SERVER_EVENTS.items()},
    }
    return schemas, socketio


def openapi_document() -> dict[str, Any]:
    """The document, fresh each call (callers may mutate it)."""
    schemas, socketio = _components()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "conference-gui reference server — wire contract (REST)",
            "version": __version__,
            "description": "Every 4xx/5xx answer is an Error object. Socket.IO "
            "(namespace /video) is described in docs/WIRE.md; its payload schemas are "
            "in components.schemas and listed per event under x-socketio.",
        },
        "paths": copy.deepcopy(_PATHS),
        "components": {
            "schemas": copy.deepcopy(schemas),
            "responses": {"Error": _json_answer("Refused; show `message`, branch on `code`",
                                                wire.Error)},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "x-socketio": copy.deepcopy(socketio),
    }


async def serve_openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def openapi_route() -> web.RouteDef:
    return web.get(PATH, serve_openapi)
