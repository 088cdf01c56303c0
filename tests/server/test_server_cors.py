"""Browser pages from another origin can use the server (SPEC section 2: "Browsers
are participants too"): REST with CORS, and Socket.IO's default long-polling
transport, which a browser may only read with ``Access-Control-Allow-Origin``.

Found by tests/browser: socket.io-client 4 in Chromium, with its default
transports, failed every connect with "xhr poll error" against this server.
"""

from __future__ import annotations

import requests

from conference_gui.server import ServerThread

from .support import TIMEOUT, Api

PAGE = "http://127.0.0.1:9"  # a page's origin: another port than the server's


def test_socketio_polling_answers_a_page_of_another_origin(srv: ServerThread, api: Api) -> None:
    host = api.create()
    query = {"EIO": "4", "transport": "polling", "token": host.token,
             "sessionId": host.session_id, "userId": host.user_id}
    preflight = requests.options(f"{srv.url}/socket.io/", params=query, timeout=TIMEOUT,
                                 headers={"Origin": PAGE, "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == PAGE
    r = requests.get(f"{srv.url}/socket.io/", params=query, headers={"Origin": PAGE},
                     timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.text.startswith("0{")  # the engine.io open packet
    # Exactly one Allow-Origin (two would make the browser refuse the answer).
    assert r.raw.headers.getlist("Access-Control-Allow-Origin") == [PAGE]
    assert "Access-Control-Allow-Credentials" not in r.headers  # tokens, never cookies


def test_rest_answers_a_page_of_another_origin(srv: ServerThread, api: Api) -> None:
    host = api.create()
    join_url = api.sessions_url(host.session_id, "/join")
    preflight = requests.options(join_url, timeout=TIMEOUT, headers={
        "Origin": PAGE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "authorization" in allowed

    joined = requests.post(join_url, json={"name": "Carol", "invite": host.invite},
                           headers={"Origin": PAGE}, timeout=TIMEOUT)
    assert joined.status_code == 200
    assert joined.headers["Access-Control-Allow-Origin"] == "*"
    refused = requests.post(join_url, json={"name": "Eve", "invite": "wrong"},
                            headers={"Origin": PAGE}, timeout=TIMEOUT)
    assert refused.status_code == 403  # errors are readable by the page too
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert refused.json()["error"]["code"] == "forbidden"

    uploaded = api.upload(host, "notes.txt", b"hello").json()["resource"]
    download = requests.get(
        api.sessions_url(host.session_id, f"/resources/{uploaded['id']}/content"),
        headers={**host.auth, "Origin": PAGE}, timeout=TIMEOUT)
    assert download.status_code == 200
    assert download.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Disposition" in download.headers["Access-Control-Expose-Headers"]


def test_without_an_origin_nothing_changes(srv: ServerThread, api: Api) -> None:
    host = api.create()
    r = requests.get(api.sessions_url(host.session_id, "/resources"), headers=host.auth,
                     timeout=TIMEOUT)
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers
    # A plain OPTIONS (not a browser's preflight) is still a wrong method.
    r = requests.options(api.sessions_url(host.session_id, "/resources"), timeout=TIMEOUT)
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
