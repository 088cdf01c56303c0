"""Fuzz the REST surface from its OpenAPI description: no 5xx, answers as documented.

The document is the one the server serves at ``/api/openapi.json``
(``conference_gui/server/openapi.py``). Every generated request is sent three
ways: as generated (random ids, random or no token), with a real token, and
with a real token on the real session and a real resource id — so the fuzz
reaches past authentication into the handlers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from conference_gui.server import ServerConfig, ServerThread
from conference_gui.server.openapi import PATH, openapi_document
from tests.conftest import Meeting

from .conftest import MAX_UPLOAD_MB, figure

schema = schemathesis.openapi.from_dict(openapi_document())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class Target:
    def __init__(self, url: str) -> None:
        self.url = url
        self.meeting = Meeting(url)
        self.rids = [
            self.meeting.upload(self.meeting.host, f"seed-{i}.txt", b"seed")["resource"]["id"]
            for i in range(3)
        ]
        self.calls = 0
        self.statuses: dict[int, int] = {}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data = tmp_path_factory.mktemp("fuzz") / "server-data"
    srv = ServerThread(ServerConfig(port=0, data_dir=data, max_upload_mb=MAX_UPLOAD_MB))
    srv.start()
    try:
        found = Target(srv.url)
        yield found
        figure("rest_fuzz_requests", found.calls)
        figure("rest_fuzz_status_codes", dict(sorted(found.statuses.items())))
    finally:
        srv.stop()


def test_the_served_document_is_the_contract(target: Target) -> None:
    served = requests.get(f"{target.url}{PATH}", timeout=10)
    assert served.status_code == 200
    assert served.json() == openapi_document()
    assert served.json()["openapi"].startswith("3.")


def test_the_document_covers_every_route(target: Target) -> None:
    from conference_gui.server import build_app

    app = build_app(ServerConfig(port=0, data_dir=Path("/nonexistent-never-opened")))
    documented = {
        (m.upper(), p)
        for p, item in openapi_document()["paths"].items()
        for m in item
        if m != "parameters"
    }
    served = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if path.startswith("/api/") and path != PATH and route.method != "HEAD":
            served.add((route.method, re.sub(r"\{(\w+)\}", r"{\1}", path)))
    assert served == documented


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_errors_and_answers_as_documented(case: Any, target: Target) -> None:
    token = {"Authorization": f"Bearer {target.meeting.host.token}"}
    variants: list[tuple[dict[str, str] | None, dict[str, str]]] = [(None, {})]
    if case.path_parameters is not None or case.operation.path.startswith("/api/sessions"):
        real = {"sid": target.meeting.session_id}
        if "rid" in (case.path_parameters or {}):
            real["rid"] = target.rids[target.calls % len(target.rids)]
        variants += [(token, {}), (token, real)]
    original = dict(case.path_parameters or {})
    for headers, params in variants:
        if case.path_parameters is not None:
            case.path_parameters = {**original, **params}
        response = case.call(base_url=target.url, headers=headers, timeout=10)
        target.calls += 1
        target.statuses[response.status_code] = target.statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS)
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
