"""REST: sessions, info/health, authentication and the JSON error shape."""

from __future__ import annotations

import os
import time
from pathlib import Path

import jwt
import pytest
import requests

from conference_gui import __version__
from conference_gui.server import ServerConfig, ServerThread

from .conftest import MAX_UPLOAD_MB
from .support import TIMEOUT, Api, Member, error_of


def _claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def _forge(data_dir: Path, member: Member, **override: object) -> str:
    """A token signed with the server's own secret, with claims changed."""
    claims = _claims(member.token) | override
    return jwt.encode(claims, (data_dir / "secret.key").read_bytes(), algorithm="HS256")


def test_info_and_health(api: Api) -> None:
    info = requests.get(f"{api.url}/api/info", timeout=TIMEOUT)
    assert info.status_code == 200
    assert info.json() == {"version": __version__,
                           "maxUploadBytes": MAX_UPLOAD_MB * 1024 * 1024}
    health = requests.get(f"{api.url}/api/health", timeout=TIMEOUT)
    assert (health.status_code, health.json()) == (200, {"ok": True})


def test_create_session_makes_the_creator_host(api: Api) -> None:
    r = requests.post(f"{api.url}/api/sessions", json={"title": "Standup", "name": "Ann"},
                      timeout=TIMEOUT)
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"session", "userId", "token", "invite"}
    assert body["session"] == {"id": body["session"]["id"], "title": "Standup"}
    assert len(body["invite"]) >= 20
    claims = _claims(body["token"])
    assert claims["sub"] == body["userId"]
    assert claims["sid"] == body["session"]["id"]
    assert (claims["name"], claims["role"]) == ("Ann", "host")
    assert int(claims["exp"]) > time.time() + 3600  # type: ignore[call-overload]


def test_sessions_are_distinct(api: Api) -> None:
    a, b = api.create(), api.create()
    assert a.session_id != b.session_id and a.invite != b.invite and a.user_id != b.user_id


def test_join_with_the_invite(api: Api) -> None:
    host = api.create(title="Retro")
    r = requests.post(api.sessions_url(host.session_id, "/join"),
                      json={"name": "Bob", "invite": host.invite}, timeout=TIMEOUT)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"session", "userId", "token"}
    assert body["session"] == {"id": host.session_id, "title": "Retro"}
    claims = _claims(body["token"])
    assert (claims["sub"], claims["sid"], claims["role"]) == (
        body["userId"], host.session_id, "participant")


def test_join_refusals(api: Api) -> None:
    host = api.create()
    wrong = requests.post(api.sessions_url(host.session_id, "/join"),
                          json={"name": "Eve", "invite": "guess"}, timeout=TIMEOUT)
    assert error_of(wrong) == (403, "forbidden")
    unknown = requests.post(api.sessions_url("nope", "/join"),
                            json={"name": "Eve", "invite": host.invite}, timeout=TIMEOUT)
    assert error_of(unknown) == (404, "not_found")
    other = api.create()
    crossed = requests.post(api.sessions_url(host.session_id, "/join"),
                            json={"name": "Eve", "invite": other.invite}, timeout=TIMEOUT)
    assert error_of(crossed) == (403, "forbidden")


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b"42", b'"text"', b"null",
                                  b"\xff\xfe"])
