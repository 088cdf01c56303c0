"""``GET /api/openapi.json``: the REST part of wire contract v1 as an OpenAPI 3 document.

Written by hand from ``docs/WIRE.md`` (not generated from the handlers), so a
fuzzer that reads it checks the server against the contract rather than
against itself. ``tests/reliability/test_fuzz_rest.py`` fuzzes every
operation here and checks the answers against these schemas.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from conference_gui import __version__

PATH = "/api/openapi.json"

_ID = {"type": "string", "minLength": 1}
_REVISION = {"type": "integer", "minimum": 0}
_JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": "#/components/responses/Error"} for s in statuses}


_SID = {"name": "sid", "in": "path", "required": True, "schema": _ID}
_RID = {"name": "rid", "in": "path", "required": True, "schema": _ID}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
# Every route may also answer 405 (wrong method) or 413 (JSON body over 1 MiB).
_ANY = (405,)

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "minLength": 1},
                    "message": {"type": "string", "minLength": 1},
                },
            }
        },
    },
    "Session": {
        "type": "object",
        "required": ["id", "title"],
        "properties": {"id": _ID, "title": {"type": "string"}},
    },
    "Person": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": _ID, "name": {"type": "string"}},
    },
    "Resource": {
        "type": "object",
        "required": ["id", "sessionId", "name", "size", "contentType", "uploadedBy", "uploadedAt"],
        "properties": {
            "id": _ID,
            "sessionId": _ID,
            "name": {"type": "string", "minLength": 1, "maxLength": 255},
            "size": {"type": "integer", "minimum": 1},
            "contentType": {"type": "string", "minLength": 1},
            "uploadedBy": _ref("Person"),
            "uploadedAt": {"type": "string", "format": "date-time"},
        },
    },
    "CreateSession": {
        "type": "object",
        "required": ["title", "name"],
        "properties": {"title": {"type": "string"}, "name": {"type": "string"}},
    },
    "JoinSession": {
        "type": "object",
        "required": ["name", "invite"],
        "properties": {"name": {"type": "string"}, "invite": {"type": "string"}},
    },
}

_PATHS: dict[str, Any] = {
    "/api/info": {
        "get": {
            "operationId": "info",
            "summary": "Server version and upload limit (addition)",
            "responses": {
                "200": _json_answer(
                    "Server facts",
                    {
                        "type": "object",
                        "required": ["version", "maxUploadBytes"],
                        "properties": {
                            "version": {"type": "string"},
                            "maxUploadBytes": {"type": "integer", "minimum": 1},
                        },
                    },
                ),
                **_errors(*_ANY),
            },
        }
    },
    "/api/health": {
        "get": {
            "operationId": "health",
            "summary": "Liveness (addition)",
            "responses": {
                "200": _json_answer(
                    "Alive",
                    {
                        "type": "object",
                        "required": ["ok"],
                        "properties": {"ok": {"type": "boolean", "enum": [True]}},
                    },
                ),
                **_errors(*_ANY),
            },
        }
    },
    "/api/sessions": {
        "post": {
            "operationId": "createSession",
            "summary": "Create a meeting; the creator is its host",
            "requestBody": {
                "required": True,
                "content": {_JSON: {"schema": _ref("CreateSession")}},
            },
            "responses": {
                "201": _json_answer(
                    "Created",
                    {
                        "type": "object",
                        "required": ["session", "userId", "token", "invite"],
                        "properties": {
                            "session": _ref("Session"),
                            "userId": _ID,
                            "token": {"type": "string"},
                            "invite": {"type": "string"},
                        },
                    },
                ),
                **_errors(400, 413, 415, 422, *_ANY),
            },
        }
    },
    "/api/sessions/{sid}/join": {
        "parameters": [_SID],
        "post": {
            "operationId": "joinSession",
            "summary": "Join with the invite code; role participant",
            "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("JoinSession")}}},
            "responses": {
                "200": _json_answer(
                    "Joined",
                    {
                        "type": "object",
                        "required": ["session", "userId", "token"],
                        "properties": {
                            "session": _ref("Session"),
                            "userId": _ID,
                            "token": {"type": "string"},
                        },
                    },
                ),
                **_errors(400, 403, 404, 413, 415, 422, *_ANY),
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
                "200": _json_answer(
                    "The list",
                    {
                        "type": "object",
                        "required": ["revision", "resources"],
                        "properties": {
                            "revision": _REVISION,
                            "resources": {"type": "array", "items": _ref("Resource")},
                        },
                    },
                ),
                **_errors(401, 403, 404, *_ANY),
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
                "201": _json_answer(
                    "Stored",
                    {
                        "type": "object",
                        "required": ["resource", "revision"],
                        "properties": {"resource": _ref("Resource"), "revision": _REVISION},
                    },
                ),
                **_errors(400, 401, 403, 404, 413, 415, 422, 507, *_ANY),
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
                **_errors(401, 403, 404, *_ANY),
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
                "200": _json_answer(
                    "Deleted",
                    {
                        "type": "object",
                        "required": ["revision"],
                        "properties": {"revision": _REVISION},
                    },
                ),
                **_errors(401, 403, 404, *_ANY),
            },
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """The document, fresh each call (callers may mutate it)."""
    import copy

    return {
        "openapi": "3.0.3",
        "info": {
            "title": "conference-gui reference server — wire contract v1 (REST)",
            "version": __version__,
            "description": "Every 4xx/5xx answer is an Error object. Socket.IO "
            "(namespace /video) is described in docs/WIRE.md.",
        },
        "paths": copy.deepcopy(_PATHS),
        "components": {
            "schemas": copy.deepcopy(_SCHEMAS),
            "responses": {
                "Error": _json_answer("Refused; show `message`, branch on `code`", _ref("Error"))
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


async def serve_openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def openapi_route() -> web.RouteDef:
    return web.get(PATH, serve_openapi)
