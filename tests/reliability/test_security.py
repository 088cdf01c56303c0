"""Security: tokens on every route, cross-session isolation, secrets, paths, binding.

Every refusal must be 401/403/404 in the one error shape and carry no data of
the session it refuses; the session must be unchanged afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import socketio

from conference_gui.server import ServerConfig, ServerThread
from conference_gui.server.cli import build_parser
from tests.conftest import Loop, Meeting, Member, until
from tests.server.support import NS, Api, Peer
from tests.server.support import Member as SMember

from .conftest import Hooks, ServerProcess, figure
from .support import server_state

# --- the token matrix -----------------------------------------------------------------


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def bad_tokens(
    secret: bytes, good: Member, foreign: Member
) -> dict[str, tuple[str | None, int, str]]:
    """name -> (Authorization header value or None, expected status, expected code)."""
    claims = _claims(good.token)
    sign: Callable[[dict[str, Any], bytes], str] = lambda c, k: jwt.encode(  # noqa: E731
        c, k, algorithm="HS256"
    )
    return {
        "missing": (None, 401, "unauthorized"),
        "not bearer": (f"Basic {good.token}", 401, "unauthorized"),
        "empty bearer": ("Bearer ", 401, "unauthorized"),
        "garbage": ("Bearer not-a-token", 401, "unauthorized"),
        "truncated": (f"Bearer {good.token[:-3]}", 401, "unauthorized"),
        "expired": (
            f"Bearer {sign(claims | {'exp': int(time.time()) - 5}, secret)}",
            401,
            "token_expired",
        ),
        "forged (other key)": (f"Bearer {sign(claims, b'k' * 32)}", 401, "unauthorized"),
        "forged role": (f"Bearer {sign(claims | {'role': 'admin'}, secret)}", 401, "unauthorized"),
        "alg none": (f"Bearer {jwt.encode(claims, None, algorithm='none')}", 401, "unauthorized"),
        "no exp": (
            f"Bearer {sign({k: v for k, v in claims.items() if k != 'exp'}, secret)}",
            401,
            "unauthorized",
        ),
        "foreign session": (f"Bearer {foreign.token}", 403, "forbidden"),
    }


def test_every_rest_route_refuses_bad_tokens_with_no_data(
    hooked: ServerThread, hmeeting: Meeting, tmp_path: Path
) -> None:
    secret = (tmp_path / "server-data" / "secret.key").read_bytes()
    foreign = Meeting(hooked.url, title="Other", host_name="Eve").host
    shared = hmeeting.upload(hmeeting.host, "private-agenda.txt", b"TOP-SECRET-BYTES")
    rid = shared["resource"]["id"]
    before = server_state(hmeeting)
    base = f"{hmeeting.url}/api/sessions/{hmeeting.session_id}"
    routes = [
        ("GET", f"{base}/resources", {}),
        ("POST", f"{base}/resources", {"files": {"file": ("x.txt", b"intruder")}}),
        ("GET", f"{base}/resources/{rid}/content", {}),
        ("DELETE", f"{base}/resources/{rid}", {}),
    ]
    checked = 0
    for kind, (header, status, code) in bad_tokens(secret, hmeeting.host, foreign).items():
        for method, url, kw in routes:
            headers = {"Authorization": header} if header is not None else {}
            r = requests.request(method, url, headers=headers, timeout=10, **kw)
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), (
                kind,
                method,
                url,
                r.text,
            )
            assert set(r.json()) == {"error"}
            assert "private-agenda" not in r.text and "TOP-SECRET" not in r.text
            assert rid not in r.text
            checked += 1
    assert server_state(hmeeting) == before
    figure("rest_bad_token_requests_refused", checked)


def test_participant_cannot_delete_others_and_unknown_ids_are_404(
    hooked: ServerThread, hmeeting: Meeting
) -> None:
    bob, cat = hmeeting.join("Bob"), hmeeting.join("Cat")
    rid = hmeeting.upload(bob, "bobs.txt", b"bob")["resource"]["id"]
    base = f"{hmeeting.url}/api/sessions/{hmeeting.session_id}"

    def call(method: str, url: str, who: Member) -> tuple[int, str]:
        r = requests.request(
            method, url, headers={"Authorization": f"Bearer {who.token}"}, timeout=10
        )
        return r.status_code, r.json()["error"]["code"] if r.status_code >= 400 else ""

    assert call("DELETE", f"{base}/resources/{rid}", cat) == (403, "forbidden")
    for missing in ("0" * 24, "nope", "ffffffffffffffffffffffff"):
        assert call("DELETE", f"{base}/resources/{missing}", bob) == (404, "not_found")
        assert call("GET", f"{base}/resources/{missing}/content", bob) == (404, "not_found")
    assert call("GET", f"{hmeeting.url}/api/sessions/{'f' * 24}/resources", hmeeting.host) == (
        403,
        "forbidden",
    )
    r = requests.post(
        f"{hmeeting.url}/api/sessions/{'f' * 24}/join",
        json={"name": "X", "invite": hmeeting.invite},
        timeout=10,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    for body in (b"", b"not json", b"[1,2]", b"\xff\xfe", b'{"title": '):
        r = requests.post(
            f"{hmeeting.url}/api/sessions",
            data=body,
            timeout=10,
            headers={"Content-Type": "application/json"},
        )
        assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_request"), body
    assert call("DELETE", f"{base}/resources/{rid}", hmeeting.host) == (200, "")


def test_socket_connect_refuses_bad_tokens(
    hooked: ServerThread, hmeeting: Meeting, tmp_path: Path
) -> None:
    secret = (tmp_path / "server-data" / "secret.key").read_bytes()
    foreign = Meeting(hooked.url, title="Other", host_name="Eve").host

    async def refusal(auth: Any, query: str = "") -> Any:
        sio = socketio.AsyncClient(reconnection=False)
        refused: list[Any] = []
        events: list[Any] = []
        sio.on("connect_error", refused.append, namespace=NS)
        sio.on("*", lambda *a: events.append(a), namespace=NS)
        try:
            with pytest.raises(socketio.exceptions.ConnectionError):
                await sio.connect(
                    hooked.url + query,
                    auth=auth,
                    namespaces=[NS],
                    transports=["websocket"],
                    wait_timeout=5,
                )
        finally:
            await sio.shutdown()
        assert events == []
        return refused[0]

    async def main() -> None:
        for kind, (header, _status, code) in bad_tokens(secret, hmeeting.host, foreign).items():
            if kind == "not bearer":
                continue  # an HTTP header form; the socket takes the bare token
            token = header.partition(" ")[2] if header else None
            query = f"?sessionId={hmeeting.session_id}"
            if kind == "foreign session":
                code = "unauthorized"
            got = await refusal({"token": token} if token else {}, query)
            assert got["code"] == code and got["message"], (kind, got)
        # A foreign token that does get in (no query) cannot join another session.
        async with Peer(
            hooked.url, SMember(foreign_sid, foreign.user_id, foreign.token, "Eve")
        ) as peer:
            ack = await peer.call("join-session", {"sessionId": hmeeting.session_id})
            assert ack["error"]["code"] == "forbidden"
            assert "participants" not in ack
        assert await asyncio.to_thread(Hooks(hooked.url).connections, hmeeting.session_id) == 0

    foreign_sid = _claims(foreign.token)["sid"]
    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_client_of_session_b_hears_nothing_of_a(hooked: ServerThread) -> None:
    api = Api(hooked.url)
    a_host = api.create("A", "Ann")
    a_guest = api.join(a_host, "Al")
    b_host = api.create("B", "Bea")

    async def main() -> None:
        async with (
            Peer(api.url, a_host) as pa,
            Peer(api.url, a_guest) as pg,
            Peer(api.url, b_host) as pb,
        ):
            for p in (pa, pg, pb):
                await p.join()
            await pa.call("raise-hand", {"raised": True})
            await pa.call("chat-message", {"text": "A only"})
            poll = (await pa.call("poll-create", {"question": "Q", "options": ["x", "y"]}))["poll"]
            await pg.call("poll-vote", {"pollId": poll["id"], "option": 0})
            await pa.call("poll-close", {"pollId": poll["id"]})
            await pa.call("signal", {"to": a_guest.user_id, "data": {"sdp": "offer"}})
            # B tries to reach into A over the socket too.
            assert "error" in await pb.call("signal", {"to": a_guest.user_id, "data": {}})
            assert "error" in await pb.call("poll-vote", {"pollId": poll["id"], "option": 0})
            rid = (await asyncio.to_thread(api.upload_ok, a_host))["resource"]["id"]
            assert (await asyncio.to_thread(api.delete, a_host, rid)).status_code == 200
            await pg.wait_for("resource-deleted")
            await pb.call("chat-message", {"text": "marker"})
            await pb.wait_for("chat-message")
            # B heard only itself: its own arrival and its own marker.
            assert [name for name, _ in pb.events] == ["participant-joined", "chat-message"]
            heard_by_b = repr(pb.events)
            for foreign in (a_host.user_id, a_guest.user_id, poll["id"], rid, "A only"):
                assert foreign not in heard_by_b
            heard = {name for name, _ in pg.events}
            assert {
                "participant-updated",
                "chat-message",
                "poll-created",
                "poll-updated",
                "poll-closed",
                "signal",
                "resource-uploaded",
                "resource-deleted",
            } <= heard

    asyncio.run(asyncio.wait_for(main(), 60))


# --- expiry, secrets, paths, binding ----------------------------------------------------


def test_an_expiring_token_is_explained_to_the_person(
    aloop: Loop, hooked: ServerThread, hooks: Hooks, hmeeting: Meeting, windows: Any, tmp_path: Path
) -> None:
    secret = (tmp_path / "server-data" / "secret.key").read_bytes()
    claims = _claims(hmeeting.host.token) | {"exp": int(time.time()) + 3}
    short = Member(hmeeting.host.user_id, jwt.encode(claims, secret, algorithm="HS256"), "Ann")
    win = windows(hmeeting, short)
    seen: list[str] = []
    win.features["resources"].controller.error_message.connect(seen.append)
    src = tmp_path / "late.txt"
    src.write_bytes(b"late")

    async def story() -> None:
        await until(lambda: win.socket.is_ready)
        await asyncio.sleep(max(0.0, claims["exp"] - time.time()) + 1.1)
        [transfer] = win.features["resources"].dock.upload([src])
        await until(lambda: transfer.finished)
        assert any("expired" in m for m in seen), seen
        await asyncio.to_thread(hooks.drop, win.socket.sid)
        # Final: the window closes and the app says why ("You were disconnected …").
        await until(lambda: win.left_because is not None, timeout=20)
        assert "expired" in win.left_detail.lower(), win.left_detail

    aloop.run(story())
    assert server_state(hmeeting) == (0, [])


def _secret_forms(secret: bytes) -> list[bytes]:
    return [
        secret,
        secret.hex().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
        repr(secret).encode(),
    ]


def test_the_secret_and_tokens_never_reach_the_logs(
    aloop: Loop,
    windows: Any,
    tmp_path: Path,
    server_processes: list[ServerProcess],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A server process logging at INFO, and the client at DEBUG, through a whole session
    with errors (bad tokens, refused uploads, a dropped connection)."""
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    proc = ServerProcess(data)
    server_processes.append(proc)
    meeting = Meeting(proc.url)
    win = windows(meeting, meeting.host)
    hooks = Hooks(proc.url)
    bad = Member(meeting.host.user_id, meeting.host.token[:-3] + "xyz", "Ann")
    bad_win = windows(meeting, bad)

    async def story() -> None:
        await until(lambda: win.socket.is_ready and bad_win.left_because is not None)
        meeting.upload(meeting.host, "a.txt", b"a")
        requests.get(
            f"{proc.url}/api/sessions/{meeting.session_id}/resources",
            headers={"Authorization": f"Bearer {bad.token}"},
            timeout=10,
        )
        requests.post(
            f"{proc.url}/api/sessions/{meeting.session_id}/resources",
            timeout=10,
            data=b"junk",
            headers={"Authorization": f"Bearer {meeting.host.token}"},
        )
        old_sid = win.socket.sid
        await asyncio.to_thread(hooks.drop, old_sid)
        await until(
            lambda: (
                win.socket.is_ready
                and win.socket.sid != old_sid
                and win.features["resources"].model.rowCount() == 1
            ),
            timeout=20,
        )

    aloop.run(story())
    proc.stop()
    secret = (data / "secret.key").read_bytes()
    server_log = proc.log_path.read_bytes()
    client_log = "\n".join(
        r.getMessage() + str(r.args) + str(r.exc_text) for r in caplog.records
    ).encode()
    assert server_log and caplog.records
    for form in _secret_forms(secret):
        assert form not in server_log and form not in client_log
    for token in (meeting.host.token, bad.token):
        assert token.encode() not in server_log
        assert token.encode() not in client_log
    figure("log_bytes_scanned_for_secret", len(server_log) + len(client_log), "B")