def test_bodies_that_are_not_json_objects(api: Api, body: bytes) -> None:
    r = requests.post(f"{api.url}/api/sessions", data=body,
                      headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert error_of(r) == (400, "bad_request")


@pytest.mark.parametrize("body", [
    {},
    {"title": "T"},
    {"name": "Ann"},
    {"title": 5, "name": "Ann"},
    {"title": "T", "name": ["Ann"]},
    {"title": "   ", "name": "Ann"},
    {"title": "T", "name": "\u0000\u0007\u202e "},
    {"title": "T", "name": "x" * 1001},
])
def test_invalid_fields(api: Api, body: dict[str, object]) -> None:
    r = requests.post(f"{api.url}/api/sessions", json=body, timeout=TIMEOUT)
    assert error_of(r) == (422, "invalid")


def test_join_needs_name_and_invite(api: Api) -> None:
    host = api.create()
    for body in ({"name": "Bob"}, {"invite": host.invite}, {"name": "", "invite": host.invite}):
        r = requests.post(api.sessions_url(host.session_id, "/join"), json=body, timeout=TIMEOUT)
        assert error_of(r) == (422, "invalid")


def test_names_are_cleaned(api: Api) -> None:
    r = requests.post(f"{api.url}/api/sessions",
                      json={"title": " Weekly\tsync\n", "name": "  Zoë\u202e \n Müller\u0000 "},
                      timeout=TIMEOUT)
    body = r.json()
    assert body["session"]["title"] == "Weekly sync"
    assert _claims(body["token"])["name"] == "Zoë Müller"


def test_json_body_over_one_mebibyte_is_413(api: Api) -> None:
    r = requests.post(f"{api.url}/api/sessions", data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                      headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert error_of(r) == (413, "too_large")


def test_missing_or_malformed_authorization(api: Api) -> None:
    host = api.create()
    url = api.sessions_url(host.session_id, "/resources")
    for headers in ({}, {"Authorization": ""}, {"Authorization": f"Basic {host.token}"},
                    {"Authorization": "Bearer"}, {"Authorization": "Bearer not.a.jwt"}):
        r = requests.get(url, headers=headers, timeout=TIMEOUT)
        assert error_of(r) == (401, "unauthorized"), headers


def test_tampered_and_foreign_secret_tokens(api: Api, data_dir: Path) -> None:
    host = api.create()
    url = api.sessions_url(host.session_id, "/resources")
    other_secret = jwt.encode(_claims(host.token), b"x" * 32, algorithm="HS256")
    as_host = _forge(data_dir, host, role="admin")
    no_sid = jwt.encode({k: v for k, v in _claims(host.token).items() if k != "sid"},
                        (data_dir / "secret.key").read_bytes(), algorithm="HS256")
    unsigned = jwt.encode(_claims(host.token), None, algorithm="none")
    for token in (other_secret, as_host, no_sid, unsigned, host.token[:-2]):
        r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
        assert error_of(r) == (401, "unauthorized")


def test_expired_token(api: Api, data_dir: Path) -> None:
    host = api.create()
    expired = _forge(data_dir, host, exp=int(time.time()) - 5)
    r = requests.get(api.sessions_url(host.session_id, "/resources"),
                     headers={"Authorization": f"Bearer {expired}"}, timeout=TIMEOUT)
    assert error_of(r) == (401, "token_expired")


def test_a_token_only_opens_its_own_session(api: Api) -> None:
    a = api.create(name="Ann")
    b = api.create(name="Bea")
    rid = api.upload_ok(a)["resource"]["id"]
    sid = a.session_id
    answers = [
        api.listing(b, session_id=sid),
        api.upload(b, session_id=sid),
        api.download(b, rid, session_id=sid),
        api.delete(b, rid, session_id=sid),
    ]
    assert [error_of(r) for r in answers] == [(403, "forbidden")] * 4
    assert len(api.listed(a)["resources"]) == 1


def test_secret_file_is_private_and_tokens_survive_a_restart(
    srv: ServerThread, data_dir: Path, api: Api
) -> None:
    secret = data_dir / "secret.key"
    assert len(secret.read_bytes()) == 32
    if os.name == "posix":
        assert secret.stat().st_mode & 0o777 == 0o600
    host = api.create()
    api.upload_ok(host)
    srv.stop()
    again = ServerThread(ServerConfig(port=0, data_dir=data_dir))
    again.start()
    try:
        listed = Api(again.url).listed(host)
        assert listed["revision"] == 1 and len(listed["resources"]) == 1
    finally:
        again.stop()


def test_unknown_route_and_wrong_method_answer_json(api: Api) -> None:
    assert error_of(requests.get(f"{api.url}/nope", timeout=TIMEOUT)) == (404, "not_found")
    assert error_of(requests.get(f"{api.url}/api/sessions/x/y/z", timeout=TIMEOUT)) == (
        404, "not_found")
    r = requests.put(f"{api.url}/api/info", timeout=TIMEOUT)
    assert error_of(r) == (405, "method_not_allowed")
    assert "GET" in r.headers["Allow"]
    r = requests.get(f"{api.url}/api/sessions", timeout=TIMEOUT)
    assert error_of(r) == (405, "method_not_allowed")


def test_engineio_errors_answer_json_too(api: Api) -> None:
    r = requests.get(f"{api.url}/socket.io/", params={"EIO": "4", "transport": "bogus"},
                     timeout=TIMEOUT)
    assert error_of(r) == (400, "bad_request")