@pytest.mark.parametrize(
    "rid",
    [
        "../secret.key",
        "..%2Fsecret.key",
        "%2e%2e%2fsecret.key",
        "..%252Fsecret.key",
        "%2Fetc%2Fpasswd",
        "..\\secret.key",
        "....//....//etc//passwd",
        "secret.key",
        "00000000000000000000000%00",
        "FILES",
        ".",
    ],
)
def test_downloads_cannot_read_any_path(
    hooked: ServerThread, hmeeting: Meeting, tmp_path: Path, rid: str
) -> None:
    hmeeting.upload(hmeeting.host, "real.txt", b"real bytes")
    secret = (tmp_path / "server-data" / "secret.key").read_bytes()
    for tail in (f"resources/{rid}/content", f"resources/{rid}"):
        url = f"{hmeeting.url}/api/sessions/{hmeeting.session_id}/{tail}"
        r = requests.get(
            url, headers={"Authorization": f"Bearer {hmeeting.host.token}"}, timeout=10
        )
        assert r.status_code in (404, 405), (url, r.status_code)
        assert r.json()["error"]["code"] in ("not_found", "method_not_allowed")
        assert secret not in r.content and b"root:" not in r.content
        assert b"real bytes" not in r.content


def test_stored_files_never_leave_the_data_dir(
    hooked: ServerThread, hmeeting: Meeting, tmp_path: Path
) -> None:
    names = [
        "../../escape.txt",
        "/tmp/abs.txt",
        "..\\..\\win.txt",
        "a/../../b.txt",
        "~/home.txt",
        "$(touch pwned).txt",
        "x" * 300,
        ".",
        "..",
        "con.txt",
        "\u202e.exe",
    ]
    ids = [hmeeting.upload(hmeeting.host, n, b"z")["resource"]["id"] for n in names]
    data = tmp_path / "server-data"
    outside = [p for p in tmp_path.rglob("*") if data not in p.parents and p != data]
    assert outside == [], outside
    assert sorted(p.name for p in (data / "files").iterdir()) == sorted(ids)
    assert not Path("/tmp/abs.txt").exists() and not Path("pwned").exists()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port``, read from the kernel's
    tables (/proc/net/tcp*) — no traffic to any address but loopback."""
    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port and len(address) == width:
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:  # four little-endian 32-bit words
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_the_server_binds_loopback_by_default(
    tmp_path: Path, server_processes: list[ServerProcess]
) -> None:
    assert ServerConfig().host == "127.0.0.1"
    assert build_parser().parse_args([]).host == "127.0.0.1"
    proc = ServerProcess(tmp_path / "data", hooks=False)
    server_processes.append(proc)
    assert proc.url.startswith("http://127.0.0.1:")
    assert requests.get(f"{proc.url}/api/_test/connections", timeout=10).status_code == 404
    listening = _listening_addresses(proc.port)
    figure("listening_addresses", sorted(listening))
    # Bound to loopback only: nothing on a wildcard or a network address.
    assert listening == {"127.0.0.1"}, listening
